"""Digests: several notifications in one message (a paced backlog, a `group` rule); the items templates list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.render import describe
from router.rules.model import Rule
from router.sentry import SentryEvent, issue_link

TEMPLATE = "digest"   # digest.slack.j2, digest.email.j2, digest.text.j2 (a user's folder may override them)


def digest_rule(rule: Rule) -> Rule:
    """The rule as a digest renders it: its name, the digest template."""
    return Rule(name=rule.name, match=None, description=rule.description, template=TEMPLATE)


def digest_items(events: Sequence[SentryEvent], sentry_url: str | None) -> list[dict[str, Any]]:
    """One item per distinct (title, link), in order of first appearance, with how many notifications it stands
    for: title, link, what happened, emoji, count."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        title, link = describe.title(event), issue_link(event, sentry_url) or ""
        item = items.get((title, link))
        if item is None:
            item = items[(title, link)] = {"title": title, "link": link, "what": describe.what(event),
                                           "emoji": describe.style(event)[0], "count": 0}
        item["count"] += 1
    return list(items.values())


def digest_note(events: Sequence[SentryEvent], kind: str, sentry_url: str | None,
                **extra: Any) -> dict[str, Any]:
    """The `notification` a digest template reads: kind, `digest` (the items) and `count` (notifications)."""
    return {"kind": kind, "digest": digest_items(events, sentry_url), "count": len(events), **extra}
