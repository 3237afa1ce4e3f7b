"""Real-shape webhook bodies (build.py, SOURCES.md): loading, Sentry's exact bytes, and retries re-serialised."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from router.sentry import encode_like_sentry

HERE = Path(__file__).resolve().parent
NAMES = sorted(p.name[: -len(".json")] for p in HERE.glob("*.json"))

# Pairs of different things that happened to one subject (SENTRY.md): each one must notify
DISTINCT_PAIRS = [
    ("event_alert.triggered.rule_a", "event_alert.triggered.rule_b"),       # two alert rules, one event
    ("activity_alert.seer_root_cause_completed", "activity_alert.seer_solution_completed"),
    ("activity_alert.seer_pr_created", "activity_alert.seer_pr_iteration_completed"),
    ("activity_alert.status_resolved", "activity_alert.status_regression"),
    ("activity_alert.status_regression", "activity_alert.status_escalating"),
    ("issue.assigned.team", "issue.assigned.user"),                          # team -> user
    ("issue.unresolved.escalating", "issue.unresolved.regressed"),
    ("issue.resolved.in_release", "issue.resolved.in_next_release"),
    ("issue.resolved.in_next_release", "issue.resolved.now"),
    ("comment.updated.first", "comment.updated.second"),                     # edited twice
    ("seer.iteration_completed.1", "seer.iteration_completed.2"),
    ("metric_alert.critical", "metric_alert.critical.again"),                # critical, warning, critical again
]
# One thing sent twice under two names: notifies once
SAME_EVENT_PAIRS = [("issue.ignored", "issue.archived")]


def load(name: str) -> tuple[str, dict[str, Any]]:
    """(resource, body dict) of tests/realshape/NAME.json."""
    d = json.loads((HERE / f"{name}.json").read_text("utf-8"))
    return d["resource"], d["body"]


def sentry_bytes(payload: dict[str, Any]) -> bytes:
    """The exact compact, ASCII-escaped bytes Sentry signs and sends."""
    return encode_like_sentry(payload)


def retried(payload: dict[str, Any]) -> dict[str, Any]:
    """The same delivery re-run by Sentry's task: the issue re-serialised with moved counters and times, and
    keys in another order."""
    again = copy.deepcopy(payload)
    issue = again["data"].get("issue")
    if isinstance(issue, dict):
        issue.update(count=str(int(issue.get("count") or 0) + 15), userCount=(issue.get("userCount") or 0) + 2,
                     lastSeen="2026-11-29T14:07:41.002000Z", numComments=issue.get("numComments", 0) + 1,
                     hasSeen=True, seerFixabilityScore=0.61)
        again["data"]["issue"] = dict(reversed(list(issue.items())))
    for key in ("event", "error"):
        if isinstance(again["data"].get(key), dict):
            again["data"][key]["_metrics"] = {"bytes.ingested.event": 5021, "bytes.stored.event": 7400}
    return again
