"""The channel protocol: a rendered Message in, a Receipt out, or a DeliveryError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from router.render import Message

Receipt = Mapping[str, Any]  # what the channel said back (Slack: {"channel", "ts"}); stored in the ledger


class DeliveryError(Exception):
    """A send failed. `retryable` says whether trying again may help; `retry_after` is seconds, if known."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code              # the service's own error code when it gave one (Slack: message_not_found, …)

    def __repr__(self) -> str:
        return f"DeliveryError({self.reason!r}, retryable={self.retryable}, retry_after={self.retry_after})"


class Channel(Protocol):
    """Anything that can deliver a Message; `send` returns a receipt or raises DeliveryError."""

    type: str

    def send(self, message: Message) -> Receipt:
        """Deliver one message."""
        ...


class ThreadMemory(Protocol):
    """What a channel remembers of its threads (Slack: each issue's card), shared by every worker and process; the
    delivery layer backs it with the store. Values are text; each key expires `ttl` seconds after its last write."""

    def get(self, key: str) -> str | None:
        """The value at `key`, or None."""
        ...

    def put(self, key: str, value: str, ttl: float) -> None:
        """Set `key`."""
        ...

    def put_new(self, key: str, value: str, ttl: float) -> bool:
        """Set `key` only if it is not set; whether it was (a lock: one process wins)."""
        ...

    def add(self, key: str, by: int, ttl: float) -> int:
        """Add `by` to the count at `key`; the new count."""
        ...

    def drop(self, key: str) -> None:
        """Forget `key`."""
        ...
