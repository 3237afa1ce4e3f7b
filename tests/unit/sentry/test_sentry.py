"""Parsing Sentry webhooks into SentryEvent, with shortcuts and subject ids (router/sentry/event.py, body.py,
shortcuts.py)."""

from __future__ import annotations

import json

import pytest

from router import sentry
from tests.conftest import ALL_FIXTURES, fixture_payload, sentry_body


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_parses(name: str) -> None:
    """Every real sample parses into an event with its resource and action."""
    resource, action = name.split(".")[:2]
    event = sentry.parse(sentry_body(name), resource, "r1")
    assert (event.resource, event.action, event.request_id) == (resource, action, "r1")
    assert event.subject_id and not event.subject_id.startswith("sha256:")


@pytest.mark.parametrize("name, shortcut, expected", [
    ("issue.created", "project", "python"),
    ("issue.created", "level", "fatal"),
    ("issue.created", "issue_id", "1234567890"),
    ("issue.created", "url", "https://example-org.sentry.io/issues/1234567890/"),
    ("error.created", "project", "front-end"),          # slug hidden in the event's API url
    ("error.created", "issue_id", "1170820242"),
    ("error.created", "title", "ReferenceError: blooopy is not defined"),
    ("event_alert.triggered", "project", "front-end"),
    ("event_alert.triggered", "triggered_rule", "Very Important Alert Rule!"),
    ("comment.created", "project", "sentry"),
    ("comment.created", "issue_id", "100"),              # an int in the payload, a string here
    ("metric_alert.critical", "level", "fatal"),
    ("metric_alert.warning", "level", "warning"),
    ("metric_alert.resolved", "level", "info"),
    ("metric_alert.resolved", "project", "bar"),
    ("metric_alert.resolved", "title", "Resolved: Too many errors"),
    ("activity_alert.triggered", "project", "error-gen"),
    ("seer.pr_created", "issue_id", "1170820242"),
    ("preprod_artifact.size_analysis_completed", "project", "my-project"),
    ("issue.assigned", "assignee", "Person"),
])
def test_shortcuts(name: str, shortcut: str, expected: str) -> None:
    """Sentry-aware shortcuts find the same facts across resources' different shapes."""
    event = sentry.parse(sentry_body(name), name.split(".")[0])
    assert sentry.lookup(event, shortcut) == expected


def test_tags_pairs_become_a_mapping() -> None:
    """Event tags, sent as [key, value] pairs, are looked up as tags.<key>."""
    event = sentry.parse(sentry_body("error.created"), "error")
    assert sentry.lookup(event, "tags.browser.name") == "Chrome"
    assert sentry.lookup(event, "tags.handled") == "no"
    assert sentry.lookup(event, "tags.absent") is sentry.MISSING


@pytest.mark.parametrize("path, expected", [
    ("resource", "error"),
    ("action", "created"),
    ("actor.type", "application"),
    ("data.error.exception.values.0.type", "ReferenceError"),
    ("data.error.exception.values.-1.type", "ReferenceError"),
    ("data.error.exception.values.9.type", sentry.MISSING),
    ("data.nope", sentry.MISSING),
    ("nope", sentry.MISSING),
])
def test_lookup_paths(path: str, expected: object) -> None:
    """Dotted paths reach into the envelope and data, list indices included; absent paths are MISSING."""
    event = sentry.parse(sentry_body("error.created"), "error")
    assert sentry.lookup(event, path) == expected


@pytest.mark.parametrize("body, resource, reason", [
    (b"", "issue", "empty body"),
    (b'{"action": "created"', "issue", "not valid JSON"),
    (b"[1, 2]", "issue", "JSON list, expected an object"),
    (b'"x"', "issue", "JSON str, expected an object"),
    (b"{}", "issue", '"action" is missing'),
    (b'{"action": 3}', "issue", '"action" is missing or not a string'),
    (b'{"action": "created"}', None, "missing Sentry-Hook-Resource header"),
    (b'{"action": "created"}', "is\r\nsue", "Sentry-Hook-Resource header"),
    (b'{"action": "bad\\nline"}', "issue", '"action" is empty, longer than 64 characters or holds control'),
    (b"\xff\xfe{}", "issue", "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, "issue", "nested too deeply"),
])
def test_bad_payloads(body: bytes, resource: str | None, reason: str) -> None:
    """A signed body we cannot use is refused with a one-line reason that says what is wrong."""
    with pytest.raises(sentry.BadPayload, match=reason.replace("(", r"\(").replace('"', '"')) as err:
        sentry.parse(body, resource)
    assert "\n" not in str(err.value)


def test_unknown_resource_is_accepted_and_keyed_by_body_hash() -> None:
    """A resource Sentry adds tomorrow parses, and dedups by the body's SHA-256."""
    event = sentry.parse(b'{"action":"happened","data":{"x":1}}', "brand_new")
    assert event.subject_id.startswith("sha256:")


def test_encode_like_sentry_is_compact_ascii_in_sentry_order() -> None:
    """Samples are re-encoded exactly as Sentry sends them: compact, ASCII-escaped, action first."""
    body = sentry.encode_like_sentry(fixture_payload("activity_alert.triggered"))
    assert body.startswith(b'{"action":"triggered","installation":')
    assert b"\\ud83d\\udc40" in body and b": " not in body[:200]
    assert json.loads(body) == fixture_payload("activity_alert.triggered")


def test_event_round_trips_through_dict() -> None:
    """An event survives to_dict/from_dict (the queue's job payload) with the same shortcuts."""
    event = sentry.parse(sentry_body("error.created"), "error")
    again = sentry.SentryEvent.from_dict(json.loads(json.dumps(event.to_dict())))
    assert dict(again.shortcuts) == dict(event.shortcuts)
    assert again.dedup_key == event.dedup_key


@pytest.mark.parametrize("body, action", [
    (b'{"action":"made up","data":null}', "made up"),
    (b'{"action":"created","data":[1, 2]}', "created"),
    (b'{"action":"created"}', "created"),
])
def test_odd_but_valid_webhooks_are_accepted(body: bytes, action: str) -> None:
    """Only the three contract reasons refuse a signed webhook: an unusual action or a non-object data still parses."""
    event = sentry.parse(body, "issue")
    assert event.action == action and dict(event.data) == {}


@pytest.mark.parametrize("literal, value", [
    (b"9223372036854775807", 9223372036854775807),                 # 19 digits, fits 64 bits
    (b"18446744073709551616", 18446744073709551616),               # 2**64: orjson would make it a float
    (b"-123456789012345678901234567890", -123456789012345678901234567890),
    (b"123456789012345678", 123456789012345678),                   # 18 digits: the fast path
    (b"1.5e300", 1.5e300),
])
def test_numbers_keep_their_exact_value(literal: bytes, value: object) -> None:
    """Integers of any size stay exact integers (an issue id of 20+ digits must not become a float)."""
    event = sentry.parse(b'{"action":"created","data":{"issue":{"id":' + literal + b'}}}', "issue")
    got = event.data["issue"]["id"]
    assert got == value and type(got) is type(value)
