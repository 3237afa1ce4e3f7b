"""The JSON API v1: webhook history, filters and cursors, one webhook's explanation and notifications."""

from __future__ import annotations

import pytest

from router.sentry import encode_like_sentry
from tests.conftest import fixture_payload
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


def issue_body(n: int, action: str = "created", title: str | None = None, level: str = "error") -> bytes:
    """An issue.<action> body about issue 7000+n."""
    p = fixture_payload("issue.created")
    p["action"] = action
    p["data"]["issue"].update(id=str(7000 + n), title=title or f"issue {n}", level=level)
    return encode_like_sentry(p)


def test_list_is_newest_first_with_summaries(app, client) -> None:
    """Accepted webhooks are listed newest first with title, project, issue id, matched rules and counts."""
    ids = [post_webhook(client, "issue.created", issue_body(i))["id"] for i in range(3)]
    work(app)
    items = client.get("/api/v1/webhooks", headers=API).get_json()["items"]
    assert [i["id"] for i in items] == ids[::-1]
    first = items[0]
    assert first["title"] == "issue 2" and first["issue_id"] == "7002" and first["resource"] == "issue"
    assert first["action"] == "created" and first["matched"] == ["issues-to-oncall"] and first["duplicate"] is False
    assert first["notifications"] == {"sent": 1} and first["project"]


def test_unmatched_and_not_yet_fanned_out_webhooks_are_listed(app, client) -> None:
    """A webhook no rule matched is in the history too, and one no worker has seen yet shows as pending."""
    quiet = post_webhook(client, "issue.created", issue_body(1, level="info"))["id"]
    work(app)
    waiting = post_webhook(client, "issue.created", issue_body(2))["id"]
    items = {i["id"]: i for i in client.get("/api/v1/webhooks", headers=API).get_json()["items"]}
    assert items[quiet]["matched"] == [] and items[quiet]["notifications"] == {} and not items[quiet]["pending"]
    assert items[waiting]["pending"] and items[waiting]["matched"] == ["issues-to-oncall"]


@pytest.mark.parametrize("query, expected", [
    ("resource=issue", [0, 1, 2, 3]), ("action=resolved", [3]), ("rule=resolved-to-log", [3]),
    ("rule=issues-to-oncall", [0, 1, 2]), ("issue_id=7001", [1]), ("resource=comment", []),
    ("resource=issue&action=created&issue_id=7002", [2]), ("rule=nope", [])])
def test_filters(app, client, query: str, expected: list[int]) -> None:
    """Each filter (and several together) narrows the list to the webhooks that have that value."""
    ids = [post_webhook(client, "issue.created", issue_body(i))["id"] for i in range(3)]
    ids.append(post_webhook(client, "issue.resolved", issue_body(3, "resolved", level="info"))["id"])
    work(app)
    items = client.get(f"/api/v1/webhooks?{query}", headers=API).get_json()["items"]
    assert sorted(i["id"] for i in items) == sorted(ids[n] for n in expected)


def test_cursor_pages_through_everything_once(app, client) -> None:
    """limit and the `next` cursor walk the whole history, newest first, each webhook exactly once."""
    ids = [post_webhook(client, "issue.created", issue_body(i))["id"] for i in range(7)]
    work(app)
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/webhooks?limit=3{'&before=' + cursor if cursor else ''}", headers=API).get_json()
        seen += [i["id"] for i in page["items"]]
        if not page["next"]:
            break
        cursor = page["next"]
    assert seen == ids[::-1]


@pytest.mark.parametrize("query, names", [("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                                          ("colour=red", "colour")])
def test_bad_query_is_400_naming_the_parameter(client, query: str, names: str) -> None:
    """A bad limit or an unknown parameter is a 400 whose error names it."""
    resp = client.get(f"/api/v1/webhooks?{query}", headers=API)
    assert resp.status_code == 400 and names in resp.get_json()["error"]


def test_duplicate_is_listed_pointing_at_the_original(app, client) -> None:
    """Sentry's re-send of one webhook is listed as a duplicate of the original, and notifies nobody."""
    body = issue_body(5)
    original = post_webhook(client, "issue.created", body)["id"]
    again = post_webhook(client, "issue.created", body)
    assert again["duplicate"] and again["id"] == original
    work(app)
    items = client.get("/api/v1/webhooks", headers=API).get_json()["items"]
    dup = [i for i in items if i["duplicate"]]
    assert len(items) == 2 and len(dup) == 1 and dup[0]["duplicate_of"] == original
    assert dup[0]["notifications"] == {}


def test_detail_has_payload_explanation_notifications_attempts_and_message(app, client, fake_slack) -> None:
    """One webhook: the body as received, each rule's conditions, and each notification's attempts and message."""
    fake_slack.fail_next(1, status=500)
    wid = post_webhook(client, "issue.created", issue_body(9, title="Disk full"))["id"]
    work(app)
    import time
    time.sleep(0.3)
    work(app)
    d = client.get(f"/api/v1/webhooks/{wid}", headers=API).get_json()
    assert d["payload"]["data"]["issue"]["title"] == "Disk full"
    rules = {e["rule"]: e for e in d["explain"]}
    assert rules["issues-to-oncall"]["matched"] and not rules["resolved-to-log"]["matched"]
    level = next(c for c in rules["issues-to-oncall"]["conditions"] if c["path"] == "level")
    assert level == {"path": "level", "op": "gte", "expected": "error", "actual": '"error"', "held": True}
    action = next(c for c in rules["resolved-to-log"]["conditions"] if c["path"] == "action")
    assert action["held"] is False and action["actual"] == '"created"'
    [n] = d["notifications"]
    assert n["target"] == "oncall" and n["rule"] == "issues-to-oncall" and n["status"] == "sent"
    assert [a["outcome"] for a in n["attempts"]] == ["retrying", "sent"]
    assert "500" in n["attempts"][0]["error"] and n["attempts"][1]["error"] == ""
    assert "Disk full" in n["rendered"]["text"] and n["rendered"]["blocks"]


def test_unknown_webhook_is_404(client) -> None:
    """An id that is not in the history is a JSON 404 naming it."""
    resp = client.get("/api/v1/webhooks/nope", headers=API)
    assert resp.status_code == 404 and "nope" in resp.get_json()["error"]


def test_answers_hold_no_secret(app, client) -> None:
    """No API answer contains the client secret, the bot token or the admin token."""
    wid = post_webhook(client, "issue.created", issue_body(1))["id"]
    work(app)
    settings = app.extensions["router"].settings
    for path in ("/api/v1/webhooks", f"/api/v1/webhooks/{wid}", "/api/v1/notifications", "/api/v1/status"):
        text = client.get(path, headers=API).get_data(as_text=True)
        assert not any(s in text for s in settings.secret_values()), path
