"""WAL checkpoints in a background thread, off the write path.

SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, fsyncing the WAL and the
database file (synchronous=NORMAL syncs only at checkpoints). Under our write lock that stalled every writer
of every process for 10-30 ms about once per 150 webhooks. Connections here disable it
(`pragma wal_autocheckpoint=0`); a writer calls `nudge()` after committing, and one daemon thread per process
and file runs a PASSIVE checkpoint (it never blocks writers) at most once per INTERVAL, and one more short
pass under the write lock when the WAL has stopped resetting itself (steady writes).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

from router.delivery.forks import pid
from router.delivery.writelock import write_lock

log = logging.getLogger(__name__)
INTERVAL = 1.0  # seconds between checkpoints while writes go on; the WAL stays at about a second of writes
IDLE_EXIT = 60.0  # a thread with nothing to do for this long closes its connection and ends
RESTART_FRAMES = 4_000  # a WAL this long (16 MB) after a checkpoint is restarted (it stopped resetting itself)
CATCH_UP_FRAMES = 200  # PASSIVE passes repeat until one copies this few: about as few are left to copy locked
WAL_LIMIT = 16 * 1024 * 1024  # bytes a WAL file keeps on disk after a reset (journal_size_limit); 0 once idle
_SHARED: dict[tuple[int, str], Checkpointer] = {}
_GUARD = threading.Lock()


def _passive(conn: sqlite3.Connection) -> tuple[int, int]:
    """One PASSIVE checkpoint (never blocks writers): (frames in the WAL, frames copied into the database)."""
    _, frames, copied = conn.execute("pragma wal_checkpoint(PASSIVE)").fetchall()[0]  # fetchall: statement done
    return int(frames), int(copied)


def checkpointer(db_path: str) -> Checkpointer:
    """The Checkpointer of this process for a database file (a fork gets its own: threads do not survive it)."""
    key = (pid(), os.path.abspath(db_path))
    with _GUARD:
        found = _SHARED.get(key)
        if found is None:
            found = _SHARED[key] = Checkpointer(key[1])
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
            frames, done = _passive(conn)
            fresh, copied = done - copied, done
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
