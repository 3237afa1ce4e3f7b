"""WAL checkpoints off the write path (router/delivery/checkpoint.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from router.delivery.checkpoint import RESTART_FRAMES, Checkpointer, checkpointer
from router.delivery.store import new_id
from router.delivery.store_sqlite import SqliteStore


def _wal_frames(conn: sqlite3.Connection) -> int:
    """Frames in the WAL, read by a PASSIVE checkpoint (one alone never resets a WAL that is always written)."""
    while True:
        frames = int(conn.execute("pragma wal_checkpoint(PASSIVE)").fetchall()[0][1])
        if frames >= 0:  # -1: another checkpoint was running
            return frames
        time.sleep(0.01)


def test_the_wal_starts_over_under_writes_that_never_pause(tmp_path: Path) -> None:
    """Two writers that never pause: after a checkpoint the WAL is reset instead of growing without end
    (a plain PASSIVE checkpoint never catches the last frame, so the file grew by ~25 MB/s under load)."""
    path = str(tmp_path / "r.sqlite3")
    store, stop = SqliteStore(path), threading.Event()
    checkpointer(path).interval = 3600  # the background thread checkpoints once; the test does the rest

    def write() -> None:
        while not stop.is_set():
            store.kv_set(new_id(), "x" * 3000)

    writers = [threading.Thread(target=write) for _ in range(2)]
    for w in writers:
        w.start()
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        deadline = time.monotonic() + 20
        while _wal_frames(conn) < 4 * RESTART_FRAMES and time.monotonic() < deadline:
            time.sleep(0.05)
        grown = Checkpointer(path).checkpoint(conn)
        time.sleep(0.1)  # the writers go on
        after = _wal_frames(conn)
    finally:
        stop.set()
        for w in writers:
            w.join()
        conn.close()
    assert grown >= 4 * RESTART_FRAMES and after < grown / 2
