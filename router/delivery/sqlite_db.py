"""The SQLite side of the store: one connection per process and thread, the schema, write transactions.

WAL with synchronous=NORMAL (safe against process crashes; fsync at checkpoints, which checkpoint.py runs off
the write path), writers queued on an flock (writelock.py) rather than SQLite's sleeping busy handler.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from router.delivery.checkpoint import WAL_LIMIT, Checkpointer, checkpointer
from router.delivery.forks import pid
from router.delivery.health import unavailable
from router.delivery.store import StoreUnavailable
from router.delivery.writelock import write_lock

SCHEMA = (
    """create table if not exists router_job (
        id text primary key, webhook_id text not null, rule text not null, target text not null,
        target_type text not null, status text not null, attempts integer not null default 0,
        last_error text not null default '', created_at real not null, updated_at real not null,
        next_at real not null, deadline_at real not null, lease_until real not null default 0,
        owner text not null default '', receipt text not null default '{}', payload text not null,
        suppressed integer)""",
    "create index if not exists router_job_status on router_job (status, next_at)",
    "create index if not exists router_job_created on router_job (created_at)",
    # one B-tree, not a table plus its key's index: a page fewer per webhook (files made before keep theirs)
    """create table if not exists router_dedup (key text primary key, expires_at real not null,
        webhook_id text not null default '') without rowid""",
    # accepted webhooks until the worker fans them out into jobs (fanout.py); rows live for milliseconds and
    # ids sort by time, so both B-trees are appended to. Not WITHOUT ROWID: such a row stores at most ~1 KB
    # in its leaf and a webhook (body + notes) is usually more, costing an overflow page per commit
    """create table if not exists router_inbound (id text primary key, created_at real not null,
        due_at real not null, resource text not null, request_id text not null, received_at real not null,
        body_sha256 text not null, body blob not null, notes text not null, leases integer not null default 0)""",
    """create table if not exists router_throttle (key text primary key, until real not null,
        suppressed integer not null default 0, holder text not null, carried integer not null default 0,
        expires_at real not null)""",
    "create table if not exists router_kv (key text primary key, value text not null, expires_at real)",
    # silences (silence_store.py): finished_at is when it stops holding back (null: until its issue resolves)
    "create table if not exists router_silence (id text primary key, finished_at real, body text not null)",
    # the history the console and API read (history.py): ids sort by time, so lists walk an index backwards
    """create table if not exists router_webhook (id text primary key, created_at real not null,
        resource text not null, action text not null, title text not null, project text not null,
        issue_id text not null, matched text not null, duplicate_of text not null, request_id text not null,
        body blob not null)""",
    "create index if not exists router_webhook_resource on router_webhook (resource, id)",
    "create index if not exists router_webhook_action on router_webhook (action, id)",
    "create index if not exists router_webhook_issue on router_webhook (issue_id, id)",
    "create index if not exists router_webhook_project on router_webhook (project, id)",
    "create index if not exists router_job_webhook on router_job (webhook_id)",
    "create index if not exists router_job_status_id on router_job (status, id)",
    # not keyed by (job, n): a replayed job counts its attempts from 1 again, and keeps the earlier ones
    """create table if not exists router_attempt (job_id text not null, n integer not null, at real not null,
        outcome text not null, error text not null, target text not null)""",
    "create index if not exists router_attempt_job on router_attempt (job_id)",
    # per-minute counts for the status charts (webhooks; attempts by outcome and target), bumped as they happen
    """create table if not exists router_stat (minute integer not null, name text not null, n integer not null,
        primary key (minute, name)) without rowid""",
)

# columns added since a table was first made: files from before get them when first opened
UPGRADES = (("router_dedup", "webhook_id text not null default ''"),  # files of 0.1
            ("router_inbound", "leases integer not null default 0"),  # files of 2026-11-26
            ("router_inbound", "matched text not null default '[]'"),  # files of 2026-11-29
            ("router_job", "batch text not null default ''"),  # files before pacing (pacing.py)
            # what rebuilds a job's event from its webhook row (jobs made before carry the event themselves)
            ("router_webhook", "received_at real not null default 0"),
            ("router_webhook", "body_sha256 text not null default ''"))
# indexes on upgraded columns: made after the upgrades
INDEXES = ("create index if not exists router_job_batch on router_job (batch, status) where batch != ''",
           # the queue: due jobs, soonest first (store_sqlite.claim_next), without the finished rows
           "create index if not exists router_job_due on router_job (next_at) where status in ('queued', 'retrying')")


class SqliteDb:
    """Connections to one SQLite file that are safe across threads and forked processes."""

    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._schema_done = False
        self._write_lock = write_lock(path)
        self._ckpt: tuple[int, Checkpointer] | None = None

    @property
    def _checkpointer(self) -> Checkpointer:
        ckpt = self._ckpt
        if ckpt is None or ckpt[0] != pid():  # a forked child has its own (threads do not survive a fork)
            ckpt = self._ckpt = (pid(), checkpointer(self.path))
        return ckpt[1]

    # -- connections -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == pid():
            return conn
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute("pragma journal_mode=wal")
        conn.execute("pragma synchronous=normal")  # safe against process crashes; fsync at checkpoints
        conn.execute("pragma wal_autocheckpoint=0")  # checkpoint.py does it off the write path
        conn.execute(f"pragma journal_size_limit={WAL_LIMIT}")  # a reset WAL is cut back to this on disk
        if not self._schema_done:
            for ddl in SCHEMA:
                conn.execute(ddl)
            for table, column in UPGRADES:
                try:  # no look first: two processes upgrading at once would both find the column missing
                    conn.execute(f"alter table {table} add column {column}")
                except sqlite3.OperationalError as exc:
                    if "duplicate column name" not in str(exc):
                        raise
            for ddl in INDEXES:
                conn.execute(ddl)
            self._schema_done = True
        self._local.conn, self._local.pid = conn, pid()
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: take the write lock up front, no upgrade deadlocks)."""
        held = self._write_lock.acquire()  # not hold(): one generator fewer on every webhook's write
        try:
            try:
                conn = self._conn()
                conn.execute("begin immediate")
            except sqlite3.Error as exc:
                raise unavailable(self.path, exc) from None
            try:
                yield conn
                conn.execute("commit")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("rollback")
                if isinstance(exc, sqlite3.Error):  # disk full, I/O error, corrupt file: the store is unusable
                    raise unavailable(self.path, exc) from None
                raise
        finally:
            if held:
                self._write_lock.release()
        self._checkpointer.nudge()

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise unavailable(self.path, exc) from None
