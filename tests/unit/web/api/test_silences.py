"""/api/v1/silences: behind ROUTER_ADMIN_TOKEN, validation naming key paths, and silences the worker honours."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from router.delivery import Outbox
from router.settings import Settings
from router.store import SUPPRESSED
from tests.support.delivery import fan_out_all, issue_event, notify, slack_target

TOKEN = "silence-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin(settings: Settings) -> Iterator:
    """A test client of an app with an admin token."""
    from router.web.app import create_app

    yield create_app(settings.replace(admin_tokens=(TOKEN,))).test_client()


@pytest.mark.parametrize("method, path", [("GET", "/api/v1/silences"), ("POST", "/api/v1/silences"),
                                          ("DELETE", "/api/v1/silences/abc")])
def test_silences_need_the_admin_token(app, admin, method: str, path: str) -> None:
    """Unset token: 404; set but not presented (or wrong): 401 — for every silences route."""
    body = {"match": {"project": "api"}, "duration": "1h"}
    assert app.test_client().open(path, method=method, json=body, headers=AUTH).status_code == 404
    assert admin.open(path, method=method, json=body).status_code == 401
    assert admin.open(path, method=method, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("body, error", [
    ({"match": {"level": {"gtee": "error"}}, "duration": "1h"}, 'match.level: unknown operator "gtee"'),
    ({"match": {"all": [{"project": "api"}, {"tags.os": {"regex": "["}}]}, "duration": "1h"},
     "match.all.1.tags.os.regex: bad regular expression"),
    ({"match": {"project": "api"}}, "duration: missing"),
    ({"match": {"project": "api"}, "ends_at": "next week"}, "ends_at: expected an RFC 3339 time"),
    ({"match": {"project": "api"}, "duration": "1h", "until": "later"}, "until: unknown key"),
    ([1, 2], "expected a JSON object"),
])
def test_invalid_silence_is_400_naming_its_key_path(admin, body: Any, error: str) -> None:
    """An invalid silence answers 400 whose error names the key path, and nothing is stored."""
    resp = admin.post("/api/v1/silences", json=body, headers=AUTH)
    assert resp.status_code == 400 and error in resp.get_json()["error"]
    assert admin.get("/api/v1/silences", headers=AUTH).get_json()["items"] == []


def test_body_that_is_not_json_is_400(admin) -> None:
    """A body that is not JSON is refused with a 400 that says so."""
    resp = admin.post("/api/v1/silences", data=b"{match:", headers=AUTH)
    assert resp.status_code == 400 and resp.get_json()["error"].startswith("body: not JSON")


def test_add_list_delete(admin) -> None:
    """POST → 201 {id, starts_at, ends_at}; GET lists it active; DELETE ends it (200), a second DELETE is 404."""
    resp = admin.post("/api/v1/silences", json={"match": {"issue_id": "42"}, "duration": "2h", "reason": "deploy",
                                                "created_by": "ana"}, headers=AUTH)
    assert resp.status_code == 201
    made = resp.get_json()
    assert made["id"] and made["starts_at"].endswith("Z") and made["ends_at"] > made["starts_at"]
    items = admin.get("/api/v1/silences", headers=AUTH).get_json()["items"]
    assert [(s["id"], s["active"], s["reason"], s["created_by"]) for s in items] == \
        [(made["id"], True, "deploy", "ana")]
    ended = admin.delete(f"/api/v1/silences/{made['id']}", headers=AUTH)
    assert ended.status_code == 200 and ended.get_json()["active"] is False and ended.get_json()["ended_at"]
    assert admin.delete(f"/api/v1/silences/{made['id']}", headers=AUTH).status_code == 404
    assert admin.get("/api/v1/silences", headers=AUTH).get_json()["items"][0]["active"] is False


def test_a_silence_from_the_api_suppresses_in_the_worker(admin, settings: Settings) -> None:
    """A silence POSTed to one process is honoured by a worker on the same store: the job is suppressed with its id."""
    from router.delivery.deliverer import Deliverer

    made = admin.post("/api/v1/silences", json={"match": {"issue_id": "9003"}, "until_resolved": True},
                      headers=AUTH).get_json()
    delivery = Outbox.from_settings(settings)
    accepted = delivery.accept(issue_event(3), notify(slack_target()), 1200, 0)
    fan_out_all(delivery)
    job_id = delivery.store.jobs(10, (), accepted.webhook_id)[0].id
    Deliverer(settings, delivery.store, owner="t")(job_id)
    job = delivery.store.get(job_id)
    assert (job.status, job.last_error) == (SUPPRESSED, made["id"])


def test_oversized_body_is_413(admin) -> None:
    """A body over 64 KiB is refused unread past the limit, with a 413 that says so."""
    resp = admin.post("/api/v1/silences", data=b"{" + b" " * 70_000 + b"}", headers=AUTH)
    assert resp.status_code == 413 and "larger than" in resp.get_json()["error"]
