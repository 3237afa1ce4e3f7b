"""The channel protocol: a rendered Message in, a Receipt out, or a DeliveryError."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Receipt = Mapping[str, Any]  # what the channel said back (Slack: {"channel", "ts"}); stored in the ledger


@dataclass(frozen=True)
class Message:
    """One rendered notification for one target."""

    channel: str                      # "slack", "email" or "text"
    title: str
    text: str                         # plain text body (Slack fallback, email text part, Apprise body)
    blocks: tuple[Mapping[str, Any], ...] | None = None   # Slack Block Kit
    html: str | None = None           # email HTML part
    color: str | None = None          # attachment colour / hint for channels that have one
    template: str = "default"         # the template that produced it
    meta: Mapping[str, Any] = field(default_factory=dict)  # notification.kind, thread info, …


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
