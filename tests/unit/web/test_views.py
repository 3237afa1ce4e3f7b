"""The HTTP contract of DESIGN 1.3: the webhook endpoint and the ops endpoints (router/web/views.py)."""

from __future__ import annotations

import json
import logging

import pytest

from router.sentry.verify import sign
from tests.conftest import ALL_FIXTURES, CONSOLE_RULES, SECRET, fixture_payload, sentry_body, signed_headers


def _queued(app) -> int:
    return app.extensions["router"].delivery.queue_depth()


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_is_accepted(client, name: str) -> None:
    """Every real sample, signed as Sentry signs it, is answered 202 with its resource and action."""
    resource, action = name.split(".")[:2]
    body = sentry_body(name)
    resp = client.post("/sentry/webhook", data=body, headers=signed_headers(resource, body))
    assert resp.status_code == 202, resp.get_data(as_text=True)
    answer = resp.get_json()
    assert (answer["resource"], answer["action"], answer["duplicate"]) == (resource, action, False)
    assert answer["matched"] == ["everything"] and answer["id"]


def test_pretty_printed_body_signed_over_its_own_bytes(client) -> None:
    """We verify bytes, not JSON: a pretty-printed body signed as sent is accepted."""
    body = json.dumps(fixture_payload("issue.created"), indent=2).encode()
    resp = client.post("/sentry/webhook/", data=body, headers=signed_headers("issue", body))
    assert resp.status_code == 202


def test_signature_of_reserialised_body_fails(app, client) -> None:
    """The original signature does not carry over to a re-serialised body of the same JSON."""
    original = sentry_body("activity_alert.triggered")
    headers = signed_headers("activity_alert", original)
    reserialised = json.dumps(json.loads(original)).encode()
    resp = client.post("/sentry/webhook", data=reserialised, headers=headers)
    assert resp.status_code == 401
    assert _queued(app) == 0


def test_rotated_secrets_are_all_accepted(app, client) -> None:
    """With several comma-separated secrets configured, a body signed by any of them is accepted."""
    app.extensions["router"].settings = app.extensions["router"].settings.replace(client_secrets=("new", SECRET))
    body = sentry_body("comment.created")
    assert client.post("/sentry/webhook", data=body, headers=signed_headers("comment", body, "new")).status_code == 202


def _bad_requests() -> list[tuple[str, str, dict, bytes, int]]:
    body = sentry_body("issue.created")
    good = signed_headers("issue", body)

    def signed(b: bytes, **extra: str) -> dict:
        return {**signed_headers("issue", b), **extra}

    no_resource = {k: v for k, v in good.items() if k != "Sentry-Hook-Resource"}
    no_sig = {k: v for k, v in good.items() if k != "Sentry-Hook-Signature"}
    big = b'{"action":"created","data":{"x":"' + b"a" * (10 * 1024 * 1024) + b'"}}'  # past ROUTER_MAX_BODY
    return [
        ("wrong secret", "POST", signed_headers("issue", body, "wrong"), body, 401),
        ("missing signature", "POST", no_sig, body, 401),
        ("empty body", "POST", signed(b""), b"", 400),
        ("truncated JSON", "POST", signed(body[:-7]), body[:-7], 400),
        ("JSON array", "POST", signed(b"[1,2]"), b"[1,2]", 400),
        ("missing action", "POST", signed(b'{"data":{}}'), b'{"data":{}}', 400),
        ("action not a string", "POST", signed(b'{"action":7}'), b'{"action":7}', 400),
        ("missing resource header", "POST", {**no_resource, "Sentry-Hook-Signature": sign(body, SECRET)}, body, 400),
        ("body over the limit", "POST", signed(big), big, 413),
        ("GET on the webhook path", "GET", {}, b"", 405),
        ("PUT on the webhook path", "PUT", good, body, 405),
    ]


@pytest.mark.parametrize("case, method, headers, body, status", _bad_requests(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_bad_requests_change_nothing(app, client, case, method, headers, body, status) -> None:
    """Each malformed request gets its 4xx with a one-line reason, queues nothing, and the process keeps serving."""
    resp = client.open("/sentry/webhook", method=method, data=body, headers=headers)
    assert resp.status_code == status, (case, resp.get_data(as_text=True))
    if status != 405:
        assert resp.get_data(as_text=True).count("\n") == 1
    assert _queued(app) == 0
    ok = sentry_body("issue.resolved")
    assert client.post("/sentry/webhook", data=ok, headers=signed_headers("issue", ok)).status_code == 202


def test_secret_never_in_logs_or_answers(client, caplog) -> None:
    """Neither a good nor a bad request puts the client secret into a log line or an answer."""
    caplog.set_level(logging.DEBUG)
    answers = []
    for _case, method, headers, body, _status in _bad_requests():
        answers.append(client.open("/sentry/webhook", method=method, data=body, headers=headers).get_data(as_text=True))
    body = sentry_body("issue.created")
    answers.append(client.post("/sentry/webhook", data=body,
                               headers=signed_headers("issue", body)).get_data(as_text=True))
    answers.append(client.get("/metrics").get_data(as_text=True))
    answers.append(client.get("/-/ready").get_data(as_text=True))
    assert all(SECRET not in a for a in answers)
    assert SECRET not in caplog.text


def test_duplicate_by_content_not_request_id(client) -> None:
    """The same webhook re-sent with a new Request-ID is answered 202, duplicate, matching nothing."""
    body = sentry_body("issue.created")
    first = client.post("/sentry/webhook", data=body, headers=signed_headers("issue", body)).get_json()
    again = client.post("/sentry/webhook", data=body, headers=signed_headers("issue", body)).get_json()
    assert first["duplicate"] is False and again["duplicate"] is True and again["matched"] == []
    assert again["id"] == first["id"]   # the answer names the webhook that was accepted


def test_ops_endpoints(client) -> None:
    """/-/healthy and /-/ready answer 200, /metrics counts webhooks by resource, action and outcome and shows
    the accepted webhooks no worker has taken yet."""
    body = sentry_body("error.created")
    client.post("/sentry/webhook", data=body, headers=signed_headers("error", body))
    client.post("/sentry/webhook", data=body, headers=signed_headers("error", body, "bad"))
    assert client.get("/-/healthy").status_code == 200
    ready = client.get("/-/ready")
    assert ready.status_code == 200 and "1 rules, 1 targets" in ready.get_data(as_text=True)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'router_webhooks_total{action="created",outcome="accepted",resource="error"}' in text
    assert 'router_webhooks_total{action="",outcome="bad_signature",resource=""}' in text
    assert "router_rules_last_load_successful 1.0" in text
    assert "router_inbound_waiting 1.0" in text  # no worker runs here: the accepted webhook waits


def test_payload_text_cannot_forge_log_lines(client, caplog) -> None:
    """A signed payload whose subject id holds a newline is logged on one line, the newline escaped."""
    caplog.set_level(logging.INFO)
    payload = fixture_payload("issue.created")
    payload["data"]["issue"]["id"] = "1\n2026-11-26 INFO router.web forged line\x1b[2J"
    body = json.dumps(payload).encode()
    assert client.post("/sentry/webhook", data=body, headers=signed_headers("issue", body)).status_code == 202
    line = next(r.getMessage() for r in caplog.records if "subject=" in r.getMessage())
    assert "\n" not in line and "\x1b" not in line and "subject=1\\n2026" in line


def test_hot_reload_through_the_running_app(client, rules_file) -> None:
    """A valid edit routes the next webhook; an invalid one is refused: old rules keep routing, /-/ready and
    /metrics say so, until a good file is back."""
    def post(name: str) -> dict:
        body = sentry_body(name)
        return client.post("/sentry/webhook", data=body, headers=signed_headers(name.split(".")[0], body)).get_json()

    rules_file.write_text(CONSOLE_RULES.replace("name: everything", "name: renamed-rule"))
    assert post("issue.created")["matched"] == ["renamed-rule"]
    rules_file.write_text(CONSOLE_RULES.replace("notify: [log]", "notify: [nowhere]"))
    assert post("issue.resolved")["matched"] == ["renamed-rule"]
    ready = client.get("/-/ready")
    assert ready.status_code == 200
    assert 'reload failed' in ready.get_data(as_text=True) and "nowhere" not in ready.get_data(as_text=True)
    assert "router_rules_last_load_successful 0.0" in client.get("/metrics").get_data(as_text=True)
    rules_file.write_text(CONSOLE_RULES)
    assert post("comment.created")["matched"] == ["everything"]
    assert "reload failed" not in client.get("/-/ready").get_data(as_text=True)
    assert "router_rules_last_load_successful 1.0" in client.get("/metrics").get_data(as_text=True)
