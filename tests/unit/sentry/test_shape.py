"""The unsigned resource header bound to the signed body; metric labels bounded; actions escaped in the log."""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.sentry import KNOWN_RESOURCES, BadPayload, body_resource, parse
from tests.conftest import ALL_FIXTURES, fixture_payload, sentry_body, signed_headers


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_has_the_shape_of_its_resource(name: str) -> None:
    """Each real payload's shape names the resource Sentry sends it as."""
    assert body_resource(fixture_payload(name)["data"]) == name.split(".")[0]


@pytest.mark.parametrize("name", ALL_FIXTURES)
@pytest.mark.parametrize("header", [*KNOWN_RESOURCES, "invented", "issue2", "x.y"])
def test_a_header_contradicting_the_body_is_refused(name: str, header: str) -> None:
    """A real body under any other resource name (known or invented) is refused, naming both."""
    real = name.split(".")[0]
    if header == real:
        assert parse(sentry_body(name), header).resource == real
        return
    with pytest.raises(BadPayload, match=f"header says '{re.escape(header)}' but the body is a '{real}' webhook"):
        parse(sentry_body(name), header)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True), st.sampled_from(ALL_FIXTURES))
def test_replayed_bodies_never_become_new_resources(header: str, name: str) -> None:
    """Whatever resource name an attacker replays a signed body under, it is refused or is the body's own."""
    try:
        event = parse(sentry_body(name), header)
    except BadPayload:
        return
    assert event.resource == name.split(".")[0]


def test_a_body_of_no_known_shape_keeps_its_header() -> None:
    """A resource Sentry may add later (a body like none we know) is still accepted under its header."""
    assert parse(b'{"action": "done", "data": {"widget": {"id": 1}}}', "widget").resource == "widget"


def _post(client, resource: str, payload: dict):
    body = json.dumps(payload).encode()
    return client.post("/sentry/webhook", data=body, headers=signed_headers(resource, body))


def test_metric_labels_are_known_names_or_other(client) -> None:
    """Invented resources and actions are counted under "other", never as new label values."""
    other = 'router_webhooks_total{action="other",outcome="accepted",resource="other"}'
    issue = 'router_webhooks_total{action="other",outcome="accepted",resource="issue"}'
    before = _samples(client.get("/metrics").get_data(as_text=True))  # counters are per process: other tests add
    for i in range(5):
        assert _post(client, f"invented{i}", {"action": f"made-up-{i}", "data": {"x": i}}).status_code == 202
        assert _post(client, "issue", {"action": f"odd-{i}", "data": {"issue": {"id": str(i)}}}).status_code == 202
    text = client.get("/metrics").get_data(as_text=True)
    assert "invented" not in text and "made-up" not in text and "odd-" not in text
    after = _samples(text)
    assert after[other] - before.get(other, 0.0) == 5 and after[issue] - before.get(issue, 0.0) == 5


def _samples(text: str) -> dict[str, float]:
    """Prometheus text as {series: value}."""
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


@pytest.mark.parametrize("char", ["\u2028", "\u202e", "\x85", "\x9b"])
def test_action_is_escaped_in_the_log(client, caplog, char: str) -> None:
    """Line separators, RTL overrides and C1 controls in `action` reach the log escaped."""
    caplog.set_level(logging.INFO, logger="router.web")
    assert _post(client, "issue", {"action": f"created{char}FORGED", "data": {"issue": {"id": "1"}}}).status_code == 202
    [line] = [r.getMessage() for r in caplog.records if r.name == "router.web"]
    assert char not in line and "FORGED" in line
