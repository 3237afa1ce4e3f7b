"""No installation token, refresh token or client secret in any output of the Sentry-app flow (DESIGN 3.5):
logs, webhook answers, the alert-rule action's answers, metrics, the admin API, ledger rows, CLI output and
the messages sent — after a grant exchange, a 401, a refresh and a refused refresh."""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

from click.testing import CliRunner

from router.cli import main as cli
from router.sentry import encode_like_sentry
from router.sentry.verify import sign
from router.settings import Settings
from router.store import DEAD, SENT
from router.web.app import create_app
from tests.conftest import fixture_payload, signed_headers
from tests.fakes.sentry_api import FakeSentryAPI
from tests.fakes.slack import FakeSlack
from tests.support.delivery import running_worker, wait_for

CLIENT_SECRET = "csec-Sentry-App-Secret-42"
CLIENT_ID = "cid-sentry-app-security"
ADMIN = "adm-Sentry-App-Admin-Token-7"
UUID = "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"
RULES = """\
version: 1
targets:
  oncall: {type: slack, channel: "#oncall", thread: none, selectable: true}
rules:
  - name: everything-but-installs
    match: {not: {resource: installation}}
    notify: [oncall]
"""


def _post(client, name: str, **data) -> str:
    payload = copy.deepcopy(fixture_payload(name))
    payload["data"].update(data)
    payload["installation"] = {"uuid": UUID}
    body = encode_like_sentry(payload)
    resp = client.post("/sentry/webhook", data=body, headers=signed_headers(name.split(".")[0], body, CLIENT_SECRET))
    assert resp.status_code == 202
    return resp.get_data(as_text=True)


def test_no_token_in_any_output(tmp_path: Path, monkeypatch, caplog, capfd) -> None:
    """Grant exchange, enrichment through a 401 and a refresh, then a revoked installation: no secret anywhere."""
    caplog.set_level(logging.DEBUG)
    (tmp_path / "rules.yaml").write_text(RULES)
    with FakeSlack(token="xoxb-sec-bot-token-1234") as slack, \
            FakeSentryAPI(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as sentry:
        sentry.install(UUID, "f3c71b491e3949b6b033ae45312a4fcb")
        sentry.add_issue("100", {"title": "Boom", "shortId": "API-1", "permalink": "https://acme.sentry.io/issues/100/"})
        env = {"SENTRY_CLIENT_SECRET": CLIENT_SECRET, "SENTRY_CLIENT_ID": CLIENT_ID, "SENTRY_API_URL": sentry.url,
               "SLACK_BOT_TOKEN": "xoxb-sec-bot-token-1234", "SLACK_API_URL": slack.url, "ROUTER_ADMIN_TOKEN": ADMIN,
               "ROUTER_RULES": str(tmp_path / "rules.yaml"), "ROUTER_DB": str(tmp_path / "r.sqlite3"),
               "ROUTER_TEMPLATES": str(tmp_path / "t"), "ROUTER_RELOAD_INTERVAL": "0", "ROUTER_RETRY_BASE": "0.2",
               "SENTRY_CONFIRM_INSTALL": "1"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings.from_env()
        client = create_app(settings).test_client()
        outputs = [_post(client, "installation.created")]
        with running_worker(settings) as delivery:
            wait_for(lambda: sentry.installed)
            sentry.expire_tokens()                      # the next API call answers 401: refresh, then retry
            outputs.append(_post(client, "comment.created"))
            wait_for(lambda: len(slack.calls("chat.postMessage")) == 1)
            sentry.expire_tokens()
            sentry.revoke(UUID)                         # 401, and the refresh is refused: token dropped
            outputs.append(_post(client, "comment.created", comment_id=2, comment="second", issue_id=101))
            wait_for(lambda: len(slack.calls("chat.postMessage")) == 2)
            wait_for(lambda: all(j.status in (SENT, DEAD) for j in delivery.store.jobs(50, (), "")))
            jobs = delivery.store.jobs(50, (), "")
        body = json.dumps({"fields": [{"name": "target", "value": "nope"}], "installationId": UUID}).encode()
        outputs.append(client.post("/sentry/alert-rule-action", data=body,
                                   headers={"Sentry-App-Signature": sign(body, CLIENT_SECRET)}).get_data(as_text=True))
        auth = {"Authorization": f"Bearer {ADMIN}"}
        paths = ["/metrics", "/api/v1/status", "/api/v1/webhooks", "/api/v1/notifications?status=sent",
                 "/api/v1/notifications?status=dead"]
        listed = client.get("/api/v1/webhooks", headers=auth).get_json()["items"]
        paths += [f"/api/v1/webhooks/{w['id']}" for w in listed]
        answers = {p: client.get(p, headers=auth) for p in paths}
        assert all(a.status_code == 200 for a in answers.values()) and len(listed) == 3
        outputs += [a.get_data(as_text=True) for a in answers.values()]
        outputs += [json.dumps([j.receipt, j.last_error, j.payload], default=str) for j in jobs]
        outputs += [CliRunner().invoke(cli, args).output for args in (["deliveries"], ["deliveries", "--json"])]
        outputs += [json.dumps(c.params) for c in slack.calls()]
        tokens = sentry.issued_tokens()
    time.sleep(0.05)
    captured = capfd.readouterr()
    text = "\n".join([*outputs, caplog.text, captured.out, captured.err])
    assert "Boom" in json.dumps([c.params for c in slack.calls()])     # enrichment really ran, through the 401
    assert "token refreshed" in caplog.text and "token refresh refused" in caplog.text
    assert len(tokens) >= 4
    for secret in (*tokens, CLIENT_SECRET, ADMIN):
        assert secret not in text, f"{secret[:8]}… leaked"
