"""The delivery store in one SQLite file (ROUTER_DB); its ledger is the queue. Connections and tuning in
sqlite_tuning.py."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from router.store.base import (
    DEAD,
    HEARTBEAT_PREFIX,
    MAX_LEASE_DOUBLINGS,
    QUEUED,
    RETRYING,
    SENDING,
    TERMINAL,
    Inbound,
    Job,
    gcra,
    pack_payload,
    unpack_payload,
)
from router.store.history import WebhookRecord
from router.store.history_sqlite import (
    BUMP_ATTEMPT,
    BUMP_WEBHOOKS,
    INSERT_ATTEMPT,
    INSERT_WEBHOOK,
    SqliteHistory,
    expire_history,
    webhook_row,
)
from router.store.sqlite_tuning import SqliteDb

_COLUMNS = ("id", "webhook_id", "rule", "target", "target_type", "status", "attempts", "last_error",
            "created_at", "updated_at", "next_at", "deadline_at", "lease_until", "owner", "receipt",
            "payload", "suppressed")
_SELECT = f"select {', '.join(_COLUMNS)} from router_job"
_INSERT_JOB = f"insert into router_job ({', '.join(_COLUMNS)}) values ({', '.join('?' * len(_COLUMNS))})"
_INBOUND_COLUMNS = "id, created_at, resource, request_id, received_at, body_sha256, body, notes, matched"
_INSERT_INBOUND = ("insert into router_inbound (id, created_at, due_at, resource, request_id, received_at, "
                   "body_sha256, body, notes, matched) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
# due jobs, through the partial index router_job_due (named: the planner prefers (status, next_at) and a sort)
_DUE = "router_job indexed by router_job_due where status in ('queued', 'retrying') and next_at <= ?"
_CLAIM_NEXT = (f"update router_job set status = 'sending', attempts = attempts + 1, lease_until = ?, owner = ?, "
               f"updated_at = ? where id in (select id from {_DUE} order by next_at limit ?) "
               f"returning {', '.join(_COLUMNS)}")
POLL = 0.05  # seconds an idle sender waits at most for a job another process made due (no signal crosses them)
_CLAIM = ("insert into router_dedup (key, expires_at, webhook_id) values (?, ?, ?) on conflict (key) do update "
          "set expires_at = excluded.expires_at, webhook_id = excluded.webhook_id where router_dedup.expires_at <= ?")


def _job(row: Sequence[Any]) -> Job:
    d = dict(zip(_COLUMNS, row, strict=False))
    d["receipt"] = json.loads(d["receipt"] or "{}")
    d["payload"] = unpack_payload(d["payload"])
    return Job(**d)


def _row(job: Job) -> tuple[Any, ...]:
    d = {c: getattr(job, c) for c in _COLUMNS}
    d["receipt"] = json.dumps(dict(job.receipt))
    d["payload"] = pack_payload(job.payload)
    return tuple(d[c] for c in _COLUMNS)


class SqliteStore(SqliteHistory, SqliteDb):
    """Store on SQLite; safe across threads and forked processes (connections are per pid and thread)."""

    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        super().__init__(path, busy_timeout)
        self._wake = threading.Condition()   # what this process made due wakes its idle senders at once

    def _due_now(self, n: int) -> None:
        with self._wake:
            self._wake.notify(n)

    # -- ingest ------------------------------------------------------------------------------
    def accept(self, dedup_key: str, ttl: float, inbound: Inbound | None, now: float,
               webhook_id: str = "") -> bool:
        """Claim the dedup key and write the inbound webhook, due now, together; False (and nothing written)
        if a duplicate."""
        webhook_id = inbound.webhook_id if inbound is not None else webhook_id
        with self._tx() as conn:
            if conn.execute(_CLAIM, (dedup_key, now + ttl, webhook_id, now)).rowcount != 1:
                return False
            if inbound is not None:
                i = inbound
                conn.execute(_INSERT_INBOUND, (i.webhook_id, i.created_at, i.created_at, i.resource, i.request_id,
                                               i.received_at, i.body_sha256, i.body, i.notes, i.matched))
            return True

    def inbound(self, webhook_id: str) -> Inbound | None:
        """An accepted webhook not yet fanned out into jobs, or None."""
        rows = self._read(f"select {_INBOUND_COLUMNS} from router_inbound where id = ?", (webhook_id,))
        return Inbound(*rows[0]) if rows else None

    def fan_out(self, webhook_id: str, jobs: Sequence[Job], record: WebhookRecord | None = None) -> bool:
        """Replace the inbound webhook by its jobs (and its history `record`), together; False (and nothing
        written) if it is gone."""
        rows = [_row(j) for j in jobs]  # serialise before taking the write lock
        with self._tx() as conn:
            if conn.execute("delete from router_inbound where id = ?", (webhook_id,)).rowcount != 1:
                return False
            conn.executemany(_INSERT_JOB, rows)
            if record is not None:
                conn.execute(INSERT_WEBHOOK, webhook_row(record))
                conn.execute(BUMP_WEBHOOKS, (int(record.created_at // 60),))
        self._due_now(len(rows))
        return True

    def count_inbound(self) -> int:
        """Accepted webhooks not yet fanned out into jobs."""
        return int(self._read("select count(*) from router_inbound")[0][0])

    def due_inbound(self, now: float, lease: float, limit: int) -> list[str]:
        """Inbound webhooks due at `now`, oldest first; each is due again `lease` seconds later unless it has
        been fanned out by then, twice as long after each further lease (up to MAX_LEASE_DOUBLINGS)."""
        if not self._read("select 1 from router_inbound where due_at <= ? limit 1", (now,)):
            return []  # the worker polls this often: no write transaction when nothing is due
        with self._tx() as conn:  # (`leases` on the right is the count before this lease)
            rows = conn.execute("update router_inbound set leases = leases + 1, due_at = ? + ? * (1 << min(leases, ?)) "
                                "where id in (select id from router_inbound where due_at <= ? order by id limit ?) "
                                "returning id", (now, lease, MAX_LEASE_DOUBLINGS, now, limit)).fetchall()
        return sorted(r[0] for r in rows)

    def original(self, dedup_key: str) -> str | None:
        """The id of the webhook that holds `dedup_key`, if known."""
        rows = self._read("select webhook_id from router_dedup where key = ?", (dedup_key,))
        return rows[0][0] or None if rows else None

    # -- worker ------------------------------------------------------------------------------
    def claim(self, job_id: str, owner: str, lease: float, now: float) -> Job | None:
        """Take a due queued/retrying job for sending (attempts + 1); None if it is not ours to send."""
        with self._tx() as conn:
            row = conn.execute(
                f"update router_job set status = ?, attempts = attempts + 1, lease_until = ?, owner = ?, "
                f"updated_at = ? where id = ? and status in (?, ?) and next_at <= ? "
                f"returning {', '.join(_COLUMNS)}",
                (SENDING, now + lease, owner, now, job_id, QUEUED, RETRYING, now + 0.5)).fetchone()
        return _job(row) if row else None

    def claim_next(self, owner: str, lease: float, now: float, limit: int = 1) -> list[Job]:
        """Take up to `limit` due queued/retrying jobs, soonest first, for sending (attempts + 1)."""
        if not self._read(f"select 1 from {_DUE} limit 1", (now,)):
            return []  # idle senders look often: no write transaction when nothing is due
        with self._tx() as conn:
            rows = conn.execute(_CLAIM_NEXT, (now + lease, owner, now, now, limit)).fetchall()
        return sorted((_job(r) for r in rows), key=lambda j: j.next_at)

    def count_due(self, now: float, upto: int = 0) -> int:
        """How many queued/retrying jobs are due at `now`; with `upto`, counting stops there."""
        limit = f" limit {int(upto)}" if upto > 0 else ""
        return int(self._read(f"select count(*) from (select 1 from {_DUE}{limit})", (now,))[0][0])

    def wait_due(self, timeout: float) -> None:
        """Wait for this process to make a job due, or at most POLL seconds (other processes' jobs)."""
        with self._wake:
            self._wake.wait(min(timeout, POLL))

    def record(self, job_id: str, owner: str, status: str, now: float, *, error: str = "",
               receipt: Mapping[str, Any] | None = None, next_at: float = 0.0,
               suppressed: int | None = None) -> bool:
        """Store the outcome of a send we hold the claim for; False if the claim was lost."""
        with self._tx() as conn:
            conn.execute(INSERT_ATTEMPT, (now, status, error, job_id, SENDING, owner))
            conn.execute(BUMP_ATTEMPT, (int(now // 60), status, job_id, SENDING, owner))
            cur = conn.execute(
                "update router_job set status = ?, updated_at = ?, last_error = ?, "
                "receipt = coalesce(?, receipt), next_at = ?, lease_until = 0, "
                "suppressed = coalesce(?, suppressed) where id = ? and status = ? and owner = ?",
                (status, now, error, json.dumps(dict(receipt)) if receipt is not None else None,
                 next_at or now, suppressed, job_id, SENDING, owner))
        if cur.rowcount == 1 and status in (QUEUED, RETRYING) and (next_at or now) <= now:
            self._due_now(1)   # given back due now (a store outage settled): an idle sender takes it
        return cur.rowcount == 1

    def release(self, owner: str, keep: Sequence[str], now: float) -> list[str]:
        """Give back every job `owner` holds the claim of except `keep`: retrying, due now; the ids."""
        with self._tx() as conn:
            rows = conn.execute(
                f"update router_job set status = ?, next_at = ?, updated_at = ?, lease_until = 0 where status = ? "
                f"and owner = ? and id not in ({', '.join('?' * len(keep))}) returning id",
                (RETRYING, now, now, SENDING, owner, *keep)).fetchall()
        self._due_now(len(rows))
        return [r[0] for r in rows]

    def renew(self, job_ids: Sequence[str], owner: str, until: float) -> list[str]:
        """Extend the lease of jobs `owner` is still sending to `until`; the ids renewed."""
        if not job_ids:
            return []
        with self._tx() as conn:
            rows = conn.execute(
                f"update router_job set lease_until = ? where status = ? and owner = ? "
                f"and id in ({', '.join('?' * len(job_ids))}) returning id",
                (until, SENDING, owner, *job_ids)).fetchall()
        return [r[0] for r in rows]

    def recover_orphans(self, now: float) -> list[str]:
        """Sending jobs whose lease expired or whose worker stopped beating: back to retrying, due now."""
        with self._tx() as conn:
            rows = conn.execute(
                "update router_job set status = ?, next_at = ?, updated_at = ?, lease_until = 0 "
                "where status = ? and (lease_until < ? or not exists (select 1 from router_kv "
                "where key = ? || owner and (expires_at is null or expires_at > ?))) returning id",
                (RETRYING, now, now, SENDING, now, HEARTBEAT_PREFIX, now)).fetchall()
        self._due_now(len(rows))
        return [r[0] for r in rows]

    def requeue(self, job_id: str, now: float, deadline: float, statuses: Sequence[str] = (DEAD,)) -> bool:
        """A dead letter (or a job in one of `statuses`) back to queued with fresh attempts; False unless it
        was in one of them."""
        with self._tx() as conn:
            cur = conn.execute(f"update router_job set status = ?, attempts = 0, next_at = ?, deadline_at = ?, "
                               f"updated_at = ?, suppressed = coalesce(suppressed, 0) where id = ? and status in "
                               f"({', '.join('?' * len(statuses))})",
                               (QUEUED, now, now + deadline, now, job_id, *statuses))
        self._due_now(cur.rowcount)
        return cur.rowcount == 1

    def throttle_hit(self, key: str, window: float, holder: str, now: float) -> tuple[bool, int]:
        """One notification per key per window: (allowed, suppressed since the last one allowed)."""
        with self._tx() as conn:
            row = conn.execute("select until, suppressed, holder, carried from router_throttle where key = ?",
                               (key,)).fetchone()
            if row and row[2] == holder:           # the same job asking again (retry, recovery)
                return True, row[3]
            if row and row[0] > now:
                conn.execute("update router_throttle set suppressed = suppressed + 1 where key = ?", (key,))
                return False, row[1] + 1
            carried = row[1] if row else 0
            conn.execute("insert or replace into router_throttle (key, until, suppressed, holder, carried, "
                         "expires_at) values (?, ?, 0, ?, ?, ?)",
                         (key, now + window, holder, carried, now + max(window, 86400.0) * 7))
            return True, carried

    # -- ledger ------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        """One ledger row, or None."""
        rows = self._read(f"{_SELECT} where id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def jobs(self, limit: int, statuses: Sequence[str] = (), webhook_id: str = "") -> list[Job]:
        """The newest ledger rows first, optionally only those with one of `statuses` or of one webhook."""
        where = [f"status in ({', '.join('?' * len(statuses))})"] if statuses else []
        where += ["webhook_id = ?"] if webhook_id else []
        sql = f"{_SELECT}{' where ' + ' and '.join(where) if where else ''} order by created_at desc, id limit ?"
        rows = self._read(sql, (*statuses, *([webhook_id] if webhook_id else []), limit))
        return [_job(r) for r in rows]

    def count(self, status: str) -> int:
        """How many ledger rows have this status."""
        return int(self._read("select count(*) from router_job where status = ?", (status,))[0][0])

    def expire(self, now: float, retention: float) -> int:
        """Drop finished ledger rows older than `retention` and expired keys; return rows dropped."""
        with self._tx() as conn:
            expire_history(conn, now - retention)
            cur = conn.execute(f"delete from router_job where created_at < ? and status in "
                               f"({', '.join('?' * len(TERMINAL))})", (now - retention, *TERMINAL))
            conn.execute("delete from router_dedup where expires_at <= ?", (now,))
            conn.execute("delete from router_throttle where expires_at <= ?", (now,))
            conn.execute("delete from router_kv where expires_at <= ?", (now,))
            return cur.rowcount

    # -- small key-value ---------------------------------------------------------------------
    def kv_get(self, key: str) -> str | None:
        """A small value by key, or None if absent or expired."""
        rows = self._read("select value from router_kv where key = ? and (expires_at is null or expires_at > ?)",
                          (key, time.time()))
        return rows[0][0] if rows else None

    def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Set a small value, expiring after `ttl` seconds if given."""
        with self._tx() as conn:
            conn.execute("insert or replace into router_kv (key, value, expires_at) values (?, ?, ?)",
                         (key, value, time.time() + ttl if ttl else None))

    def kv_set_nx(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set a small value only if absent (or expired); True if set."""
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute("insert into router_kv (key, value, expires_at) values (?, ?, ?) on conflict (key) "
                               "do update set value = excluded.value, expires_at = excluded.expires_at "
                               "where router_kv.expires_at is not null and router_kv.expires_at <= ?",
                               (key, value, now + ttl if ttl else None, now))
            return cur.rowcount == 1

    def kv_delete(self, key: str) -> None:
        """Remove a small value."""
        with self._tx() as conn:
            conn.execute("delete from router_kv where key = ?", (key,))

    def ping(self) -> None:
        """Raise StoreUnavailable with the reason if the store cannot be written (disk full, corrupt, read-only)."""
        now = time.time()
        with self._tx() as conn:
            conn.execute("insert or replace into router_kv (key, value, expires_at) values ('router:ready', ?, ?)",
                         (repr(now), now + 60))

    def kv_incr(self, key: str, by: int, ttl: float | None = None) -> int:
        """Add `by` to the integer at `key` (absent or expired: 0) and return the sum."""
        now = time.time()
        with self._tx() as conn:
            row = conn.execute("insert into router_kv (key, value, expires_at) values (?, ?, ?) on conflict (key) do "
                               "update set value = case when router_kv.expires_at is not null and "
                               "router_kv.expires_at <= ? then excluded.value else cast(cast(router_kv.value as "
                               "integer) + ? as text) end, expires_at = excluded.expires_at returning value",
                               (key, str(by), now + ttl if ttl else None, now, by)).fetchone()
        return int(row[0])

    # -- pacing and batches ------------------------------------------------------------------
    def pace(self, key: str, interval: float, burst: int, now: float, hold: float = 0.0) -> float:
        """Reserve the next send slot of the rate budget `key` (see Store.pace); when it may go."""
        with self._tx() as conn:
            row = conn.execute("select value from router_kv where key = ? and (expires_at is null or expires_at > ?)",
                               ("pace:" + key, now)).fetchone()
            slot, tat = gcra(float(row[0]) if row else 0.0, now, interval, burst, hold)
            conn.execute("insert or replace into router_kv (key, value, expires_at) values (?, ?, ?)",
                         ("pace:" + key, repr(tat), tat + 60.0))
        return slot

    def defer(self, job_id: str, owner: str, now: float, next_at: float, batch: str) -> bool:
        """Give back a claimed job unsent, queued at `next_at` in `batch`, its attempt uncounted."""
        with self._tx() as conn:
            cur = conn.execute("update router_job set status = ?, attempts = max(attempts - 1, 0), next_at = ?, "
                               "batch = ?, lease_until = 0, updated_at = ? where id = ? and status = ? and owner = ?",
                               (QUEUED, next_at, batch, now, job_id, SENDING, owner))
            return cur.rowcount == 1

    def claim_batch(self, batch: str, owner: str, lease: float, now: float, limit: int) -> list[Job]:
        """Claim every queued/retrying job of `batch` (due or not), oldest first, at most `limit`."""
        if not self._read("select 1 from router_job where batch = ? and status in (?, ?) limit 1",
                          (batch, QUEUED, RETRYING)):
            return []   # the usual case when nothing waits: no write transaction
        with self._tx() as conn:
            rows = conn.execute(
                f"update router_job set status = ?, attempts = attempts + 1, lease_until = ?, owner = ?, "
                f"updated_at = ? where id in (select id from router_job where batch = ? and status in (?, ?) "
                f"order by created_at, id limit ?) returning {', '.join(_COLUMNS)}",
                (SENDING, now + lease, owner, now, batch, QUEUED, RETRYING, limit)).fetchall()
        return sorted((_job(r) for r in rows), key=lambda j: (j.created_at, j.id))
