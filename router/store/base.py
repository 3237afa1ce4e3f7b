"""The Store protocol (dedup, inbound webhooks, the ledger — which is the queue —, throttle, small key-value) and
what it stores: Job, Inbound, statuses, ids, JSON and payload packing, the rate algorithm."""

from __future__ import annotations

import base64
import json
import random
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

QUEUED, SENDING, SENT, RETRYING, DEAD, SUPPRESSED = "queued", "sending", "sent", "retrying", "dead", "suppressed"
STATUSES = (QUEUED, SENDING, SENT, RETRYING, DEAD, SUPPRESSED)
TERMINAL = (SENT, DEAD, SUPPRESSED)
FAILED = (RETRYING, DEAD)
HEARTBEAT_PREFIX = "hb:"  # kv key of a live worker process: hb:<owner>


class StoreUnavailable(RuntimeError):
    """The store (SQLite file or Redis) cannot be reached or written; the message says why."""


def to_json(value: Any) -> str:
    """Compact JSON text for a ledger row: orjson (~10x faster), json for what orjson refuses (huge ints)."""
    try:
        return orjson.dumps(value, default=_plain).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), default=_plain)


PACK_FROM = 64 * 1024  # a job's payload this long or longer is stored compressed (large error events)
_PACKED = "z:"          # prefix of a compressed payload; JSON text never starts with it


def pack_payload(payload: Mapping[str, Any]) -> str:
    """A job's payload as stored: JSON text, zlib-compressed and base64-encoded (text for both engines) when it
    is PACK_FROM characters or more — a 5 MiB event takes ~0.5 MiB per notification instead of 5."""
    text = to_json(payload)
    if len(text) < PACK_FROM:
        return text
    return _PACKED + base64.b64encode(zlib.compress(text.encode(), 6)).decode("ascii")


def unpack_payload(stored: str | bytes | None) -> dict[str, Any]:
    """The payload `pack_payload` stored (also rows written before compression existed)."""
    if not stored:
        return {}
    if isinstance(stored, bytes):
        stored = stored.decode()
    if stored.startswith(_PACKED):
        packed: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(stored[len(_PACKED):])))
        return packed
    plain: dict[str, Any] = json.loads(stored)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


MAX_LEASE_DOUBLINGS = 7  # the 8th and later leases of one inbound webhook last 128 leases (~1 h at 30 s)


def new_id() -> str:
    """A unique id for jobs and webhooks that sorts by creation time: 13 hex digits of µs since the epoch and
    7 random ones (20 chars). New rows land at the end of each index instead of on a random page."""
    # random, not secrets: ids need not be unguessable, and os.urandom costs a system call per id
    return f"{time.time_ns() // 1000:013x}{random.getrandbits(28):07x}"


@dataclass(frozen=True)
class Job:
    """One ledger row: a (webhook, rule, target) notification and what became of it."""

    id: str
    webhook_id: str
    rule: str
    target: str
    target_type: str
    status: str = QUEUED
    attempts: int = 0
    last_error: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    next_at: float = 0.0
    deadline_at: float = 0.0
    lease_until: float = 0.0
    owner: str = ""
    receipt: Mapping[str, Any] = field(default_factory=dict)
    payload: Mapping[str, Any] = field(default_factory=dict)
    suppressed: int | None = None    # None until the throttle has let this job through

    def summary(self) -> dict[str, Any]:
        """The ledger view of this job (no payload)."""
        return {"id": self.id, "webhook_id": self.webhook_id, "rule": self.rule, "target": self.target,
                "target_type": self.target_type, "status": self.status, "attempts": self.attempts,
                "last_error": self.last_error, "created_at": self.created_at, "updated_at": self.updated_at,
                "next_at": self.next_at, "receipt": dict(self.receipt), "rules": self.payload.get("rules", "")}


@dataclass(frozen=True)
class Inbound:
    """An accepted webhook whose notifications are not yet jobs: its body and what it notifies (fanout.py)."""

    webhook_id: str
    created_at: float
    resource: str
    request_id: str
    received_at: float
    body_sha256: str
    body: bytes
    notes: str                       # JSON: one entry per notification (rule, target and their settings)
    matched: str = "[]"              # JSON: the names of the rules that matched, for the history


class Store(Protocol):
    """What delivery needs from its state store; every method is atomic and safe across processes."""

    def accept(self, dedup_key: str, ttl: float, inbound: Inbound | None, now: float,
               webhook_id: str = "") -> bool:
        """Claim the dedup key (for `webhook_id`) and write the inbound webhook, due now, together; False (and
        nothing written) if a duplicate."""
        ...

    def inbound(self, webhook_id: str) -> Inbound | None:
        """An accepted webhook not yet fanned out into jobs, or None."""
        ...

    def fan_out(self, webhook_id: str, jobs: Sequence[Job], record: Any = None) -> bool:
        """Replace the inbound webhook by its jobs, due now, and its history record (history.WebhookRecord),
        together; False (and nothing written) if it is gone (fanned out already)."""
        ...

    def count_inbound(self) -> int:
        """Accepted webhooks not yet fanned out into jobs."""
        ...

    def due_inbound(self, now: float, lease: float, limit: int) -> list[str]:
        """Inbound webhooks due at `now`, oldest first; each is due again `lease` seconds later unless it has
        been fanned out by then (so a lost fan-out task is retried, and no webhook is queued twice meanwhile),
        twice as long after each further lease, up to `lease` × 2**MAX_LEASE_DOUBLINGS (a webhook whose fan-out
        keeps failing is retried about hourly, never dropped)."""
        ...

    def webhook(self, webhook_id: str) -> Any:
        """The history row (history.WebhookRecord) of a fanned-out webhook, with its body; None once expired."""
        ...

    def record_webhook(self, rec: Any) -> None:
        """Add one webhook (history.WebhookRecord) to the history: a duplicate Sentry sent again."""
        ...

    def webhooks(self, query: Any) -> list[Any]:
        """The history rows (history.WebhookRecord) a history.WebhookQuery selects, newest first."""
        ...

    def pending(self, limit: int, before: str = "") -> list[Inbound]:
        """Accepted webhooks no worker has fanned out yet, newest first."""
        ...

    def job_counts(self, webhook_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """For each webhook, how many of its jobs are in each status."""
        ...

    def attempts(self, job_ids: Sequence[str]) -> dict[str, list[Any]]:
        """For each job, its send attempts (history.Attempt), oldest first."""
        ...

    def webhook_jobs(self, webhook_id: str) -> list[Job]:
        """The jobs one webhook was fanned out into."""
        ...

    def notifications(self, statuses: Sequence[str], limit: int, before: str = "") -> list[Job]:
        """Ledger rows with one of `statuses` (any when empty), newest first, ids below `before`."""
        ...

    def activity(self, since: float, bucket: float) -> dict[str, Any]:
        """Counts since `since` per `bucket` seconds: webhooks, and attempts by outcome and target."""
        ...

    def original(self, dedup_key: str) -> str | None:
        """The id of the webhook that holds `dedup_key` (what a duplicate answers with), if known."""
        ...

    def claim(self, job_id: str, owner: str, lease: float, now: float) -> Job | None:
        """Take one due queued/retrying job for sending (attempts + 1); None if it is not ours to send."""
        ...

    def claim_next(self, owner: str, lease: float, now: float, limit: int = 1) -> list[Job]:
        """Take up to `limit` due queued/retrying jobs (next_at <= now, soonest first) for sending, leased to
        `owner` until now + `lease` (attempts + 1); [] when none is due. The ledger is the queue."""
        ...

    def count_due(self, now: float, upto: int = 0) -> int:
        """How many queued/retrying jobs are due at `now` (the queue depth); with `upto`, counting stops there."""
        ...

    def wait_due(self, timeout: float) -> None:
        """Block until a job may have become due (a fan-out, replay or recovery; Redis: from any process) or
        for at most `timeout` seconds (SQLite: a short poll for other processes' writes)."""
        ...

    def release(self, owner: str, keep: Sequence[str], now: float) -> list[str]:
        """Give back every job `owner` holds the claim of except `keep` (its live sends): retrying, due now; the
        ids (a claim whose answer a store outage lost)."""
        ...

    def record(self, job_id: str, owner: str, status: str, now: float, *, error: str = "",
               receipt: Mapping[str, Any] | None = None, next_at: float = 0.0,
               suppressed: int | None = None) -> bool:
        """Store the outcome of a send we hold the claim for; False if the claim was lost."""
        ...

    def renew(self, job_ids: Sequence[str], owner: str, until: float) -> list[str]:
        """Extend the lease of jobs `owner` is still sending to `until` (a live send is never claimed twice);
        the ids renewed."""
        ...

    def recover_orphans(self, now: float) -> list[str]:
        """Sending jobs whose lease expired or whose worker stopped beating: back to retrying, due now."""
        ...

    def requeue(self, job_id: str, now: float, deadline: float, statuses: Sequence[str] = ("dead",)) -> bool:
        """A dead letter (or a job in one of `statuses`) back to queued with fresh attempts; False unless it
        was in one of them."""
        ...

    def throttle_hit(self, key: str, window: float, holder: str, now: float) -> tuple[bool, int]:
        """One notification per key per window: (allowed, suppressed since the last one allowed)."""
        ...

    def get(self, job_id: str) -> Job | None:
        """One ledger row, or None."""
        ...

    def jobs(self, limit: int, statuses: Sequence[str] = (), webhook_id: str = "") -> list[Job]:
        """The newest ledger rows first, optionally only those with one of `statuses` or of one webhook."""
        ...

    def count(self, status: str) -> int:
        """How many ledger rows have this status."""
        ...

    def expire(self, now: float, retention: float) -> int:
        """Drop finished ledger rows older than `retention` and expired keys; return rows dropped."""
        ...

    def kv_get(self, key: str) -> str | None:
        """A small value by key, or None if absent or expired."""
        ...

    def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Set a small value, expiring after `ttl` seconds if given."""
        ...

    def kv_set_nx(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set a small value only if absent (or expired); True if set."""
        ...

    def kv_delete(self, key: str) -> None:
        """Remove a small value."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable with the reason if the store cannot be used."""
        ...

    def kv_incr(self, key: str, by: int, ttl: float | None = None) -> int:
        """Add `by` to the integer at `key` (absent: 0) and return the sum; the key expires `ttl` seconds later."""
        ...

    # -- pacing and batches (pacing.py) ----------------------------------------------------------
    def pace(self, key: str, interval: float, burst: int, now: float, hold: float = 0.0) -> float:
        """Reserve the next send slot of the rate budget `key` (GCRA: `burst` at once, then one per `interval`):
        the time it may go (`now` when it may go at once). With `hold`, reserve nothing but keep the budget
        closed for `hold` seconds (a 429's Retry-After) and return when it opens."""
        ...

    def defer(self, job_id: str, owner: str, now: float, next_at: float, batch: str) -> bool:
        """Give back a claimed job unsent, queued again at `next_at` in `batch` (the attempt is not counted);
        False if the claim was lost."""
        ...

    def claim_batch(self, batch: str, owner: str, lease: float, now: float, limit: int) -> list[Job]:
        """Claim every queued/retrying job of `batch` (due or not; oldest first, at most `limit`) for sending."""
        ...


def gcra(tat: float, now: float, interval: float, burst: int, hold: float = 0.0) -> tuple[float, float]:
    """One step of the generic cell rate algorithm over a budget's theoretical arrival time `tat`:
    (the reserved slot, the new tat); with `hold`, (when the budget opens again, the tat that keeps it shut)."""
    tolerance = max(0, burst - 1) * interval
    if hold > 0:
        return now + hold, max(tat, now + hold + tolerance)
    tat = max(tat, now)
    return max(now, tat - tolerance), tat + interval
