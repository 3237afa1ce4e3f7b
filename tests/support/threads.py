"""Helpers for the Slack thread tests and bench: events about one issue or incident, threaded targets, sends."""

from __future__ import annotations

import copy
import time
from typing import Any

from router.delivery import Outbox
from router.rules.model import Target
from router.sentry import SentryEvent, build
from router.store import SENT, Job
from tests.conftest import fixture_payload
from tests.support.delivery import jobs_of, notify, wait_for


def threaded_target(name: str = "oncall", channel: str = "#oncall", thread: str = "issue",
                    broadcast: tuple[str, ...] = ()) -> Target:
    """A Web API slack target with `thread` (default issue) and `broadcast`."""
    return Target(name=name, type="slack", options={"channel": channel, "thread": thread, "broadcast": broadcast})


def issue_payload(issue_id: str, action: str = "created", **data: Any) -> dict[str, Any]:
    """The issue.<action> fixture (issue.created for actions without one) about `issue_id`; extra `data` merged."""
    name = {"assigned": "issue.assigned", "resolved": "issue.resolved", "ignored": "issue.ignored",
            "unresolved": "issue.unresolved.reconstructed"}.get(action, "issue.created")
    payload = copy.deepcopy(fixture_payload(name))
    payload["action"] = action
    payload["data"]["issue"]["id"] = issue_id
    payload["data"]["issue"]["title"] = f"Thread test {issue_id}"
    payload["data"].update(data)
    return payload


def about(issue_id: str, resource: str = "issue", action: str = "created", n: int = 0, **data: Any) -> SentryEvent:
    """An event about issue `issue_id`: issue.<action>, or error / event_alert / comment number `n`."""
    return build(resource, payload_about(issue_id, resource, action, n, **data), received_at=time.time())


def payload_about(issue_id: str, resource: str = "issue", action: str = "created", n: int = 0,
                  **data: Any) -> dict[str, Any]:
    """The webhook payload of `about` (as Sentry would send it)."""
    if resource == "issue":
        return issue_payload(issue_id, action, **data)
    payload = copy.deepcopy(fixture_payload(f"{resource}.{action}"))
    if resource in ("error", "event_alert"):
        obj = payload["data"]["error" if resource == "error" else "event"]
        obj["issue_id"], obj["event_id"] = issue_id, f"{int(issue_id):08x}{n:024x}"
        obj["title"] = f"Thread test {issue_id} error {n}"
    elif resource == "comment":
        payload["data"]["issue_id"], payload["data"]["comment_id"] = int(issue_id), 7000 + n
    return payload


def incident(incident_id: str, action: str = "critical", rule_id: str = "7", events: int = 1000) -> SentryEvent:
    """metric_alert.<action> about incident `incident_id` of alert rule `rule_id` ("Too many errors")."""
    payload = copy.deepcopy(fixture_payload("metric_alert.resolved"))
    payload["action"] = action
    alert = payload["data"]["metric_alert"]
    alert["id"], alert["identifier"], alert["alert_rule"]["id"] = incident_id, incident_id, rule_id
    payload["data"]["description_title"] = f"{action.capitalize()}: Too many errors"
    payload["data"]["description_text"] = f"{events} events in the last 10 minutes"
    return build("metric_alert", payload, received_at=time.time())


def send(delivery: Outbox, event: SentryEvent, target: Target, timeout: float = 10.0,
         dedup_window: float = 1200) -> Job:
    """Accept one notification and wait until the worker has sent it; the ledger row."""
    accepted = delivery.accept(event, notify(target), dedup_window, 0)
    return wait_for(lambda: (j := delivery.store.get(jobs_of(delivery, accepted)[0])) and j.status == SENT and j,
                    timeout=timeout)
