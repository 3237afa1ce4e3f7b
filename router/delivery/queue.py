"""The transport: a huey instance (SqliteHuey at ROUTER_DB, RedisHuey with REDIS_URL) and one `deliver` task.

huey only carries job ids; the ledger in the store is the source of truth (a dequeued huey task is
gone from storage, so a worker killed mid-send would lose it — the ledger's lease brings it back).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey
from huey.api import TaskWrapper
from huey.storage import SqliteStorage

from router.delivery.checkpoint import WAL_LIMIT, checkpointer
from router.delivery.writelock import write_lock
from router.settings import Settings

NAME = "router"
_INSERT_TASK = "insert into task (queue, data, priority) values (?, ?, ?)"  # huey's SqliteStorage.enqueue
_handler: Callable[[str], None] | None = None


class _Sqlite(SqliteStorage):
    """huey's SQLite storage with synchronous=NORMAL under WAL (crash-safe for processes, ~7x cheaper) and
    checkpoints in the background (checkpoint.py)."""

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=normal")
        conn.execute("pragma wal_autocheckpoint=0")  # checkpoint.py does it off the write path
        conn.execute(f"pragma journal_size_limit={WAL_LIMIT}")
        return conn

    @contextlib.contextmanager
    def db(self, commit: bool = False, close: bool = False) -> Iterator[Any]:
        """huey's cursor; write transactions queue on the store's WriteLock instead of SQLite's sleeping retry."""
        if not commit:
            with super().db(commit, close) as curs:
                yield curs
            return
        if not hasattr(self, "_write_lock"):
            self._write_lock = write_lock(self.filename)
        with self._write_lock.hold(), super().db(commit, close) as curs:
            yield curs
        checkpointer(self.filename).nudge()

    def enqueue_many(self, messages: list[bytes]) -> None:
        """Insert several serialised tasks in one transaction."""
        with self.db(commit=True) as curs:
            curs.executemany(_INSERT_TASK, [(self.name, self.to_blob(m), 0) for m in messages])


def set_handler(handler: Callable[[str], None] | None) -> None:
    """Install what runs a job id in this process (the worker); web processes never set one."""
    global _handler
    _handler = handler


def _deliver(job_id: str) -> None:
    if _handler is None:
        raise RuntimeError("deliver task executed in a process without a delivery worker")
    _handler(job_id)


class Queue:
    """The huey instance plus the one task; enqueue/schedule job ids, read the depth."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.task: TaskWrapper = huey.task(name="deliver")(_deliver)

    @classmethod
    def from_settings(cls, settings: Settings) -> Queue:
        """SqliteHuey on ROUTER_DB by default, RedisHuey (blocking dequeue) when REDIS_URL is set."""
        if settings.redis_url:
            from router.delivery.store_redis import client_url

            return cls(RedisHuey(NAME, url=client_url(settings.redis_url), blocking=True, read_timeout=1,
                                 results=False))
        Path(settings.db_path).parent.mkdir(parents=True, exist_ok=True)
        return cls(Huey(NAME, storage_class=_Sqlite, filename=settings.db_path, journal_mode="wal",
                        timeout=10, results=False))

    def enqueue(self, job_ids: Iterable[str]) -> None:
        """Queue each job id for immediate delivery (on SQLite, all in one transaction)."""
        tasks = [self.task.s(job_id) for job_id in job_ids]
        if isinstance(self.huey.storage, _Sqlite):
            self.huey.storage.enqueue_many([self.huey.serialize_task(t) for t in tasks])
            return
        for task in tasks:
            self.huey.enqueue(task)

    def task_writer(self, job_ids: Iterable[str], db_path: str | None) -> Callable[[Any], None] | None:
        """On SQLite at `db_path`: what inserts the jobs' tasks on a given connection, so the store can write
        them in its own transaction (one commit per webhook, and no window where a job has no task)."""
        storage = self.huey.storage
        if not isinstance(storage, _Sqlite) or not db_path or \
                os.path.abspath(storage.filename) != os.path.abspath(db_path):
            return None
        rows = [(storage.name, self.huey.serialize_task(self.task.s(job_id)), 0) for job_id in job_ids]
        return lambda conn: conn.executemany(_INSERT_TASK, rows)

    def schedule(self, job_id: str, delay: float) -> None:
        """Queue a job id to run after `delay` seconds (huey's scheduler moves it when due)."""
        self.task.schedule(args=(job_id,), delay=max(0.0, delay))

    def depth(self) -> int:
        """Jobs waiting in the queue now (scheduled retries not included)."""
        return int(self.huey.pending_count())
