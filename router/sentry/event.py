"""A Sentry webhook parsed into a SentryEvent: the envelope, shortcuts, subject ids, dotted-path lookup."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from router.sentry.body import BadPayload, decode
from router.sentry.dedup import dedup_key
from router.sentry.shape import contradiction
from router.sentry.shortcuts import extract

MISSING: Any = object()  # a path that does not exist in an event

_TOKEN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # always .fullmatch: `$` would let a trailing newline in
_ACTION = re.compile(r"[^\x00-\x1f\x7f]{1,64}")  # any short one-line text: Sentry adds actions (fullmatch)
LEVELS = ("debug", "info", "warning", "error", "fatal")
# resource -> dotted path of the id that identifies what a webhook is about (SENTRY.md)
SUBJECT_PATHS = {
    "installation": "data.installation.uuid",
    "issue": "data.issue.id",
    "error": "data.error.event_id",
    "comment": "data.comment_id",
    "event_alert": "data.event.event_id",
    "metric_alert": "data.metric_alert.id",
    "seer": "data.run_id",
    "preprod_artifact": "data.buildId",
    "activity_alert": "data.issue.id",
}
KNOWN_RESOURCES = tuple(SUBJECT_PATHS)
# resource -> the actions Sentry sends today (SENTRY.md); others are still accepted and routable
KNOWN_ACTIONS = {
    "installation": ("created", "deleted"),
    "issue": ("created", "resolved", "assigned", "ignored", "archived", "unresolved"),
    "error": ("created",),
    "comment": ("created", "updated", "deleted"),
    "event_alert": ("triggered",),
    "metric_alert": ("critical", "warning", "resolved", "open"),
    "seer": ("root_cause_started", "root_cause_completed", "solution_started", "solution_completed",
             "coding_started", "coding_completed", "pr_created", "iteration_started", "iteration_completed"),
    "preprod_artifact": ("size_analysis_completed", "build_distribution_completed"),
    "activity_alert": ("triggered",),
}


@dataclass(frozen=True)
class SentryEvent:
    """One Sentry webhook, parsed: the envelope plus Sentry-aware shortcuts."""

    resource: str
    action: str
    data: Mapping[str, Any]
    actor: Mapping[str, Any] | None = None
    installation: Mapping[str, Any] | None = None
    request_id: str = ""
    received_at: float = 0.0
    body_sha256: str = ""
    shortcuts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def subject_id(self) -> str:
        """What the webhook is about (issue id, event id, …), else the body's SHA-256."""
        return self._subject() or f"sha256:{self.body_sha256}"

    def _subject(self) -> str | None:
        path = SUBJECT_PATHS.get(self.resource)
        value = lookup(self, path) if path else MISSING
        return None if value in (MISSING, None, "") else str(value)

    @property
    def dedup_key(self) -> str:
        """Content key for duplicate detection: a retry of one delivery shares it, a different event does not
        (dedup.py)."""
        return dedup_key(self.resource, self.action, self._subject(), self.data, self.actor)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, for queue jobs and `from_dict`."""
        return {
            "resource": self.resource, "action": self.action, "data": thaw(self.data),
            "actor": thaw(self.actor), "installation": thaw(self.installation),
            "request_id": self.request_id, "received_at": self.received_at,
            "body_sha256": self.body_sha256,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SentryEvent:
        """Rebuild an event from `to_dict` output."""
        return build(d["resource"], {"action": d["action"], "data": d["data"], "actor": d.get("actor"),
                                     "installation": d.get("installation")},
                     request_id=d.get("request_id", ""), received_at=d.get("received_at", 0.0),
                     body_sha256=d.get("body_sha256", ""))


_PLAIN = frozenset((str, int, float, bool, type(None)))


def thaw(value: Any) -> Any:
    """Plain dicts and lists (JSON-able) from an event's read-only mappings and tuples."""
    if type(value) in _PLAIN:  # most values: skip the slow isinstance(…, Mapping) ABC check
        return value
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def parse(body: bytes, resource: str | None, request_id: str = "", received_at: float | None = None,
          body_sha256: str | None = None) -> SentryEvent:
    """Parse a verified webhook body; raise BadPayload with a one-line reason (`body_sha256` to keep a known one)."""
    if not resource:
        raise BadPayload("missing Sentry-Hook-Resource header")
    if not _TOKEN.fullmatch(resource):
        raise BadPayload("Sentry-Hook-Resource header: not a resource name (letters, digits, _ . : -)")
    if not body:
        raise BadPayload("empty body (expected a JSON object)")
    payload = decode(body)
    if not isinstance(payload, dict):
        kind = type(payload).__name__ if payload is not None else "null"
        raise BadPayload(f"body is a JSON {kind}, expected an object")
    action = payload.get("action")
    if not isinstance(action, str):
        raise BadPayload("body: \"action\" is missing or not a string")
    if not _ACTION.fullmatch(action):
        raise BadPayload("body: \"action\" is empty, longer than 64 characters or holds control characters")
    data = payload.get("data")
    if isinstance(data, dict) and (why := contradiction(resource, data)):
        raise BadPayload(why)
    return build(resource, payload, request_id=request_id,
                 received_at=time.time() if received_at is None else received_at,
                 body_sha256=body_sha256 or hashlib.sha256(body).hexdigest())


def build(resource: str, payload: Mapping[str, Any], *, request_id: str = "", received_at: float = 0.0,
          body_sha256: str = "") -> SentryEvent:
    """Build an event from an already-parsed payload dict."""
    actor = payload.get("actor") if isinstance(payload.get("actor"), dict) else None
    inst = payload.get("installation") if isinstance(payload.get("installation"), dict) else None
    raw_data = payload.get("data")
    data = raw_data if isinstance(raw_data, dict) else {}  # a null/odd `data` routes as empty
    if not body_sha256:
        body_sha256 = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    event = SentryEvent(resource=resource, action=str(payload["action"]), data=data, actor=actor,
                        installation=inst, request_id=request_id, received_at=received_at,
                        body_sha256=body_sha256)
    object.__setattr__(event, "shortcuts", MappingProxyType(extract(event.resource, event.action, event.data)))
    return event


def lookup(event: SentryEvent, path: str) -> Any:
    """The value at a dotted path (`data.issue.id`, `actor.type`, `project`, `tags.os`), or MISSING."""
    head, _, rest = path.partition(".")
    if head in ("resource", "action", "request_id") and not rest:
        return getattr(event, head)
    roots: dict[str, Any] = {"data": event.data, "actor": event.actor, "installation": event.installation}
    if head == "tags" and rest:  # tag keys hold dots themselves (browser.name, os.name)
        tags = event.shortcuts.get("tags", {})
        return tags.get(rest, MISSING)
    if head == "settings" and rest:  # the alert-rule action settings chosen in Sentry (app.py)
        # here, not at the top: sentry/app.py builds on this module's SentryEvent (a cycle inside the package)
        from router.sentry.app import action_settings

        return action_settings(event).get(rest, MISSING)
    if head in roots:
        obj = roots[head]
    elif head in event.shortcuts:
        obj = event.shortcuts[head]
    else:
        return MISSING
    for key in rest.split(".") if rest else ():
        if isinstance(obj, Mapping) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and _is_index(key) and -len(obj) <= int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return MISSING
    return obj


def _is_index(key: str) -> bool:
    return key.lstrip("-").isdigit()


def issue_link(event: SentryEvent, sentry_url: str | None) -> str | None:
    """A web page for the event: from the payload, else built from SENTRY_URL (an issue's, an incident's); never
    the bare organisation root — no link at all is better than one that shows nothing in particular."""
    url = event.shortcuts.get("url")
    if url or not sentry_url:
        return url
    base = sentry_url.rstrip("/")
    if "issue_id" in event.shortcuts:
        return f"{base}/issues/{event.shortcuts['issue_id']}/"
    if event.resource == "metric_alert" and lookup(event, "data.metric_alert.identifier") is not MISSING:
        return f"{base}/alerts/{lookup(event, 'data.metric_alert.identifier')}/"
    return None


def encode_like_sentry(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes Sentry sends: compact, ASCII-escaped JSON, keys in order action, installation, data, actor."""
    order = ("action", "installation", "data", "actor")
    ordered = {k: payload[k] for k in order if k in payload}
    ordered.update({k: v for k, v in payload.items() if k not in ordered})
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=True).encode("ascii")
