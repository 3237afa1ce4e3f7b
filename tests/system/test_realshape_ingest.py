"""Real-shape webhooks through the HTTP endpoint: distinct events notify, retries are duplicates, big events fit."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from router.settings import Settings
from router.web.app import create_app
from tests.conftest import SECRET, signed_headers
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.realshape import DISTINCT_PAIRS, NAMES, SAME_EVENT_PAIRS, load, retried, sentry_bytes
from tests.support.delivery import running_worker, wait_for

SLACK_RULES = """\
version: 1
targets:
  oncall: {type: slack, channel: "#oncall", thread: none}
rules:
  - name: everything
    match: {}
    notify: [oncall]
"""


def _post(client, name: str, retry: bool = False) -> dict:
    resource, payload = load(name)
    body = sentry_bytes(retried(payload) if retry else payload)
    resp = client.post("/sentry/webhook", data=body, headers=signed_headers(resource, body))
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return resp.get_json()


@pytest.mark.parametrize("a,b", DISTINCT_PAIRS)
def test_both_events_of_a_distinct_pair_notify(client, a: str, b: str) -> None:
    """Two different things that happened to one subject are both accepted and both matched."""
    first, second = _post(client, a), _post(client, b)
    assert not first["duplicate"] and not second["duplicate"]
    assert first["matched"] == second["matched"] == ["everything"] and first["id"] != second["id"]


@pytest.mark.parametrize("name", NAMES)
def test_a_reserialised_retry_is_a_duplicate_answered_with_the_original_id(client, name: str) -> None:
    """Sentry's retry (new Request-ID, counters moved) is answered 202 duplicate with the original's id."""
    first, again = _post(client, name), _post(client, name, retry=True)
    assert again["duplicate"] is True and again["matched"] == [] and again["id"] == first["id"]


@pytest.mark.parametrize("a,b", SAME_EVENT_PAIRS)
def test_ignored_then_archived_of_one_archive_notifies_once(client, a: str, b: str) -> None:
    """issue.ignored and issue.archived for one archive: the second is a duplicate of the first."""
    first, second = _post(client, a), _post(client, b)
    assert not first["duplicate"] and second["duplicate"] and second["id"] == first["id"]


def _big_error(size: int) -> tuple[str, bytes]:
    resource, payload = load("error.created")
    payload = copy.deepcopy(payload)
    payload["data"]["error"]["extra"] = {"blob": "x" * size}  # an event past 1 MiB once Sentry adds its URLs
    return resource, sentry_bytes(payload)


def test_a_1_2_mib_error_event_is_accepted_and_delivered(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """A 1.2 MiB signed error.created body (over the old 1 MiB limit) gets 202 and reaches Slack."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(SLACK_RULES)
    settings = Settings(client_secrets=(SECRET,), rules_path=str(rules), db_path=str(tmp_path / "r.sqlite3"),
                        templates_path=str(tmp_path / "tpl"), slack_bot_token=SLACK_TOKEN,
                        slack_api_url=fake_slack.url, reload_interval=0.0)
    resource, body = _big_error(int(1.2 * 1024 * 1024))
    assert len(body) > 1.2 * 1024 * 1024
    resp = create_app(settings).test_client().post("/sentry/webhook", data=body, headers=signed_headers(resource, body))
    assert resp.status_code == 202 and resp.get_json()["matched"] == ["everything"]
    with running_worker(settings):
        wait_for(lambda: fake_slack.calls("chat.postMessage"), timeout=20)
    assert "KeyError" in str(fake_slack.calls("chat.postMessage")[0])


def test_a_body_over_the_limit_is_still_refused_unread(tmp_path: Path) -> None:
    """ROUTER_MAX_BODY still holds: one byte over it is a 413, nothing accepted."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(SLACK_RULES)
    resource, body = _big_error(300_000)
    settings = Settings(client_secrets=(SECRET,), rules_path=str(rules), db_path=str(tmp_path / "r.sqlite3"),
                        templates_path=str(tmp_path / "tpl"), max_body=len(body) - 1)
    resp = create_app(settings).test_client().post("/sentry/webhook", data=body, headers=signed_headers(resource, body))
    assert resp.status_code == 413


def test_the_default_body_limit_is_10_mib() -> None:
    """Real error events exceed 1 MiB once Sentry adds its URLs, and a 413 is never retried."""
    assert Settings().max_body == 10 * 1024 * 1024
