"""All the SQLite tuning in one place: what makes the embedded store fast and safe under several processes.

1. Process ids without a system call (per-process state is checked against them on every write).
2. One writer at a time, queued in the kernel on an flock, not in SQLite's sleeping busy handler.
3. WAL checkpoints in a background thread, off the write path.
4. Connections: WAL, synchronous=NORMAL, no automatic checkpoint, per process and thread; write transactions
   that take the write lock up front.
Measured effects are in bench/RESULTS.md ("Ingest", "SQLite").
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from router.store.health import unavailable
from router.store.sqlite_schema import INDEXES, SCHEMA, UPGRADES

log = logging.getLogger(__name__)


# -- 1. process ids ------------------------------------------------------------------------------
# This process's id without a system call per check: per-process state (connections, lock descriptors) is
# checked against it on every write, and os.getpid() is a system call (glibc stopped caching it).

_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


def pid() -> int:
    """os.getpid(), cached and refreshed in every forked child."""
    return _pid


# -- 2. the write lock ---------------------------------------------------------------------------
# One writer at a time on a SQLite file, across processes and threads, without SQLite's sleeping busy wait.
#
# SQLite's busy handler polls a held write lock by sleeping 1, 2, 5, 10… ms, which under concurrent ingest
# (two gunicorn workers) made most webhooks wait milliseconds for a lock held for microseconds. An flock on
# `<db>.lock` queues writers in the kernel instead: a waiter wakes as soon as the holder releases it.

_LOCKS: dict[str, WriteLock] = {}
_LOCKS_GUARD = threading.Lock()


def write_lock(db_path: str) -> WriteLock:
    """The one WriteLock of this process for a database file (shared, so nesting in a thread cannot deadlock)."""
    key = os.path.abspath(db_path)
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, WriteLock(key))


class WriteLock:
    """An exclusive flock on PATH + '.lock'; one file descriptor per process and thread (flock is per fd)."""

    def __init__(self, db_path: str) -> None:
        self.path = db_path + ".lock"
        self._local = threading.local()

    def _fd(self) -> int:
        fd: int | None = getattr(self._local, "fd", None)
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


# -- 3. checkpoints ------------------------------------------------------------------------------
# WAL checkpoints in a background thread, off the write path.
#
# SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, fsyncing the WAL and the
# database file (synchronous=NORMAL syncs only at checkpoints). Under our write lock that stalled every writer
# of every process for 10-30 ms about once per 150 webhooks. Connections here disable it
# (`pragma wal_autocheckpoint=0`); a writer calls `nudge()` after committing, and one daemon thread per process
# and file runs a PASSIVE checkpoint (it never blocks writers) at most once per INTERVAL, and one more short
# pass under the write lock when the WAL has stopped resetting itself (steady writes).

INTERVAL = 1.0  # seconds between checkpoints while writes go on; the WAL stays at about a second of writes
IDLE_EXIT = 60.0  # a thread with nothing to do for this long closes its connection and ends
RESTART_FRAMES = 4_000  # a WAL this long (16 MB) after a checkpoint is restarted (it stopped resetting itself)
CATCH_UP_FRAMES = 200  # PASSIVE passes repeat until one copies this few: about as few are left to copy locked
WAL_LIMIT = 16 * 1024 * 1024  # bytes a WAL file keeps on disk after a reset (journal_size_limit); 0 once idle
_CHECKPOINTERS: dict[tuple[int, str], Checkpointer] = {}
_CHECKPOINTERS_GUARD = threading.Lock()


def _passive(conn: sqlite3.Connection) -> tuple[int, int]:
    """One PASSIVE checkpoint (never blocks writers): (frames in the WAL, frames copied into the database);
    (-1, -1) when SQLite could not run it just then (busy)."""
    _, frames, copied = conn.execute("pragma wal_checkpoint(PASSIVE)").fetchall()[0]  # fetchall: statement done
    return int(frames), int(copied)


def checkpointer(db_path: str) -> Checkpointer:
    """The Checkpointer of this process for a database file (a fork gets its own: threads do not survive it)."""
    key = (pid(), os.path.abspath(db_path))
    with _CHECKPOINTERS_GUARD:
        found = _CHECKPOINTERS.get(key)
        if found is None:
            found = _CHECKPOINTERS[key] = Checkpointer(key[1])
        return found


def truncate(conn: sqlite3.Connection, path: str) -> None:
    """Copy the whole WAL into the database and cut the file to zero bytes (when writes have stopped)."""
    try:
        for _ in range(20):   # busy while another connection reads or checkpoints: soon done
            with write_lock(path).hold():
                busy = conn.execute("pragma wal_checkpoint(TRUNCATE)").fetchall()[0][0]
            if not busy:
                return
            time.sleep(0.05)
    except sqlite3.Error as exc:
        log.debug("wal truncate of %s failed: %s", path, exc)


class Checkpointer:
    """Runs `pragma wal_checkpoint(PASSIVE)` on its own connection after writes, at most once per INTERVAL."""

    def __init__(self, db_path: str, interval: float = INTERVAL) -> None:
        self.path, self.interval = db_path, interval
        self._dirty = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def nudge(self) -> None:
        """Say the WAL grew (cheap: sets an event; starts the thread when none runs)."""
        if not self._dirty.is_set():  # set() takes a lock and notifies even when already set
            self._dirty.set()
        if self._thread is None:
            with self._guard:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
                    self._thread.start()

    def _idle(self, conn: sqlite3.Connection) -> bool:
        """Wait for a nudge; True (and the thread forgotten) if none came for IDLE_EXIT seconds."""
        if self._dirty.wait(IDLE_EXIT):
            return False
        truncate(conn, self.path)
        with self._guard:
            if self._dirty.is_set():
                return False
            self._thread = None
            return True

    def checkpoint(self, conn: sqlite3.Connection) -> int:
        """Copy the WAL into the database; restart the WAL if it is long. Returns the frames it held."""
        frames, copied = _passive(conn)  # the bulk; writers go on meanwhile
        for _ in range(4):  # each pass copies what was written during the one before: less and less
            held, done = _passive(conn)
            if held < 0:  # SQLite could not read the WAL just then (busy): this pass counts nothing
                continue
            frames, fresh, copied = held, done - copied, done
            if fresh <= CATCH_UP_FRAMES:  # (negative when the WAL was reset meanwhile)
                break
        if frames >= RESTART_FRAMES:
            # Under a steady stream of writes a checkpoint never copies the very last frame, so the WAL is never
            # reset and grows without end (1 GB in 40 s of bench load, every page lookup slower). One more pass
            # with writers held off (on our write lock) copies the few frames left; the next writer then finds
            # the WAL fully copied and starts it over. Writers wait meanwhile (5-100 ms under a saturating load,
            # hence only once the WAL is long).
            with write_lock(self.path).hold():
                _passive(conn)
        return frames

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"pragma journal_size_limit={WAL_LIMIT}")
            while not self._idle(conn):
                self._dirty.clear()
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # busy or gone: the next write nudges again
                    log.debug("wal checkpoint of %s failed: %s", self.path, exc)
                time.sleep(self.interval)
        finally:
            conn.close()
            write_lock(self.path).forget_thread()  # this thread ends: a new one opens its own


# -- 4. connections and write transactions -------------------------------------------------------
# One connection per process and thread, the schema applied once, write transactions. WAL with
# synchronous=NORMAL (safe against process crashes; fsync at checkpoints, which section 3 runs off the write
# path), writers queued on the flock of section 2 rather than SQLite's sleeping busy handler.


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
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == pid():
            return conn
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute("pragma journal_mode=wal")
        conn.execute("pragma synchronous=normal")  # safe against process crashes; fsync at checkpoints
        conn.execute("pragma wal_autocheckpoint=0")  # checkpoints run off the write path (below)
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
