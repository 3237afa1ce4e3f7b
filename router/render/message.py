"""What rendering produces and a channel sends: one Message per notification and target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
