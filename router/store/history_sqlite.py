"""The history (history.py) on SQLite: webhooks, attempts and the counts the console charts."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import _GeneratorContextManager
from typing import Any

import orjson

from router.store.base import TERMINAL, Inbound, Job
from router.store.history import Attempt, WebhookQuery, WebhookRecord, activity_of

_WEBHOOK = "id, created_at, resource, action, title, project, issue_id, matched, duplicate_of, request_id"
INSERT_WEBHOOK = (f"insert or ignore into router_webhook ({_WEBHOOK}, body, received_at, body_sha256) "
                  f"values ({', '.join('?' * 13)})")
# the attempt number is the job's (claim counted it); written only while the claim is still ours
INSERT_ATTEMPT = ("insert into router_attempt (job_id, n, at, outcome, error, target) "
                  "select id, attempts, ?, ?, ?, target from router_job where id = ? and status = ? and owner = ?")


_BUMP = " on conflict (minute, name) do update set n = n + 1"
BUMP_WEBHOOKS = "insert into router_stat (minute, name, n) values (?, 'webhooks', 1)" + _BUMP
# counted only while the claim is ours, like INSERT_ATTEMPT (run both before the row's status changes)
BUMP_ATTEMPT = ("insert into router_stat (minute, name, n) select ?, ? || char(9) || target, 1 from router_job "
                "where id = ? and status = ? and owner = ?" + _BUMP)
STAT_KEEP = 2 * 86400.0


def webhook_row(rec: WebhookRecord) -> tuple[Any, ...]:
    """The row INSERT_WEBHOOK writes."""
    return (rec.id, rec.created_at, rec.resource, rec.action, rec.title, rec.project, rec.issue_id,
            orjson.dumps(list(rec.matched)).decode(), rec.duplicate_of, rec.request_id, rec.body, rec.received_at,
            rec.body_sha256)


def _record(row: Sequence[Any], body: bytes = b"", received_at: float = 0.0, body_sha256: str = "") -> WebhookRecord:
    return WebhookRecord(id=row[0], created_at=row[1], resource=row[2], action=row[3], title=row[4],
                         project=row[5], issue_id=row[6], matched=tuple(orjson.loads(row[7])),
                         duplicate_of=row[8], request_id=row[9], body=body, received_at=received_at,
                         body_sha256=body_sha256)


def expire_history(conn: sqlite3.Connection, cutoff: float) -> None:
    """Drop history older than `cutoff`: attempts of the finished jobs about to go, and webhooks."""
    conn.execute(f"delete from router_attempt where job_id in (select id from router_job where created_at < ? "
                 f"and status in ({', '.join('?' * len(TERMINAL))}))", (cutoff, *TERMINAL))
    # a webhook whose notifications are still to be sent (a dead letter replayed late) stays: they read it
    conn.execute("delete from router_webhook where created_at < ? and id not in (select webhook_id from router_job "
                 "where status in ('queued', 'sending', 'retrying'))", (cutoff,))
    conn.execute("delete from router_stat where minute < ?", (int((time.time() - STAT_KEEP) // 60),))


class SqliteHistory:
    """History reads and the one history write ingest makes (a duplicate); mixed into SqliteStore."""

    _read: Any
    _tx: Callable[[], _GeneratorContextManager[sqlite3.Connection]]   # SqliteDb._tx, a @contextmanager method

    def record_webhook(self, rec: WebhookRecord) -> None:
        """Add one webhook to the history (a duplicate Sentry sent again; others come with fan_out)."""
        with self._tx() as conn:
            conn.execute(INSERT_WEBHOOK, webhook_row(rec))
            conn.execute(BUMP_WEBHOOKS, (int(rec.created_at // 60),))

    def webhooks(self, query: WebhookQuery) -> list[WebhookRecord]:
        """A newest-first page of the history (without bodies)."""
        where, args = [], []
        for key, value in query.filters.items():
            if key == "rule":
                where.append("instr(matched, ?) > 0")
                args.append(orjson.dumps(value).decode())
            else:
                where.append(f"{key} = ?")  # key is one of history.FILTERS, checked by the caller
                args.append(value)
        if query.before:
            where.append("id < ?")
            args.append(query.before)
        sql = (f"select {_WEBHOOK} from router_webhook {'where ' + ' and '.join(where) if where else ''} "
               f"order by id desc limit ?")
        return [_record(r) for r in self._read(sql, (*args, query.limit))]

    def webhook(self, webhook_id: str) -> WebhookRecord | None:
        """One webhook of the history, with its body."""
        rows = self._read(f"select {_WEBHOOK}, body, received_at, body_sha256 from router_webhook where id = ?",
                          (webhook_id,))
        return _record(rows[0], bytes(rows[0][10]), rows[0][11], rows[0][12]) if rows else None

    def pending(self, limit: int, before: str = "") -> list[Inbound]:
        """Accepted webhooks no worker has fanned out yet, newest first."""
        rows = self._read("select id, created_at, resource, request_id, received_at, body_sha256, body, notes, "
                          "matched from router_inbound where id < ? order by id desc limit ?",
                          (before or "~", limit))
        return [Inbound(*r) for r in rows]

    def job_counts(self, webhook_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per webhook, how many of its notifications are in each status."""
        out: dict[str, dict[str, int]] = {}
        if not webhook_ids:
            return out
        rows = self._read(f"select webhook_id, status, count(*) from router_job where webhook_id in "
                          f"({', '.join('?' * len(webhook_ids))}) group by webhook_id, status", tuple(webhook_ids))
        for wid, status, n in rows:
            out.setdefault(wid, {})[status] = n
        return out

    def attempts(self, job_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        """Every recorded attempt of each job, oldest first."""
        out: dict[str, list[Attempt]] = {j: [] for j in job_ids}
        if job_ids:
            rows = self._read(f"select job_id, at, outcome, error from router_attempt where job_id in "
                              f"({', '.join('?' * len(job_ids))}) order by rowid", tuple(job_ids))
            for job_id, at, outcome, error in rows:
                out[job_id].append(Attempt(at, outcome, error))
        return out

    def webhook_jobs(self, webhook_id: str) -> list[Job]:
        """One webhook's notifications, in the order they were made."""
        from router.store.sqlite import _SELECT, _job

        return [_job(r) for r in self._read(f"{_SELECT} where webhook_id = ? order by id", (webhook_id,))]

    def notifications(self, statuses: Sequence[str], limit: int, before: str = "") -> list[Job]:
        """Ledger rows with one of `statuses` (any when empty), newest first, ids below `before`."""
        from router.store.sqlite import _SELECT, _job

        where = [f"status in ({', '.join('?' * len(statuses))})"] if statuses else []
        where += ["id < ?"] if before else []
        sql = f"{_SELECT} {'where ' + ' and '.join(where) if where else ''} order by id desc limit ?"
        return [_job(r) for r in self._read(sql, (*statuses, *([before] if before else []), limit))]

    def activity(self, since: float, bucket: float) -> dict[str, Any]:
        """Counts since `since` (whole minutes) per `bucket` seconds: webhooks, and attempts by outcome and
        target; read from the per-minute counters, so a day is at most 1,440 rows per name."""
        rows = self._read("select minute, name, n from router_stat where minute >= ?", (int(since // 60),))
        return activity_of(rows, since, bucket)
