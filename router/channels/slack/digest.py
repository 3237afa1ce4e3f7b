"""A batch of notifications about one Slack card (pacing) as one reply in its thread.

A card's follow-ups become one reply ("+9 events", each listed), after which the card is edited once: its
event count, and the newest status any of them brings (assigned, resolved, …). The reply goes first: if it
fails, nothing was shown and the whole batch is retried; if only the edit fails, the reply stands (it is not
sent twice) and the card catches up at its next edit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from router.channels.base import DeliveryError
from router.channels.slack.cards import GONE, Card, CardThreads, ThreadChannel, broadcasts, card_key, live
from router.channels.slack.status import card_status
from router.masking import one_line
from router.render.digest import digest_note, digest_rule
from router.rules.model import Rule, Target
from router.sentry import SentryEvent

log = logging.getLogger(__name__)


class DigestThreads(CardThreads):
    """Card threads that can also carry several notifications about one card in one reply."""

    def deliver_digest(self, slack: ThreadChannel, events: Sequence[SentryEvent], target: Target,
                       rule: Rule) -> dict[str, Any]:
        """Post `events` (about one card) as one reply, then edit the card (count, newest status) once."""
        key = card_key(target, events[0])
        card = self._load(key)
        if card is None:   # gone since the batch formed (expired, or a racing worker): retried, a card first
            raise DeliveryError("the Slack card of this batch is not there yet", retryable=True, retry_after=0.5,
                                code="card_busy")
        note = digest_note(events, "reply", getattr(self.renderer, "sentry_url", None))
        message = self.renderer.render(events[-1], target, digest_rule(rule), notification=note)
        broadcast = any(broadcasts(target, e) for e in events)
        try:
            receipt = slack.post(message, thread_ts=card.ts, reply_broadcast=broadcast)
        except DeliveryError as exc:
            if exc.code not in GONE:
                raise
            card = self._recreate(slack, key, card, target)
            receipt = slack.post(message, thread_ts=card.ts, reply_broadcast=broadcast)
        updated = self._recount(slack, key, card, events, target)
        return {"channel": receipt.get("channel") or card.channel_id, "ts": receipt.get("ts"),
                "thread_ts": card.ts, "kind": "digest", "items": len(events), "updated_ts": updated}

    def _recount(self, slack: ThreadChannel, key: str, card: Card, events: Sequence[SentryEvent],
                 target: Target) -> str | None:
        """Edit the card once for the batch: its event count and the newest status; None if the edit failed."""
        self.memory.add(key + ":events", len(events), self.ttl)
        changed = card
        for event in reversed(events):
            status = card_status(event)
            if status is not None:
                changed = replace(changed, status=status.as_dict())
                if live(event):
                    changed = replace(changed, event=event.to_dict())
                break
        if changed is not card:
            self._save(key, changed)
        try:
            slack.update(card.channel_id, card.ts, self._render_card(changed, target, "update", key))
        except DeliveryError as exc:   # the reply is out: never fail (and resend) the batch for the edit
            log.warning("card %s (%s): edit after a digest failed: %s", one_line(key), card.ts, exc.reason)
            return None
        return card.ts
