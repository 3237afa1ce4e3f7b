"""The thread memory channels keep their threads in (router.channels.base.ThreadMemory), backed by the store."""

from __future__ import annotations

from router.store import Store


class StoreMemory:
    """ThreadMemory over the store's shared keys: every worker and process of either store sees the same threads."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> str | None:
        """The value at `key`, or None."""
        return self.store.kv_get(key)

    def put(self, key: str, value: str, ttl: float) -> None:
        """Set `key`."""
        self.store.kv_set(key, value, ttl)

    def put_new(self, key: str, value: str, ttl: float) -> bool:
        """Set `key` only if it is not set; whether it was."""
        return self.store.kv_set_nx(key, value, ttl)

    def add(self, key: str, by: int, ttl: float) -> int:
        """Add `by` to the count at `key`; the new count."""
        return self.store.kv_incr(key, by, ttl)

    def drop(self, key: str) -> None:
        """Forget `key`."""
        self.store.kv_delete(key)
