"""Sending a batch (pacing.py) or a group as one top-level digest message. (A batch about one Slack card goes
as one reply in its thread: router.channels.slack.digest.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.channels.base import Channel
from router.render.digest import digest_note, digest_rule
from router.rules.model import Rule, Target
from router.sentry import SentryEvent


def send_digest(channel: Channel, renderer: Any, events: Sequence[SentryEvent], target: Target, rule: Rule,
                **note: Any) -> dict[str, Any]:
    """One top-level message listing `events`; the receipt names it (kind digest, items carried)."""
    message = renderer.render(events[0], target, digest_rule(rule),
                              notification=digest_note(events, "card", getattr(renderer, "sentry_url", None), **note))
    receipt = channel.send(message)
    return {**{k: v for k, v in receipt.items()}, "kind": "digest", "items": len(events)}
