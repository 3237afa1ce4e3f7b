"""The channel protocol: a notification in, a Receipt out, or a DeliveryError.

The delivery layer hands each notification (an `Outgoing`) to its channel's `deliver` with the renderer and a
`ThreadMemory`; the channel decides what to send. Most send one rendered Message (one_message.OneMessage); Slack
posts a card per issue, replies in its thread or updates it (router.channels.slack).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from router.render import Message
from router.rules.model import Rule, Target
from router.sentry import SentryEvent

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


@dataclass(frozen=True)
class Outgoing:
    """One notification for a channel: the event, the target it goes to, the rule that sent it, and how many like
    it the rule's throttle held back (None: the throttle was not asked)."""

    event: SentryEvent
    target: Target
    rule: Rule
    suppressed: int | None = None


class Renderer(Protocol):
    """router.render.Renderer's `render`."""

    def render(self, event: SentryEvent, target: Target, rule: Rule | None = None, *,
               notification: dict[str, Any] | None = None) -> Message:
        """One Message for `target`."""
        ...


class Channel(Protocol):
    """Anything that can deliver a notification; each call returns a receipt or raises DeliveryError."""

    type: str

    def send(self, message: Message) -> Receipt:
        """Deliver one message."""
        ...

    def thread_key(self, outgoing: Outgoing) -> str | None:
        """The ThreadMemory key of the thread this notification joins; None when the channel does not thread it."""
        ...

    def deliver(self, outgoing: Outgoing, renderer: Renderer, memory: ThreadMemory) -> Receipt:
        """Render and send one notification, as the channel sees fit."""
        ...

    def deliver_batch(self, batch: Sequence[Outgoing], renderer: Renderer, memory: ThreadMemory) -> Receipt:
        """Send several notifications to one target (waiting for the same rate slot) as one message."""
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
