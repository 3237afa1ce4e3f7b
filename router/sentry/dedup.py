"""The dedup key: tells a retry of one delivery (a duplicate) from a different thing that happened to one subject.

Sentry re-sends a failed delivery by re-running its task (new Request-ID, up to 3 times, 5 minutes apart), and
the task may re-serialise the issue: counters and times (`count`, `userCount`, `lastSeen`, `seerFixabilityScore`…)
move between tries. Different things that happen to one subject differ in fields the *sender* fixed when it
queued the task (the alert rule, the activity, the assignee, the resolution, the comment text, the metric value).
So the key is the resource, the action (aliases folded), the subject id and a digest of exactly those fields per
resource and action: never a moving one. Read from Sentry's senders (`sentry_apps/tasks/sentry_apps.py`,
`receivers/sentry_apps.py`, `notification_action/activity_registry/sentry_app.py`); README "Duplicates".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import orjson

# One archive is sent as both issue.ignored and issue.archived by some Sentry versions (a legacy alias)
ACTION_ALIASES = {("issue", "archived"): "ignored"}


# (resource, action or "*") -> the fields that tell two real events on one subject apart. Each is fixed by the
# sender before the task is queued (task arguments), so a retry carries the same values.
DISTINCT: dict[tuple[str, str], tuple[str, ...]] = {
    # workflow_notification: `data` (assignee, resolution_type) comes from the signal; the issue is re-read
    ("issue", "assigned"): ("actor.id", "data.assignee.type", "data.assignee.id", "data.assignee.name"),
    ("issue", "resolved"): ("actor.id", "data.resolution_type", "data.issue.statusDetails"),
    ("issue", "unresolved"): ("actor.id", "data.issue.substatus"),
    ("issue", "ignored"): ("actor.id", "data.issue.substatus", "data.issue.statusDetails"),
    # build_comment_webhook: the comment text is a task argument; an edit changes it
    ("comment", "*"): ("actor.id", "data.comment"),
    # notify_sentry_app: one send_alert_webhook per alert rule that fired on the event
    ("event_alert", "*"): ("data.triggered_rule", "data.issue_alert.id"),
    # the incident attachment (metric value, link with its notification_uuid) is built when the alert fires
    ("metric_alert", "*"): ("data.description_text", "data.web_url"),
    # send_activity_alert_webhook gets the payload as JSON: activity and alert are exact across retries
    ("activity_alert", "*"): ("data.activity", "data.alert.id"),
    # built once by the sender and queued as they are: the whole data (a new iteration, PR or analysis differs)
    ("seer", "*"): ("data",),
    ("preprod_artifact", "*"): ("data",),
}

# Fields a re-serialised retry may change; left out of the fallback digest of resources we know nothing about
MOVING = frozenset(("count", "userCount", "lastSeen", "numComments", "hasSeen", "isBookmarked", "isSubscribed",
                    "subscriptionDetails", "seerFixabilityScore", "seerAutofixLastTriggered",
                    "seerExplorerAutofixLastTriggered", "stats", "lifetime", "timestamp"))

_MISSING: Any = object()


def dedup_key(resource: str, action: str, subject: str | None, data: Mapping[str, Any],
              actor: Mapping[str, Any] | None) -> str:
    """`resource:action:subject[:digest]`: equal for retries of one delivery, different for different events.

    `subject` is the id the webhook is about, or None when the payload has none (then the digest covers the
    payload's `data` without moving fields)."""
    action = ACTION_ALIASES.get((resource, action), action)
    if subject is None:
        return f"{resource}:{action}:data:{_digest(_steady(data))}"
    paths = DISTINCT.get((resource, action)) or DISTINCT.get((resource, "*"))
    if not paths:
        return f"{resource}:{action}:{subject}"
    roots = {"data": data, "actor": actor}
    values = [_NORMALISE.get(p, _same)(_get(roots, p)) for p in paths]
    if all(v is _MISSING or v is None for v in values):
        return f"{resource}:{action}:{subject}"  # the key the router always used: stores keep working
    return f"{resource}:{action}:{subject}:{_digest([None if v is _MISSING else v for v in values])}"


def _status_details(value: Any) -> Any:
    """An issue's statusDetails without who did it (`actor`, a user that re-serialises with moving fields); a
    commit by its id."""
    if not isinstance(value, Mapping):
        return value
    out = {k: v for k, v in value.items() if k != "actor"}
    if isinstance(out.get("inCommit"), Mapping):
        out["inCommit"] = out["inCommit"].get("id")
    return out or None


def _same(value: Any) -> Any:
    return value


# how a distinguishing field is reduced to what does not move between tries
_NORMALISE: dict[str, Callable[[Any], Any]] = {"data.issue.statusDetails": _status_details,
                                                "data": lambda value: _steady(value)}


def _get(roots: Mapping[str, Any], path: str) -> Any:
    head, _, rest = path.partition(".")
    obj = roots.get(head)
    for key in rest.split(".") if rest else ():
        if not isinstance(obj, Mapping) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def _steady(value: Any) -> Any:
    """`value` without the moving fields, at any depth."""
    if isinstance(value, Mapping):
        return {k: _steady(v) for k, v in value.items() if k not in MOVING}
    if isinstance(value, (list, tuple)):
        return [_steady(v) for v in value]
    return value


def _digest(value: Any) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=dict)
    except (orjson.JSONEncodeError, TypeError):  # integers beyond 64 bits
        text = json.dumps(value, sort_keys=True, default=dict, separators=(",", ":")).encode()
    return hashlib.sha256(text).hexdigest()[:24]
