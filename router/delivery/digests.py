"""Sending a batch (pacing.py) as one message: a reply in its card's thread, or one top-level digest.

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

from router.channels.base import Channel, DeliveryError
from router.delivery.threads import GONE, LIVE_SUBJECTS, Card, CardThreads, ThreadChannel, broadcasts, card_key
from router.masking import one_line
from router.render.digest import TEMPLATE, digest_note
from router.render.status import card_status
from router.rules.model import Rule, Target
from router.sentry import SentryEvent
from router.sentry.details import card_subject

log = logging.getLogger(__name__)


def digest_rule(rule: Rule) -> Rule:
    """The rule as a digest renders it: its name, the digest template."""
    return Rule(name=rule.name, match=None, description=rule.description, template=TEMPLATE)


def send_digest(channel: Channel, renderer: Any, events: Sequence[SentryEvent], target: Target, rule: Rule,
                **note: Any) -> dict[str, Any]:
    """One top-level message listing `events`; the receipt names it (kind digest, items carried)."""
    message = renderer.render(events[0], target, digest_rule(rule),
                              notification=digest_note(events, "card", getattr(renderer, "sentry_url", None), **note))
    receipt = channel.send(message)
    return {**{k: v for k, v in receipt.items()}, "kind": "digest", "items": len(events)}


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
        self.store.kv_incr(key + ":events", len(events), self.ttl)
        changed = card
        for event in reversed(events):
            status = card_status(event)
            if status is not None:
                subject = card_subject(event)
                live = subject is not None and subject[0] in LIVE_SUBJECTS
                changed = replace(changed, status=status.as_dict(), **(
                    {"event": event.to_dict()} if live else {}))
                break
        if changed is not card:
            self._save(key, changed)
        try:
            slack.update(card.channel_id, card.ts, self._render_card(changed, target, "update", key))
        except DeliveryError as exc:   # the reply is out: never fail (and resend) the batch for the edit
            log.warning("card %s (%s): edit after a digest failed: %s", one_line(key), card.ts, exc.reason)
            return None
        return card.ts
