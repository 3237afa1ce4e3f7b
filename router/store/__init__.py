"""Storage: every engine behind one interface (base.Store), each backend beside it.

base.py (the Store protocol, Job, Inbound, statuses), sqlite.py (+ sqlite_schema.py, and sqlite_tuning.py: all
the SQLite tuning), redis.py (+ redis_lua.py); the history (history*.py) and silences (silences.py) beside
them in both engines; health.py refuses a file that is no database.
"""

from __future__ import annotations

import os

from router.settings import Settings
from router.store.base import (
    DEAD,
    FAILED,
    HEARTBEAT_PREFIX,
    MAX_LEASE_DOUBLINGS,
    PACK_FROM,
    QUEUED,
    RETRYING,
    SENDING,
    SENT,
    STATUSES,
    SUPPRESSED,
    TERMINAL,
    Inbound,
    Job,
    Store,
    StoreUnavailable,
    gcra,
    new_id,
    pack_payload,
    to_json,
    unpack_payload,
)
from router.store.redis import RedisStore
from router.store.sqlite import SqliteStore

__all__ = ["DEAD", "FAILED", "HEARTBEAT_PREFIX", "MAX_LEASE_DOUBLINGS", "PACK_FROM", "QUEUED", "RETRYING", "SENDING",
           "SENT", "STATUSES", "SUPPRESSED", "TERMINAL", "Inbound", "Job", "Store", "StoreUnavailable", "gcra",
           "new_id", "pack_payload", "to_json", "unpack_payload", "RedisStore", "SqliteStore", "open_existing_store",
           "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings name: Redis when REDIS_URL is set, else the SQLite file ROUTER_DB."""
    return RedisStore(settings.redis_url) if settings.redis_url else SqliteStore(settings.db_path)


def open_existing_store(settings: Settings) -> Store:
    """The store, for commands that read it: StoreUnavailable naming the path when the SQLite file is missing.

    Opening creates an empty SQLite file, so a command run from another folder would otherwise report an empty
    ledger instead of the router's."""
    if not settings.redis_url and not os.path.exists(settings.db_path):
        where = os.path.abspath(settings.db_path)
        relative = "" if os.path.isabs(settings.db_path) else f", relative to the working directory {os.getcwd()}"
        raise StoreUnavailable(f"no store at {where} (ROUTER_DB={settings.db_path}{relative}): run this in the "
                               "folder the router runs in, or set ROUTER_DB (or REDIS_URL) as the router has it")
    return open_store(settings)
