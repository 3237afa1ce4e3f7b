"""The delivery store in Redis (REDIS_URL): keys under `router:`, every multi-key change one Lua script."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from router.masking import mask_url
from router.store import redis_lua as lua
from router.store.base import (
    MAX_LEASE_DOUBLINGS,
    TERMINAL,
    Inbound,
    Job,
    StoreUnavailable,
    pack_payload,
    to_json,
    unpack_payload,
)
from router.store.history import WebhookRecord
from router.store.history_redis import RedisHistory, history_json, id_at

P = "router:"
WAIT = 1.0  # seconds an idle sender blocks on the wake-up list at most (the socket timeout is 2)
_INT = ("attempts",)
_FLOAT = ("created_at", "updated_at", "next_at", "deadline_at", "lease_until")


def _fields(job: Job) -> dict[str, str]:
    d = {k: v for k, v in job.summary().items() if k not in ("receipt",)}
    d.update(deadline_at=job.deadline_at, lease_until=job.lease_until, owner=job.owner,
             receipt=json.dumps(dict(job.receipt)), payload=pack_payload(job.payload))
    return {k: str(v) for k, v in d.items()}


def _job(raw: Mapping[bytes, bytes] | Mapping[str, str]) -> Job:
    d = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
         for k, v in raw.items()}
    out: dict[str, Any] = {k: d.get(k, "") for k in ("id", "webhook_id", "rule", "target", "target_type",
                                                     "status", "last_error", "owner")}
    out.update({k: int(d.get(k) or 0) for k in _INT})
    out.update({k: float(d.get(k) or 0) for k in _FLOAT})
    out["receipt"] = json.loads(d.get("receipt") or "{}")
    out["payload"] = unpack_payload(d.get("payload"))
    sup = d.get("suppressed", "")
    out["suppressed"] = int(sup) if sup not in ("", "None") else None
    return Job(**out)


def client_url(url: str) -> str:
    """REDIS_URL as redis-py should use it: Heroku Redis serves TLS with a self-signed certificate."""
    if url.startswith("rediss://") and "ssl_cert_reqs" not in url:
        return url + ("&" if "?" in url else "?") + "ssl_cert_reqs=none"
    return url


def _pairs(flat: Sequence[Any]) -> dict[bytes, bytes]:
    return dict(zip(flat[0::2], flat[1::2], strict=False))


class RedisStore(RedisHistory):
    """Store on Redis; any number of processes on any number of machines share it."""

    def __init__(self, url: str) -> None:
        self.url = url
        # Fail fast: a webhook must be answered (503, so Sentry retries) within Sentry's 1 s budget, and
        # redis-py's default retries (with backoff) would hold a web worker for seconds per request.
        self.r = redis.Redis.from_url(client_url(url), socket_timeout=2, socket_connect_timeout=0.5,
                                      health_check_interval=30,
                                      retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), 2))
        self._scripts = {name: self.r.register_script(src) for name, src in lua.SCRIPTS.items()}

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return self._scripts[name](keys=[], args=list(args))
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis {mask_url(self.url)}: {exc}") from None

    def _do(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis {mask_url(self.url)}: {exc}") from None

    def accept(self, dedup_key: str, ttl: float, inbound: Inbound | None, now: float,
               webhook_id: str = "") -> bool:
        """Claim the dedup key and write the inbound webhook, due now, together; False (and nothing written)
        if a duplicate."""
        if inbound is None:
            return bool(self._call("accept", P + "dedup:" + dedup_key, max(1, int(ttl * 1000)), webhook_id or "-"))
        i = inbound
        return bool(self._call("accept", P + "dedup:" + dedup_key, max(1, int(ttl * 1000)), i.webhook_id,
                               repr(i.created_at), i.resource, i.request_id, repr(i.received_at), i.body_sha256,
                               i.body, i.notes, i.matched))

    def inbound(self, webhook_id: str) -> Inbound | None:
        """An accepted webhook not yet fanned out into jobs, or None."""
        raw = self._do(self.r.hgetall, P + "in:" + webhook_id)
        if not raw:
            return None
        d = {k.decode(): v for k, v in raw.items()}
        return Inbound(webhook_id=webhook_id, created_at=float(d["created_at"]), resource=d["resource"].decode(),
                       request_id=d["request_id"].decode(), received_at=float(d["received_at"]),
                       body_sha256=d["body_sha256"].decode(), body=d["body"], notes=d["notes"].decode(),
                       matched=d.get("matched", b"[]").decode())

    def fan_out(self, webhook_id: str, jobs: Sequence[Job], record: WebhookRecord | None = None) -> bool:
        """Replace the inbound webhook by its jobs (and its history `record`), together, and wake idle senders;
        False (and nothing written) if it is gone."""
        return bool(self._call("fan_out", webhook_id, history_json(record) if record else "",
                               *[to_json(_fields(j)) for j in jobs]))

    def count_inbound(self) -> int:
        """Accepted webhooks not yet fanned out into jobs."""
        return int(self._do(self.r.zcard, P + "inbound"))

    def due_inbound(self, now: float, lease: float, limit: int) -> list[str]:
        """Inbound webhooks due at `now`, oldest first; each is due again `lease` seconds later unless it has
        been fanned out by then, twice as long after each further lease (up to MAX_LEASE_DOUBLINGS)."""
        return [i.decode() for i in self._call("due_inbound", repr(now), repr(lease), limit, MAX_LEASE_DOUBLINGS)]

    def original(self, dedup_key: str) -> str | None:
        """The id of the webhook that holds `dedup_key`, if known."""
        value = self._do(self.r.get, P + "dedup:" + dedup_key)
        return value.decode() if value and value != b"-" else None

    def claim(self, job_id: str, owner: str, lease: float, now: float) -> Job | None:
        """Take a due queued/retrying job for sending (attempts + 1); None if it is not ours to send."""
        flat = self._call("claim", job_id, repr(now), repr(now + lease), owner)
        return _job(_pairs(flat)) if flat else None

    def claim_next(self, owner: str, lease: float, now: float, limit: int = 1) -> list[Job]:
        """Take up to `limit` due queued/retrying jobs, soonest first, for sending (attempts + 1)."""
        flat = self._call("claim_next", repr(now), repr(now + lease), owner, limit)
        return sorted((_job(_pairs(f)) for f in flat), key=lambda j: j.next_at)

    def count_due(self, now: float, upto: int = 0) -> int:
        """How many queued/retrying jobs are due at `now`; with `upto`, at most that many."""
        n = int(self._do(self.r.zcount, P + "due", "-inf", repr(now)))
        return min(n, upto) if upto > 0 else n

    def wait_due(self, timeout: float) -> None:
        """Block until a fan-out, replay or recovery (any process) wakes us, the soonest waiting job is due, or
        `timeout` passes (at most WAIT, below the socket timeout)."""
        soonest = self._do(lambda: self.r.zrange(P + "due", 0, 0, withscores=True))
        if soonest:
            timeout = min(timeout, soonest[0][1] - time.time())
        if timeout >= 0.01:
            self._do(self.r.blpop, [P + "wake"], min(timeout, WAIT))

    def record(self, job_id: str, owner: str, status: str, now: float, *, error: str = "",
               receipt: Mapping[str, Any] | None = None, next_at: float = 0.0,
               suppressed: int | None = None) -> bool:
        """Store the outcome of a send we hold the claim for; False if the claim was lost."""
        extra: list[str] = []
        if receipt is not None:
            extra += ["receipt", json.dumps(dict(receipt))]
        if suppressed is not None:
            extra += ["suppressed", str(suppressed)]
        return bool(self._call("record", job_id, owner, status, repr(now), repr(next_at or now), error, *extra))

    def release(self, owner: str, keep: Sequence[str], now: float) -> list[str]:
        """Give back every job `owner` holds the claim of except `keep`: retrying, due now; the ids."""
        return [i.decode() for i in self._call("release", owner, repr(now), *keep)]

    def renew(self, job_ids: Sequence[str], owner: str, until: float) -> list[str]:
        """Extend the lease of jobs `owner` is still sending to `until`; the ids renewed."""
        return [i.decode() for i in self._call("renew", owner, repr(until), *job_ids)] if job_ids else []

    def recover_orphans(self, now: float) -> list[str]:
        """Sending jobs whose lease expired or whose worker stopped beating: back to retrying, due now."""
        return [i.decode() for i in self._call("orphans", repr(now))]

    def requeue(self, job_id: str, now: float, deadline: float, statuses: Sequence[str] = ("dead",)) -> bool:
        """A dead letter (or a job in one of `statuses`) back to queued with fresh attempts; False unless it
        was in one of them."""
        return bool(self._call("requeue", job_id, repr(now), repr(now + deadline), *statuses))

    def throttle_hit(self, key: str, window: float, holder: str, now: float) -> tuple[bool, int]:
        """One notification per key per window: (allowed, suppressed since the last one allowed)."""
        keep = int(max(window, 86400.0) * 7 * 1000)
        allowed, count = self._call("throttle", P + "thr:" + key, repr(now), repr(now + window), holder, keep)
        return bool(allowed), int(count)

    def get(self, job_id: str) -> Job | None:
        """One ledger row, or None."""
        raw = self._do(self.r.hgetall, P + "job:" + job_id)
        return _job(raw) if raw else None

    def jobs(self, limit: int, statuses: Sequence[str] = (), webhook_id: str = "") -> list[Job]:
        """The newest ledger rows first, optionally only those with one of `statuses` or of one webhook."""
        out: list[Job] = []
        start, page = 0, max(limit, 200)
        while len(out) < limit:
            ids = self._do(self.r.zrevrange, P + "jobs", start, start + page - 1)
            if not ids:
                break
            pipe = self.r.pipeline(transaction=False)
            for i in ids:
                pipe.hgetall(P + "job:" + i.decode())
            for raw in self._do(pipe.execute):
                job = _job(raw) if raw else None
                if job and (not statuses or job.status in statuses) and len(out) < limit \
                        and (not webhook_id or job.webhook_id == webhook_id):
                    out.append(job)
            start += page
        return out

    def count(self, status: str) -> int:
        """How many ledger rows have this status (dead letters are indexed; others are counted)."""
        if status == "dead":
            return int(self._do(self.r.zcard, P + "dead"))
        return sum(1 for j in self.jobs(10**9, (status,)))

    def expire(self, now: float, retention: float) -> int:
        """Drop finished ledger rows older than `retention` and expired keys; return rows dropped."""
        self._call("expire_history", id_at(now - retention))
        return int(self._call("expire", repr(now - retention), *TERMINAL))

    def kv_get(self, key: str) -> str | None:
        """A small value by key, or None if absent or expired."""
        raw = self._do(self.r.get, P + "kv:" + key)
        return raw.decode() if raw is not None else None

    def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Set a small value, expiring after `ttl` seconds if given."""
        self._do(lambda: self.r.set(P + "kv:" + key, value, px=int(ttl * 1000) if ttl else None))

    def kv_set_nx(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set a small value only if absent (or expired); True if set."""
        return bool(self._do(lambda: self.r.set(P + "kv:" + key, value, nx=True,
                                                px=int(ttl * 1000) if ttl else None)))

    def kv_delete(self, key: str) -> None:
        """Remove a small value."""
        self._do(self.r.delete, P + "kv:" + key)

    def ping(self) -> None:
        """Raise StoreUnavailable with the reason if the store cannot be written (down, read-only replica, OOM)."""
        self._do(lambda: self.r.set(P + "ready", repr(time.time()), ex=60))

    def kv_incr(self, key: str, by: int, ttl: float | None = None) -> int:
        """Add `by` to the integer at `key` (absent: 0) and return the sum."""
        pipe = self.r.pipeline(transaction=True)
        pipe.incrby(P + "kv:" + key, by)
        if ttl:
            pipe.pexpire(P + "kv:" + key, int(ttl * 1000))
        return int(self._do(pipe.execute)[0])

    def pace(self, key: str, interval: float, burst: int, now: float, hold: float = 0.0) -> float:
        """Reserve the next send slot of the rate budget `key` (see Store.pace); when it may go."""
        return float(self._call("pace", P + "pace:" + key, repr(now), repr(interval), burst, repr(hold)))

    def defer(self, job_id: str, owner: str, now: float, next_at: float, batch: str) -> bool:
        """Give back a claimed job unsent, queued at `next_at` in `batch`, its attempt uncounted."""
        return bool(self._call("defer", job_id, owner, repr(now), repr(next_at), batch))

    def claim_batch(self, batch: str, owner: str, lease: float, now: float, limit: int) -> list[Job]:
        """Claim every queued/retrying job of `batch` (due or not), oldest first, at most `limit`."""
        flat = self._call("claim_batch", batch, repr(now), repr(now + lease), owner, limit)
        return sorted((_job(_pairs(f)) for f in flat), key=lambda j: (j.created_at, j.id))
