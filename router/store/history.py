"""What the console and API read back: every accepted webhook (history) and every delivery attempt.

The worker writes a webhook's history row in the same transaction that fans it out (nothing more on the
ingest path); a duplicate is written by ingest itself, rarely. Ids sort by time, so the newest-first lists
are index walks from a cursor (`before`, an id).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from router import sentry
from router.store.base import Inbound

FILTERS = ("resource", "action", "rule", "issue_id", "project")


@dataclass(frozen=True)
class WebhookRecord:
    """One accepted webhook as the history keeps it: a summary for lists, the body for its page."""

    id: str
    created_at: float
    resource: str
    action: str
    title: str = ""
    project: str = ""
    issue_id: str = ""
    matched: tuple[str, ...] = ()
    duplicate_of: str = ""          # the original's id when Sentry sent this one again
    request_id: str = ""
    body: bytes = b""
    pending: bool = False           # accepted, not yet fanned out by a worker
    received_at: float = 0.0        # with the body, what rebuilds the event its jobs send (fanout.job_event)
    body_sha256: str = ""

    def summary(self) -> dict[str, Any]:
        """The list view of this webhook (no body)."""
        return {"id": self.id, "received_at": self.created_at, "resource": self.resource, "action": self.action,
                "title": self.title, "project": self.project, "issue_id": self.issue_id,
                "matched": list(self.matched), "duplicate": bool(self.duplicate_of),
                "duplicate_of": self.duplicate_of or None, "pending": self.pending}


@dataclass(frozen=True)
class Attempt:
    """One try at sending a notification: when, what came of it, and the error if any."""

    at: float
    outcome: str                    # sent | retrying | dead | suppressed
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"at": self.at, "outcome": self.outcome, "error": self.error}


@dataclass(frozen=True)
class WebhookQuery:
    """A filtered, newest-first page of the history: ids strictly below `before`."""

    limit: int = 50
    before: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)

    def accepts(self, rec: WebhookRecord) -> bool:
        """Whether `rec` passes every filter (for stores that narrow by one index, then check the rest)."""
        for key, want in self.filters.items():
            if key == "rule":
                if want not in rec.matched:
                    return False
            elif str(getattr(rec, key)) != want:
                return False
        return (not self.before or rec.id < self.before)


def _text(value: Any, limit: int = 300) -> str:
    return "" if value is None else str(value)[:limit]


def record_of(event: sentry.SentryEvent, webhook_id: str, created_at: float, matched: Sequence[str],
              body: bytes, duplicate_of: str = "") -> WebhookRecord:
    """A history row for a parsed webhook."""
    s = event.shortcuts
    return WebhookRecord(id=webhook_id, created_at=created_at, resource=event.resource, action=event.action,
                         title=_text(s.get("title")), project=_text(s.get("project"), 100),
                         issue_id=_text(s.get("issue_id"), 64), matched=tuple(matched), duplicate_of=duplicate_of,
                         request_id=event.request_id, body=body, received_at=event.received_at,
                         body_sha256=event.body_sha256)


def record_of_pending(inbound: Inbound) -> WebhookRecord:
    """What the history will hold for a webhook no worker has fanned out yet."""
    event = sentry.parse(inbound.body, inbound.resource, inbound.request_id, inbound.received_at,
                         inbound.body_sha256)
    rec = record_of(event, inbound.webhook_id, inbound.created_at, orjson.loads(inbound.matched or "[]"),
                    inbound.body)
    return dataclasses.replace(rec, pending=True)


def activity_of(rows: Sequence[tuple[int, str, int]], since: float, bucket: float) -> dict[str, Any]:
    """(minute, name, n) counters → webhooks per bucket and (bucket, outcome, target, n) attempts."""
    webhooks: dict[int, int] = {}
    attempts: dict[tuple[int, str, str], int] = {}
    for minute, name, n in rows:
        b = int((minute * 60 - since) // bucket)
        if b < 0:
            continue
        if name == "webhooks":
            webhooks[b] = webhooks.get(b, 0) + int(n)
        else:
            outcome, _, target = name.partition("\t")
            attempts[(b, outcome, target)] = attempts.get((b, outcome, target), 0) + int(n)
    return {"webhooks": sorted(webhooks.items()), "attempts": [(*k, n) for k, n in sorted(attempts.items())]}
