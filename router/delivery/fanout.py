"""Fan-out: an accepted webhook travels as one inbound row (its body and notes), the worker turns it into jobs.

Ingest writes the least it durably must before the 202 — the dedup claim, the body and which rule sends to
which target — in one transaction. The worker's inbox poller (consumer.py) finds the webhook and fans it
out: one job per notification (the throttle subject, the target's masked options), due now, with the
webhook's history row — which keeps the body once for all its jobs (`job_event`) — in one transaction, off
Sentry's 1-second budget. The jobs are the queue: senders claim them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import orjson

from router import sentry
from router.channels.base import DeliveryError
from router.delivery import issue_memory
from router.delivery.quiet import quiet_notes
from router.masking import without_secrets
from router.rules.model import Notification, Rule, Target
from router.store import Inbound, Job, Store, new_id, to_json
from router.store.history import record_of

log = logging.getLogger(__name__)


def throttle_subject(event: sentry.SentryEvent) -> str:
    """What a throttle counts per: the Sentry issue when there is one, else the webhook's subject id."""
    issue = event.shortcuts.get("issue_id")
    return f"issue:{issue}" if issue not in (None, "") else f"{event.resource}:{event.subject_id}"


def event_body(event: sentry.SentryEvent) -> bytes:
    """JSON bytes that parse back into `event`, for events built without a request body (tests, CLI)."""
    d = event.to_dict()
    return to_json({k: d[k] for k in ("action", "installation", "data", "actor") if d[k] is not None}).encode()


class Notes:
    """Encodes a webhook's notifications for its inbound row; each (rule, target) pair is encoded once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int, float, str], tuple[Rule, Target, str]] = {}

    def encode(self, notifications: Sequence[Notification], default_throttle: float, rules: str = "") -> str:
        """A JSON list, one object per notification: rule, template, throttle, target, type, masked options and
        `rules`, the version of the rules file that routed it."""
        return "[" + ",".join(self._one(n, default_throttle, rules) for n in notifications) + "]"

    def _one(self, note: Notification, default_throttle: float, rules: str) -> str:
        key = (id(note.rule), id(note.target), default_throttle, rules)
        hit = self._cache.get(key)
        if hit is None or hit[0] is not note.rule or hit[1] is not note.target:  # ids are reused after reloads
            if len(self._cache) > 4096:
                self._cache.clear()
            rule, target = note.rule, note.target
            # No secret is stored: URL credentials are masked; the worker sends with the target as the rules
            # define it then, and keeps this copy only for a target deleted since
            options, masked = without_secrets(target.options)
            throttle = rule.throttle if rule.throttle is not None else default_throttle
            entry = {"rule": rule.name, "template": rule.template, "throttle": throttle or 0.0, "target": target.name,
                     "type": target.type, "options": options, "masked": masked, "rules": rules,
                     **quiet_notes(rule.mute_time_intervals, rule.active_time_intervals)}
            if rule.group is not None:   # only grouped rules carry it: no extra bytes for the others
                entry["group"] = {"by": list(rule.group.by), "wait": rule.group.wait, "interval": rule.group.interval}
            hit = self._cache[key] = (rule, target, to_json(entry))
        return hit[2]


def jobs_of(inbound: Inbound, deadline: float, now: float, event: sentry.SentryEvent | None = None) -> list[Job]:
    """One queued job per note of an inbound webhook; they count from its acceptance (latency, deadline). A job
    keeps only its own notes: its event is the webhook's, read back from the history row (`job_event`)."""
    event = event or parse_inbound(inbound)
    subject = throttle_subject(event)  # once per webhook, not per job
    notes: list[dict[str, Any]] = orjson.loads(inbound.notes)
    return [Job(id=new_id(), webhook_id=inbound.webhook_id, rule=n["rule"], target=n["target"],
                target_type=n["type"], created_at=inbound.created_at, updated_at=now, next_at=now,
                deadline_at=inbound.created_at + deadline,
                payload={"template": n["template"], "throttle": n["throttle"], "subject": subject,
                         "options": n["options"], "masked": n["masked"], "rules": n.get("rules", ""),
                         **{k: n[k] for k in ("mute", "active") if k in n},
                         **({"group": group_of(event, n["group"])} if n.get("group") else {})})
            for n in notes]


def parse_inbound(inbound: Inbound) -> sentry.SentryEvent:
    """The event an inbound webhook's body holds."""
    return sentry.parse(inbound.body, inbound.resource, inbound.request_id, inbound.received_at,
                        inbound.body_sha256)


def job_event(store: Store, job: Job) -> sentry.SentryEvent:
    """The event a job sends: rebuilt from its webhook's history row (a job made before this kept a copy, used
    as it is). DeliveryError (permanent) when the webhook is no longer stored."""
    if "event" in job.payload:
        return sentry.SentryEvent.from_dict(job.payload["event"])
    rec = store.webhook(job.webhook_id)
    if rec is None:
        raise DeliveryError(f"webhook {job.webhook_id} is no longer stored (older than ROUTER_LEDGER_RETENTION?)",
                            retryable=False)
    return sentry.parse(rec.body, rec.resource, rec.request_id, rec.received_at or rec.created_at,
                        rec.body_sha256 or None)


def group_of(event: sentry.SentryEvent, group: dict[str, Any]) -> dict[str, Any]:
    """A grouped rule's settings plus this event's group key: `path=value` per `by` path (absent: `-`)."""
    values = []
    for path in group.get("by") or ():
        value = sentry.lookup(event, path)
        values.append(f"{path}={'-' if value is sentry.MISSING or value is None else value}"[:200])
    return {**group, "key": ", ".join(values)}


def fan_out(store: Store, deadline: float, webhook_id: str) -> list[str]:
    """Turn an accepted webhook into its jobs, due now; their ids ([] when it was fanned out already).
    What it tells about its issue is remembered first, for the notifications of later webhooks (and its own)."""
    inbound = store.inbound(webhook_id)
    if inbound is None:
        return []
    event = parse_inbound(inbound)
    try:
        issue_memory.remember(store, event)
    except Exception as exc:  # a lost memory costs a title or link later, never a notification
        log.warning("webhook %s: remembering its issue failed: %s: %s", webhook_id, type(exc).__name__, exc)
    jobs = jobs_of(inbound, deadline, time.time(), event)
    record = record_of(event, inbound.webhook_id, inbound.created_at, orjson.loads(inbound.matched or "[]"),
                       inbound.body)
    if not store.fan_out(webhook_id, jobs, record):
        return []
    return [j.id for j in jobs]
