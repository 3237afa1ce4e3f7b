"""The default channel hook: each notification as one rendered message, a batch (pacing.py) or a group as one
top-level digest message. (Slack's cards and threads: router.channels.slack.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.channels.base import Channel, Outgoing, Receipt, Renderer, ThreadMemory
from router.render import Message
from router.render.digest import digest_note, digest_rule
from router.rules.model import Rule, Target
from router.sentry import SentryEvent


def send_digest(channel: Channel, renderer: Any, events: Sequence[SentryEvent], target: Target, rule: Rule,
                **note: Any) -> dict[str, Any]:
    """One top-level message listing `events`; the receipt names it (kind digest, items carried)."""
    message = renderer.render(events[0], target, digest_rule(rule),
                              notification=digest_note(events, "card", getattr(renderer, "sentry_url", None), **note))
    receipt = channel.send(message)
    return {**receipt, "kind": "digest", "items": len(events)}


class OneMessage:
    """A channel that sends every notification as one message of its own (email, Apprise, console, webhooks)."""

    type: str

    def send(self, message: Message) -> Receipt:
        """Deliver one message (each channel's own)."""
        raise NotImplementedError

    def thread_key(self, outgoing: Outgoing) -> str | None:
        """No threads."""
        return None

    def deliver(self, outgoing: Outgoing, renderer: Renderer, memory: ThreadMemory) -> Receipt:
        """Render the notification and send it."""
        return self.send(renderer.render(outgoing.event, outgoing.target, outgoing.rule,
                                         notification={"suppressed": outgoing.suppressed}))

    def deliver_batch(self, batch: Sequence[Outgoing], renderer: Renderer, memory: ThreadMemory) -> Receipt:
        """One top-level digest listing the batch."""
        return send_digest(self, renderer, [o.event for o in batch], batch[0].target, batch[0].rule)
