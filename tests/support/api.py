"""Helpers for the admin API and console tests: an app with a token and a fake Slack, a synchronous worker."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from router.delivery.deliverer import Deliverer
from router.settings import Settings
from tests.conftest import SECRET, sentry_body, signed_headers
from tests.fakes.fixtures import SLACK_TOKEN

TOKEN = "admin-token-for-tests-0123456789"
API = {"Authorization": f"Bearer {TOKEN}"}
CONSOLE = {"Authorization": "Basic " + base64.b64encode(f"ops:{TOKEN}".encode()).decode()}

RULES = """\
version: 1
targets:
  oncall:
    type: slack
    channel: "#oncall"
  log:
    type: console
rules:
  - name: issues-to-oncall
    match: {resource: issue, level: {gte: error}}
    notify: [oncall]
  - name: resolved-to-log
    match: {resource: issue, action: resolved}
    notify: [log]
"""


@pytest.fixture
def admin_app(tmp_path: Path, fake_slack: Any) -> Iterator[Any]:
    """An app with the admin token, rules sending issues to FakeSlack (use with the fake_slack fixture)."""
    from router.web.app import create_app

    yield create_app(admin_settings(tmp_path, fake_slack.url))


def admin_settings(tmp_path: Path, slack_url: str, rules: str = RULES, **overrides: Any) -> Settings:
    """Settings for an app with the admin token, FakeSlack at `slack_url` and the rules above."""
    path = tmp_path / "rules.yaml"
    path.write_text(rules)
    base: dict[str, Any] = dict(client_secrets=(SECRET,), admin_tokens=(TOKEN,), rules_path=str(path),
                                db_path=str(tmp_path / "router.sqlite3"), templates_path=str(tmp_path / "templates"),
                                slack_bot_token=SLACK_TOKEN, slack_api_url=slack_url, reload_interval=0.0,
                                retry_base=0.05, retry_attempts=2,
                                # `work` sends each job once, at once: no pacing (test_delivery_pacing)
                                slack_rate=0.0)
    return Settings(**{**base, **overrides})


def post_webhook(client: Any, name: str, body: bytes | None = None) -> dict[str, Any]:
    """POST fixture `name` (e.g. issue.created) signed as Sentry signs it; the 202 answer."""
    body = body if body is not None else sentry_body(name)
    resp = client.post("/sentry/webhook", data=body, headers=signed_headers(name.split(".")[0], body))
    assert resp.status_code == 202, resp.data
    return resp.get_json()


def work(app: Any, rounds: int = 1) -> None:
    """Run the worker's steps in this thread: fan out every accepted webhook, then try each due job once."""
    rt = app.extensions["router"]
    store = rt.delivery.store
    deliverer = Deliverer(rt.settings, store, owner="api-test")
    store.kv_set("hb:api-test", "1")
    for _ in range(rounds):
        for webhook_id in store.due_inbound(time.time() + 1, 3600, 10_000):
            rt.delivery.fan_out(webhook_id)
        for job in store.notifications(("queued", "retrying"), 1000):
            deliverer(job.id)
