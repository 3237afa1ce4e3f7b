"""Store health: a SQLite file that is not a database is refused with a hint (503s, not a crash loop)."""

from __future__ import annotations

import sqlite3
from typing import Any

from router.store.base import StoreUnavailable

SQLITE_MAGIC = b"SQLite format 3\x00"
CORRUPT = ("ROUTER_DB is not a usable SQLite database (corrupt, or another file): stop the router, move the file "
           "and its -wal and -shm files aside, and start again (an empty store is created)")


def sqlite_problem(path: str) -> str | None:
    """Why the SQLite file at `path` cannot be a store (a one-line hint), or None (a database, or no file yet)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"ROUTER_DB cannot be read: {exc.strerror}"
    return CORRUPT if head and head != SQLITE_MAGIC else None


def unavailable(path: str, exc: sqlite3.Error) -> StoreUnavailable:
    """The StoreUnavailable for an SQLite error; a corrupt file gets the hint."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text):
        return StoreUnavailable(f"sqlite {path}: {text}: {CORRUPT}")
    return StoreUnavailable(f"sqlite {path}: {text}")


class Refused:
    """Stands in for a store or queue that cannot be opened: every call raises StoreUnavailable(reason)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        def refuse(*_: Any, **__: Any) -> Any:
            raise StoreUnavailable(self.reason)
        return refuse
