"""Slack threads (DESIGN 1.6): one live card per Sentry issue, or metric-alert incident, and channel.

What a card is about is `card_subject`: an issue, or a metric alert's incident. The card's (channel, subject)
→ ts mapping lives in the thread memory the delivery layer gives (the shared store: `thread:{channel}:{issue_id}`,
`thread:{channel}:incident:{id}`), so every web and worker process sees it. A short `…:creating` lock makes sure
two workers never post two cards for one subject: the one that loses does not post but asks to be retried
shortly, by when the card is there to reply to.

Under retries each step is safe to repeat: a card update comes before the thread reply, so a retry after a
failed reply edits the card again (same content, invisible) and only then posts the reply once.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from router.channels.base import DeliveryError, Receipt, Renderer, ThreadMemory
from router.channels.slack.status import Status, card_status, first_card_status
from router.masking import one_line
from router.render import Message
from router.rules.model import Rule, Target
from router.sentry import SentryEvent
from router.sentry.details import incident_id

log = logging.getLogger(__name__)

LOCK_TTL = 30.0     # longer than one chat.postMessage may take (10 s timeout), short if its holder dies
BUSY_RETRY = 0.5    # seconds until a worker that lost the race for the card tries again (as a reply)
# Slack's answers meaning "the card is gone or can no longer be edited": post a fresh one
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found"})
# subjects whose every webhook carries their whole current state: an edit shows the latest one. An issue card
# keeps the content of the event that created it (issue.created is the richest; issue.resolved says little).
LIVE_SUBJECTS = frozenset({"incident"})


class ThreadChannel(Protocol):
    """What threads need from a Slack channel (router.channels.slack.SlackChannel)."""

    def post(self, message: Message, thread_ts: str | None = None, reply_broadcast: bool = False) -> Receipt:
        """chat.postMessage, in a thread when `thread_ts` is given."""
        ...

    def update(self, channel: str, ts: str, message: Message) -> Receipt:
        """chat.update of the message at (channel id, ts)."""
        ...


@dataclass(frozen=True)
class Card:
    """A posted card: where it is, the event it shows, how it was rendered, its current status."""

    ts: str
    channel_id: str
    event: dict[str, Any]
    rule: str = ""
    template: str | None = None
    status: dict[str, str] | None = None


def card_subject(event: SentryEvent) -> tuple[str, str] | None:
    """What a Slack card about this event is about: ("issue", id), ("incident", id) for metric alerts, or None."""
    if event.shortcuts.get("issue_id"):
        return "issue", str(event.shortcuts["issue_id"])
    incident = incident_id(event)
    return ("incident", incident) if incident is not None else None


def threaded(target: Target, event: SentryEvent) -> bool:
    """Whether this notification goes through a card: a `thread: issue` Web API target, an issue or incident."""
    opts = target.options
    if target.type != "slack" or not opts.get("channel") or opts.get("webhook_url"):
        return False
    return opts.get("thread", "issue") == "issue" and card_subject(event) is not None


def card_key(target: Target, event: SentryEvent) -> str:
    """The memory key of the card for this event's subject in this target's channel."""
    subject = card_subject(event)
    if subject is None:
        raise ValueError(f"{event.resource}.{event.action} has no card")
    kind, ident = subject
    name = ident if kind == "issue" else f"{kind}:{ident}"  # issue cards keep the keys they have always had
    return f"thread:{target.options['channel']}:{name}"


def live(event: SentryEvent) -> bool:
    """Whether the event is about a subject whose card shows its latest webhook (an incident)."""
    subject = card_subject(event)
    return subject is not None and subject[0] in LIVE_SUBJECTS


def broadcasts(target: Target, event: SentryEvent) -> bool:
    """Whether the target's `broadcast` list names this action (`resolved` or `issue.resolved`)."""
    wanted = set(target.options.get("broadcast") or ())
    actions = {event.action, f"{event.resource}.{event.action}"}
    if event.action in ("ignored", "archived"):
        actions |= {"ignored", "archived", f"{event.resource}.ignored", f"{event.resource}.archived"}
    return bool(wanted & actions)


class CardThreads:
    """Decides card, reply or card update for one notification, and performs it against Slack."""

    def __init__(self, memory: ThreadMemory, renderer: Renderer, ttl: float = 30 * 86400.0) -> None:
        self.memory, self.renderer, self.ttl = memory, renderer, ttl

    def deliver(self, slack: ThreadChannel, event: SentryEvent, target: Target, rule: Rule,
                suppressed: int = 0) -> dict[str, Any]:
        """Send one notification via its card; the receipt says what was done: kind, ts, thread_ts, updated_ts."""
        key = card_key(target, event)
        card = self._load(key)
        if card is None:
            card, receipt = self._first_card(slack, key, event, target, rule, suppressed, first_card_status(event))
            if receipt is not None:
                return receipt
        updated, status = None, card_status(event)
        if status is not None:
            if live(event):
                card = replace(card, event=event.to_dict(), rule=rule.name, template=rule.template)
            card, updated = self._update(slack, key, card, target, status)
        return self._reply(slack, key, card, event, target, rule, suppressed, updated)

    # -- the three things we do ------------------------------------------------------------------
    def _first_card(self, slack: ThreadChannel, key: str, event: SentryEvent, target: Target, rule: Rule,
                    suppressed: int, status: Status | None) -> tuple[Card, dict[str, Any] | None]:
        """Post this notification as its subject's card; (card, receipt), or (existing card, None) if one appeared."""
        note = {"kind": "card", "suppressed": suppressed, **(status.as_dict() if status else {})}
        message = self.renderer.render(event, target, rule, notification=note)
        card, posted = self._create(key, None, slack, message, lambda ts, cid: Card(
            ts, cid, event.to_dict(), rule.name, rule.template, status.as_dict() if status else None))
        if not posted:
            return card, None
        return card, {"channel": card.channel_id, "ts": card.ts, "thread_ts": None, "kind": "card",
                      "updated_ts": None}

    def _update(self, slack: ThreadChannel, key: str, card: Card, target: Target,
                status: Status) -> tuple[Card, str]:
        """Edit the card to show `status` (its content kept); a card Slack won't edit is posted afresh."""
        changed = replace(card, status=status.as_dict())
        message = self._render_card(changed, target, "update", key)
        try:
            slack.update(card.channel_id, card.ts, message)
        except DeliveryError as exc:
            if exc.code not in GONE:
                raise
            log.info("card %s (%s) cannot be edited (%s): posting a fresh card", one_line(key), card.ts, exc.code)
            changed = self._recreate(slack, key, changed, target)
            return changed, changed.ts
        self._save(key, changed)
        return changed, card.ts

    def _reply(self, slack: ThreadChannel, key: str, card: Card, event: SentryEvent, target: Target,
               rule: Rule, suppressed: int, updated: str | None) -> dict[str, Any]:
        """Post the notification in the card's thread (also in the channel if broadcast); card gone → fresh card."""
        message = self.renderer.render(event, target, rule, notification={"kind": "reply", "suppressed": suppressed})
        broadcast = broadcasts(target, event)
        try:
            receipt = slack.post(message, thread_ts=card.ts, reply_broadcast=broadcast)
        except DeliveryError as exc:
            if exc.code not in GONE:
                raise
            log.info("card %s (%s) is gone (%s): posting a fresh card", one_line(key), card.ts, exc.code)
            card = self._recreate(slack, key, card, target)
            receipt = slack.post(message, thread_ts=card.ts, reply_broadcast=broadcast)
        self.memory.add(key + ":events", 1, self.ttl)   # the thread's count, shown at the card's next edit
        return {"channel": receipt.get("channel") or card.channel_id, "ts": receipt.get("ts"),
                "thread_ts": card.ts, "kind": "reply", "updated_ts": updated}

    def _recreate(self, slack: ThreadChannel, key: str, card: Card, target: Target) -> Card:
        """Post `card`'s content (and status) as a new card in place of the one at `card.ts`."""
        message = self._render_card(card, target, "card", key)
        new, _ = self._create(key, card.ts, slack, message,
                              lambda ts, cid: replace(card, ts=ts, channel_id=cid))
        return new

    # -- the card in the memory ------------------------------------------------------------------
    def _create(self, key: str, stale_ts: str | None, slack: ThreadChannel, message: Message,
                make: Callable[[str, str], Card]) -> tuple[Card, bool]:
        """Post `message` as the card under the creating lock; (card, True), or (someone else's card, False)."""
        lock, token = key + ":creating", secrets.token_hex(8)
        if not self.memory.put_new(lock, token, LOCK_TTL):
            current = self._load(key)
            if current is not None and current.ts != stale_ts:
                return current, False
            raise DeliveryError("the Slack card is being posted by another worker", retryable=True,
                                retry_after=BUSY_RETRY, code="card_busy")
        try:
            current = self._load(key)   # posted (and the lock released) between our first look and the lock
            if current is not None and current.ts != stale_ts:
                return current, False
            receipt = slack.post(message)
            card = make(str(receipt["ts"]), str(receipt.get("channel") or ""))
            self._save(key, card)
            return card, True
        finally:
            if self.memory.get(lock) == token:
                self.memory.drop(lock)

    def _render_card(self, card: Card, target: Target, kind: str, key: str) -> Message:
        event = SentryEvent.from_dict(card.event)
        rule = Rule(name=card.rule, match=None, template=card.template)
        return self.renderer.render(event, target, rule, notification={"kind": kind, **(card.status or {}),
                                                                       "events": self.events(key)})

    def events(self, key: str) -> int:
        """How many notifications the thread of the card at `key` carries (replies; a digest counts each)."""
        try:
            return int(self.memory.get(key + ":events") or 0)
        except ValueError:
            return 0

    def _load(self, key: str) -> Card | None:
        raw = self.memory.get(key)
        if raw is None:
            return None
        try:
            return Card(**json.loads(raw))
        except (ValueError, TypeError):
            log.warning("unreadable card mapping at %s: starting a new card", one_line(key))
            return None

    def _save(self, key: str, card: Card) -> None:
        self.memory.put(key, json.dumps(asdict(card), separators=(",", ":")), self.ttl)
