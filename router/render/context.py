"""The template context: a small, documented set of names (README "Template context")."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from router.render import describe
from router.render.issue_ref import IssueSource, lookup_issue
from router.rules.model import Rule, Target
from router.sentry import SentryEvent, issue_link, thaw

_MENTION = re.compile(r"<@[UW][A-Z0-9]{2,30}>")   # a Slack user mention, as enrichment finds it
NOTIFICATION_DEFAULTS: Mapping[str, Any] = {"kind": "card", "suppressed": 0, "status": None, "emoji": None,
                                            "color": None}


def notification_info(notification: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `notification` mapping with defaults filled in (kind card|reply|update, suppressed, status)."""
    info = dict(NOTIFICATION_DEFAULTS)
    info.update(notification or {})
    try:
        info["suppressed"] = int(info.get("suppressed") or 0)
    except (TypeError, ValueError):
        info["suppressed"] = 0
    return info


def build_context(event: SentryEvent, target: Target | None, rule: Rule | None,
                  notification: Mapping[str, Any] | None, sentry_url: str | None,
                  issue_sources: Sequence[IssueSource] = ()) -> dict[str, Any]:
    """Everything a template can use; payload values are plain data, escaped on output."""
    shortcuts = thaw(event.shortcuts)
    issue = lookup_issue(event, issue_sources, sentry_url)
    info = notification_info(notification)
    emoji, color = describe.style(event)
    emoji, color = info.get("emoji") or emoji, info.get("color") or color   # a card update restyles the card
    what = describe.what(event)
    suppressed = info["suppressed"]
    ctx: dict[str, Any] = dict(shortcuts)      # project, level, environment, title, issue_id, … at top level
    ctx.update(
        s=shortcuts,
        tags=shortcuts.get("tags", {}),
        # the sandbox is immutable, so templates can read the payload as is but never change it
        event={"resource": event.resource, "action": event.action, "data": event.data,
               "actor": event.actor or {}, "installation": event.installation or {},
               "subject_id": event.subject_id, "request_id": event.request_id},
        rule={"name": rule.name if rule else "", "description": rule.description if rule else ""},
        target={"name": target.name if target else "", "type": target.type if target else ""},
        # the payload's page, else the issue's (remembered, else built from SENTRY_URL), else an incident's
        link=event.shortcuts.get("url") or (issue.web_url if issue else None) or issue_link(event, sentry_url),
        issue=issue.to_dict() if issue else {},
        sentry_url=sentry_url or "",
        what=what,
        emoji=emoji,
        headline=f"{emoji} {what}",
        color=color,
        title=describe.title(event, issue),
        actor_name=describe.actor_name(event),
        facts=describe.facts(event, issue),
        summary=describe.summary(event),
        links=describe.links(event),
        notification=info,
        suppressed_note=f"(+{suppressed} similar suppressed)" if suppressed > 0 else "",
    )
    if target is not None and target.type == "slack":
        _mention(ctx, shortcuts)
        _status_mention(info)
    return ctx


def _status_mention(info: dict[str, Any]) -> None:
    """On Slack, a card status line naming someone enrichment found (`👤 Assigned to <@U…>`) as a mention."""
    mention, name, line = info.get("mention"), info.get("mention_of"), info.get("status")
    if isinstance(mention, str) and _MENTION.fullmatch(mention) and isinstance(name, str) and name \
            and isinstance(line, str) and name in line:
        info["status"] = Markup.escape(line).replace(Markup.escape(name), Markup(mention), 1)


def _mention(ctx: dict[str, Any], shortcuts: Mapping[str, Any]) -> None:
    """On Slack, the assignee as a real mention (`<@U…>`, found by enrichment) in the headline and facts."""
    mention, name = shortcuts.get("assignee_mention"), shortcuts.get("assignee")
    if not isinstance(mention, str) or not _MENTION.fullmatch(mention):
        return
    ctx["assignee_mention"] = Markup(mention)
    ctx["facts"] = [(label, Markup(mention) if label == "Assignee" else value) for label, value in ctx["facts"]]
    # a card's headline is a plain-text header, where a mention would show as `<@U…>`: only replies name them
    if ctx["notification"]["kind"] == "reply" and isinstance(name, str) and name and name in ctx["what"]:
        ctx["what"] = Markup.escape(ctx["what"]).replace(Markup.escape(name), Markup(mention), 1)
        ctx["headline"] = Markup.escape(ctx["emoji"]) + Markup(" ") + ctx["what"]
