"""The JSON API v1: notifications by status, replay, explain (sends and stores nothing), status."""

from __future__ import annotations

import pytest

from tests.conftest import sentry_body
from tests.fakes.fixtures import fake_slack  # noqa: F401  (fixture)
from tests.support.api import (
    API,
    admin_app,  # noqa: F401  (fixture)
    post_webhook,
    work,
)


@pytest.fixture
def app(admin_app):
    """The admin app (tests.support.api)."""
    yield admin_app


def dead_letter(app, client, fake_slack) -> str:
    """A notification that died (Slack: channel_not_found, which no retry fixes); its id."""
    fake_slack.error_next(1, "channel_not_found")
    post_webhook(client, "issue.created")
    work(app)
    [job] = client.get("/api/v1/notifications?status=dead", headers=API).get_json()["items"]
    return job["id"]


def test_notifications_by_status(app, client, fake_slack) -> None:
    """?status= lists only the notifications in that status, with the contract's fields."""
    job_id = dead_letter(app, client, fake_slack)
    dead = client.get("/api/v1/notifications?status=dead", headers=API).get_json()
    assert [j["id"] for j in dead["items"]] == [job_id] and dead["next"] is None
    item = dead["items"][0]
    assert {"id", "webhook_id", "rule", "target", "status", "attempts", "last_error", "reason",
            "updated_at"} <= set(item)
    assert item["status"] == "dead" and "channel_not_found" in item["last_error"]
    assert client.get("/api/v1/notifications?status=sent", headers=API).get_json()["items"] == []


def test_bad_status_is_400(client) -> None:
    """An unknown status is a 400 naming it and the statuses there are."""
    resp = client.get("/api/v1/notifications?status=lost", headers=API)
    assert resp.status_code == 400 and "'lost'" in resp.get_json()["error"] and "dead" in resp.get_json()["error"]


def test_replay_sends_a_dead_letter_again(app, client, fake_slack) -> None:
    """Replay queues a dead letter again (202) and the worker sends it; its attempts keep the failure."""
    job_id = dead_letter(app, client, fake_slack)
    before = len(fake_slack.calls("chat.postMessage"))
    resp = client.post(f"/api/v1/notifications/{job_id}/replay", headers=API)
    assert resp.status_code == 202 and resp.get_json()["status"] == "queued"
    work(app)
    assert len(fake_slack.calls("chat.postMessage")) == before + 1
    [sent] = client.get("/api/v1/notifications?status=sent", headers=API).get_json()["items"]
    assert sent["id"] == job_id
    detail = client.get(f"/api/v1/webhooks/{sent['webhook_id']}", headers=API).get_json()
    assert [a["outcome"] for a in detail["notifications"][0]["attempts"]] == ["dead", "sent"]


@pytest.mark.parametrize("job_id, status", [("no-such-job", 404)])
def test_replay_unknown_is_404(client, job_id: str, status: int) -> None:
    """Replaying an id that does not exist is a 404 naming it."""
    resp = client.post(f"/api/v1/notifications/{job_id}/replay", headers=API)
    assert resp.status_code == status and job_id in resp.get_json()["error"]


def test_replay_of_a_queued_one_is_409(app, client) -> None:
    """A notification still on its way cannot be replayed: 409 says its status."""
    post_webhook(client, "issue.created")
    rt = app.extensions["router"]
    rt.delivery.fan_out(rt.delivery.store.due_inbound(9e9, 60, 10)[0])
    [job] = client.get("/api/v1/notifications?status=queued", headers=API).get_json()["items"]
    resp = client.post(f"/api/v1/notifications/{job['id']}/replay", headers=API)
    assert resp.status_code == 409 and "queued" in resp.get_json()["error"]


def test_explain_sends_nothing_and_stores_nothing(app, client, fake_slack) -> None:
    """POST /explain answers matches, explanation and previews; no Slack call, nothing in the history."""
    body = sentry_body("issue.created")
    resp = client.post("/api/v1/explain", data=body, headers={**API, "Sentry-Hook-Resource": "issue"})
    assert resp.status_code == 200
    d = resp.get_json()
    assert d["matched"] == ["issues-to-oncall"] and len(d["explain"]) == 2
    [preview] = d["previews"]
    assert preview["target"] == "oncall" and preview["type"] == "slack" and preview["rendered"]["blocks"]
    work(app)
    assert fake_slack.calls() == []
    assert client.get("/api/v1/webhooks", headers=API).get_json()["items"] == []
    assert client.get("/api/v1/notifications", headers=API).get_json()["items"] == []


@pytest.mark.parametrize("headers, body, says", [
    ({}, b"{}", "Sentry-Hook-Resource"), ({"Sentry-Hook-Resource": "issue"}, b"[1]", "JSON list"),
    ({"Sentry-Hook-Resource": "issue"}, b"{nope", "JSON")])
def test_explain_bad_body_is_400(client, headers: dict, body: bytes, says: str) -> None:
    """A body or header explain cannot use is a 400 saying what was wrong."""
    resp = client.post("/api/v1/explain", data=body, headers={**API, **headers})
    assert resp.status_code == 400 and says in resp.get_json()["error"]


def test_status(app, client, fake_slack) -> None:
    """Status reports the rules, the store, the queue, dead letters and per-target counts of the last hour."""
    dead_letter(app, client, fake_slack)
    post_webhook(client, "issue.created", sentry_body("issue.created").replace(b"1234567890", b"1234567891"))
    work(app)
    d = client.get("/api/v1/status", headers=API).get_json()
    assert d["rules"]["rules"] == 2 and d["rules"]["targets"] == 2 and len(d["rules"]["sha256"]) == 64
    assert d["rules"]["last_reload_error"] is None
    assert d["store"] == {"kind": "sqlite", "reachable": True, "error": None}
    assert d["dead_letters"] == 1 and d["queue_depth"] >= 0
    assert d["targets_last_hour"]["oncall"] == {"sent": 1, "failed": 1, "suppressed": 0}


def test_explain_refuses_an_oversized_body(app, client) -> None:
    """A body over ROUTER_MAX_BODY is a 413 naming the setting, not read into memory."""
    limit = app.extensions["router"].settings.max_body
    resp = client.post("/api/v1/explain", data=b" " * (limit + 1), headers={**API, "Sentry-Hook-Resource": "issue"})
    assert resp.status_code == 413 and "ROUTER_MAX_BODY" in resp.get_json()["error"]
