"""One writer at a time on a SQLite file, across processes and threads, without SQLite's sleeping busy wait.

SQLite's busy handler polls a held write lock by sleeping 1, 2, 5, 10… ms, which under concurrent ingest
(two gunicorn workers) made most webhooks wait milliseconds for a lock held for microseconds. An flock on
`<db>.lock` queues writers in the kernel instead: a waiter wakes as soon as the holder releases it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from router.delivery.forks import pid

_SHARED: dict[str, WriteLock] = {}
_SHARED_GUARD = threading.Lock()


def write_lock(db_path: str) -> WriteLock:
    """The one WriteLock of this process for a database file (shared, so nesting in a thread cannot deadlock)."""
    key = os.path.abspath(db_path)
    with _SHARED_GUARD:
        return _SHARED.setdefault(key, WriteLock(key))


class WriteLock:
    """An exclusive flock on PATH + '.lock'; one file descriptor per process and thread (flock is per fd)."""

    def __init__(self, db_path: str) -> None:
        self.path = db_path + ".lock"
        self._local = threading.local()

    def _fd(self) -> int:
        fd = getattr(self._local, "fd", None)
        if fd is not None and self._local.pid == pid():
            return fd
        # after a fork the inherited descriptor shares its lock with the parent: open our own
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._local.fd, self._local.pid, self._local.depth = fd, pid(), 0
        return fd

    def acquire(self) -> bool:
        """Take the lock (re-entrant within a thread); False when it cannot be had (an unwritable folder: SQLite's
        own locking is all there is then). Every True is followed by one release()."""
        try:
            fd = self._fd()
        except OSError:
            return False
        if self._local.depth == 0:
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._local.depth += 1
        return True

    def release(self) -> None:
        """Undo one acquire() that returned True."""
        self._local.depth -= 1
        if self._local.depth == 0:
            fcntl.flock(self._local.fd, fcntl.LOCK_UN)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the block (re-entrant within a thread)."""
        held = self.acquire()
        try:
            yield
        finally:
            if held:
                self.release()

    def forget_thread(self) -> None:
        """Close the calling thread's descriptor; a thread that used the lock calls it before it ends (or its
        descriptor stays open for the life of the process)."""
        fd = getattr(self._local, "fd", None)
        if fd is not None and self._local.pid == pid() and self._local.depth == 0:
            os.close(fd)
            self._local.fd = None
