"""WAL checkpoints off the write path (router/store/sqlite_tuning.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from router.store import sqlite_tuning
from router.store.sqlite_tuning import Checkpointer, write_lock

MAX_ROWS = 100_000  # a bound on what the writers write, whatever happens (about 400 MB of WAL at most)


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    conn.execute("pragma journal_mode=wal")
    conn.execute("pragma synchronous=normal")
    conn.execute("pragma wal_autocheckpoint=0")
    return conn


def _wal_frames(conn: sqlite3.Connection) -> int:
    """Frames in the WAL, read by a PASSIVE checkpoint (one alone never resets a WAL that is always written)."""
    return int(conn.execute("pragma wal_checkpoint(PASSIVE)").fetchall()[0][1])


def test_the_wal_starts_over_under_writes_that_never_pause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers that never pause (each transaction under the write lock, as the store's): after a checkpoint
    the WAL is reset instead of growing without end (a PASSIVE checkpoint alone never catches the last frame;
    under bench load the file grew by ~25 MB/s)."""
    monkeypatch.setattr(sqlite_tuning, "RESTART_FRAMES", 1000)  # 4 MB: a small WAL is enough to show it
    restart = sqlite_tuning.RESTART_FRAMES
    path = str(tmp_path / "r.sqlite3")
    _connect(path).execute("create table t (k integer primary key, v text)")
    stop, written = threading.Event(), [0]

    def write() -> None:
        conn, lock = _connect(path), write_lock(path)
        while not stop.is_set() and written[0] < MAX_ROWS:
            with lock.hold():
                conn.execute("insert into t (v) values (?)", ("x" * 3000,))
            written[0] += 1

    writers = [threading.Thread(target=write, daemon=True) for _ in range(2)]
    for w in writers:
        w.start()
    conn = _connect(path)
    try:
        deadline = time.monotonic() + 20
        while (frames := _wal_frames(conn)) < 4 * restart and time.monotonic() < deadline:
            time.sleep(0.05)
        grown = Checkpointer(path).checkpoint(conn)
        more = written[0] + 200
        while written[0] < more and time.monotonic() < deadline + 10:  # the writers go on: 200 more rows
            time.sleep(0.005)
        after = _wal_frames(conn)
    finally:
        stop.set()
        for w in writers:
            w.join(10)
        conn.close()
    assert frames >= 4 * restart and grown >= frames and 0 <= after < grown / 2


def test_a_thread_that_ends_gives_its_lock_descriptor_back(tmp_path: Path) -> None:
    """Checkpoint threads come and go (they end after a minute idle): each closes the lock file it opened,
    so a long-running process does not collect open descriptors."""
    import os

    lock, before = write_lock(str(tmp_path / "r.sqlite3")), len(os.listdir("/proc/self/fd"))

    def use() -> None:
        with lock.hold():
            pass
        lock.forget_thread()

    for _ in range(20):
        t = threading.Thread(target=use)
        t.start()
        t.join()
    assert len(os.listdir("/proc/self/fd")) <= before
