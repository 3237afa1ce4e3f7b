"""Silences in the shared store — a SQLite table or a Redis hash beside the ledger — so that every web and
worker process honours a silence from the moment it is added or ended."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Protocol

from router.masking import mask_url
from router.rules.silence import Silence
from router.store.base import Store, StoreUnavailable

RECENT = 86400.0   # ended silences are listed for a day, then dropped


class Silences(Protocol):
    """Add, list and end silences; every method is atomic and safe across processes."""

    def add(self, silence: Silence) -> None:
        """Store a new silence."""
        ...

    def listed(self, now: float) -> list[Silence]:
        """Active, future and recently ended silences (ended within RECENT), newest first."""
        ...

    def end(self, silence_id: str, now: float, why: str) -> Silence | None:
        """End a silence now (`why`: "expired", "issue resolved"); it as ended, or None if there is no such
        silence or it had already ended."""
        ...


def silences_of(store: Store) -> Silences:
    """The silences kept in `store` (whichever kind it is)."""
    from router.store.sqlite import SqliteStore

    return SqliteSilences(store) if isinstance(store, SqliteStore) else RedisSilences(store)


def active(silences: Silences, now: float) -> list[Silence]:
    """The silences holding notifications back at `now`."""
    return [s for s in silences.listed(now) if s.active(now)]


def _newest_first(found: list[Silence]) -> list[Silence]:
    return sorted(found, key=lambda s: (s.created_at, s.id), reverse=True)


def _ended(silence: Silence, now: float, why: str) -> Silence | None:
    finished = silence.finished_at()
    if finished is not None and finished <= now:
        return None
    return replace(silence, ended_at=now, ended_why=why)


class SqliteSilences:
    """Silences in the `router_silence` table of ROUTER_DB."""

    def __init__(self, store: Any) -> None:
        self.db = store

    def add(self, silence: Silence) -> None:
        """Store a new silence (and drop those that ended more than RECENT ago)."""
        with self.db._tx() as conn:
            conn.execute("delete from router_silence where finished_at < ?", (time.time() - RECENT,))
            conn.execute("insert into router_silence (id, finished_at, body) values (?, ?, ?)",
                         (silence.id, silence.finished_at(), silence.to_json()))

    def listed(self, now: float) -> list[Silence]:
        """Active, future and recently ended silences, newest first."""
        rows = self.db._read("select body from router_silence where finished_at is null or finished_at >= ?",
                             (now - RECENT,))
        return _newest_first([Silence.from_json(r[0]) for r in rows])

    def end(self, silence_id: str, now: float, why: str) -> Silence | None:
        """End a silence now; None if there is none by that id or it had ended."""
        with self.db._tx() as conn:
            rows = conn.execute("select body from router_silence where id = ?", (silence_id,)).fetchall()
            ended = _ended(Silence.from_json(rows[0][0]), now, why) if rows else None
            if ended is not None:
                conn.execute("update router_silence set finished_at = ?, body = ? where id = ?",
                             (now, ended.to_json(), silence_id))
            return ended


class RedisSilences:
    """Silences in the Redis hash `router:silences` (id → JSON); ending one is a check-and-set (WATCH)."""

    KEY = "router:silences"

    def __init__(self, store: Any) -> None:
        self.store, self.r = store, store.r

    def add(self, silence: Silence) -> None:
        """Store a new silence (and drop those that ended more than RECENT ago)."""
        old = [s.id for s in self._all() if (s.finished_at() or time.time()) < time.time() - RECENT]
        self.store._do(lambda: self.r.hset(self.KEY, silence.id, silence.to_json()))
        if old:
            self.store._do(self.r.hdel, self.KEY, *old)

    def _all(self) -> list[Silence]:
        raw = self.store._do(self.r.hvals, self.KEY)
        return [Silence.from_json(v) for v in raw]

    def listed(self, now: float) -> list[Silence]:
        """Active, future and recently ended silences, newest first."""
        return _newest_first([s for s in self._all() if (s.finished_at() or now) >= now - RECENT])

    def end(self, silence_id: str, now: float, why: str) -> Silence | None:
        """End a silence now; None if there is none by that id or it had ended."""
        import redis

        def attempt(pipe: Any) -> Silence | None:
            raw = pipe.hget(self.KEY, silence_id)
            ended = _ended(Silence.from_json(raw), now, why) if raw else None
            pipe.multi()
            if ended is not None:
                pipe.hset(self.KEY, silence_id, ended.to_json())
            return ended

        try:
            ended: Silence | None = self.r.transaction(attempt, self.KEY, value_from_callable=True)
            return ended
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis {mask_url(self.store.url)}: {exc}") from None
