"""The status line a Slack card shows: an issue's after `issue.*` (✅ Resolved by X in release Y, …), an incident's."""

from __future__ import annotations

from dataclasses import dataclass

from router.render.describe import AMBER, BLUE, GREEN, GREY, ORANGE, RED, resolved_in
from router.sentry import SentryEvent, details

# issue actions that edit the card; the others (created) only post
CARD_ACTIONS = frozenset({"assigned", "resolved", "ignored", "archived", "unresolved"})


@dataclass(frozen=True)
class Status:
    """What a card update shows: the line, and the emoji and colour the card takes."""

    line: str
    emoji: str
    color: str
    mention: str = ""       # Slack: the `<@U…>` that stands for `mention_of` in the line (enrichment found it)
    mention_of: str = ""

    def as_dict(self) -> dict[str, str]:
        """The notification fields a template reads: status, emoji, color (and the mention, when there is one)."""
        extra = {"mention": self.mention, "mention_of": self.mention_of} if self.mention else {}
        return {"status": self.line, "emoji": self.emoji, "color": self.color, **extra}


# metric alert action -> the incident card's status; every one edits the card
INCIDENT = {"critical": Status("🔴 Critical", "🔴", RED), "warning": Status("🟡 Warning", "🟡", AMBER),
            "resolved": Status("✅ Resolved", "✅", GREEN), "open": Status("🟡 Open", "🟡", AMBER)}


def _by(event: SentryEvent) -> str:
    actor = details.actor(event)
    return f" by {actor.name}" if actor.name and not actor.is_sentry else ""


def first_card_status(event: SentryEvent) -> Status | None:
    """The status a new card shows from the start: an issue's (it may be posted already resolved), never an
    incident's (its headline says the severity, as a top-level metric alert always did)."""
    return None if event.resource == "metric_alert" else card_status(event)


def card_status(event: SentryEvent) -> Status | None:
    """The card's new status for an event that edits it (an issue action, a metric alert); None for others."""
    if event.resource == "metric_alert":
        return INCIDENT.get(event.action)
    if event.resource != "issue" or event.action not in CARD_ACTIONS:
        return None
    if event.action == "resolved":
        return Status(f"✅ Resolved{_by(event)}{resolved_in(event)}", "✅", GREEN)
    if event.action in ("ignored", "archived"):
        return Status(f"🔕 Archived{_by(event)}", "🔕", GREY)
    if event.action == "assigned":
        who, mention = event.shortcuts.get("assignee"), event.shortcuts.get("assignee_mention")
        if who and mention:
            return Status(f"👤 Assigned to {who}", "👤", BLUE, str(mention), str(who))
        return Status(f"👤 Assigned to {who}" if who else f"👤 Assigned{_by(event)}", "👤", BLUE)
    if details.substatus(event) == "escalating":
        return Status("📈 Escalating", "📈", ORANGE)
    return Status("🔁 Regressed", "🔁", RED)
