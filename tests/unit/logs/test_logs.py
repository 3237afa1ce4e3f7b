"""Logging: every target credential is masked at every level and from every logger, library loggers kept quiet."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.channels.apprise import AppriseChannel
from router.channels.slack.webhook import SlackWebhookChannel
from router.logs import CHATTY, configure_logging
from router.masking import MASK
from router.render import Message
from router.rules.load import load_rules
from router.settings import Settings
from tests.fakes.fixtures import fake_slack, http_sink  # noqa: F401  (fixtures)
from tests.fakes.http_sink import HttpSink
from tests.fakes.slack import FakeSlack

API_KEY = "Ak-7Hq2ZpX9secretvalue"
HOOK_TOKEN = "hookTOKEN9f8e7d6c5b4a"
MESSAGE = Message("text", "title", "body")


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """ROUTER_LOG_LEVEL=DEBUG, the router's handler writing into a buffer; levels are put back afterwards."""
    root, before = logging.getLogger(), logging.getLogger().level
    configure_logging(Settings(log_level="DEBUG"))
    (handler,) = [h for h in root.handlers if getattr(h, "_router", False)]
    buffer = io.StringIO()
    handler.setStream(buffer)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(before)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_library_loggers_stay_at_info_under_debug(debug_logs: io.StringIO) -> None:
    """At ROUTER_LOG_LEVEL=DEBUG the router logs DEBUG, but Apprise, slack_sdk and urllib3 do not dump requests."""
    assert logging.getLogger("router").isEnabledFor(logging.DEBUG)
    for name in CHATTY:
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name


def test_rules_target_credentials_are_masked_even_in_library_debug_lines(
        tmp_path: Path, http_sink: HttpSink, fake_slack: FakeSlack,
        debug_logs: io.StringIO) -> None:
    """Credentials of targets in the rules file are registered as it loads: even with Apprise and urllib3 forced
    to DEBUG, their request lines carry **** in place of the API key and the webhook token."""
    apprise_url = http_sink.apprise_url("hook") + f"?+X-Api-Key={API_KEY}"
    hook = fake_slack.webhook_url.rstrip("/") + f"/T000/B000/{HOOK_TOKEN}"
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"version: 1\ntargets:\n  chat: {{type: apprise, url: ['{apprise_url}']}}\n"
                     f"  hook: {{type: slack, webhook_url: '{hook}'}}\n"
                     "rules:\n  - name: all\n    match: {}\n    notify: [chat, hook]\n")
    ruleset = load_rules(str(rules))
    for name in ("apprise", "slack_sdk"):   # as an operator might, to debug a target
        logging.getLogger(name).setLevel(logging.DEBUG)
    AppriseChannel(ruleset.targets["chat"].options["urls"]).send(MESSAGE)
    SlackWebhookChannel(ruleset.targets["hook"].options["webhook_url"]).send(MESSAGE)
    err = debug_logs.getvalue()
    assert "Loaded JSON URL" in err and "Sending a request - url" in err   # the library lines are there...
    assert API_KEY not in err and HOOK_TOKEN not in err      # ...with the credentials masked
    assert MASK in err
    assert http_sink.requests[0].headers.get("x-api-key") == API_KEY   # and the service still got the key
