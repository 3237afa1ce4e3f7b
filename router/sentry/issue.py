"""What a webhook says about the Sentry issue it concerns: its title, short id and page link (IssueFacts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from router.sentry.event import SentryEvent
from router.sentry.shortcuts import dig

# resources whose `data.issue` is the issue itself (with its page link when Sentry sends one)
_ISSUE_OBJECT = ("issue", "activity_alert")


@dataclass(frozen=True)
class IssueFacts:
    """An issue's title, short id (`API-3K`) and web page; each None when unknown."""

    title: str | None = None
    short_id: str | None = None
    web_url: str | None = None

    @property
    def complete(self) -> bool:
        """Every fact is known."""
        return all(getattr(self, f.name) for f in fields(self))

    def merged(self, other: IssueFacts | None) -> IssueFacts:
        """These facts, the missing ones taken from `other`."""
        if other is None:
            return self
        return replace(self, **{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)})

    def to_dict(self) -> dict[str, str]:
        """The known facts, for the store."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IssueFacts:
        """Facts from `to_dict` output (unknown keys ignored, non-text values dropped)."""
        return cls(**{f.name: d[f.name] for f in fields(cls) if isinstance(d.get(f.name), str) and d[f.name]})


def issue_id(event: SentryEvent) -> str | None:
    """The id of the issue a webhook concerns (issue, error, alert, comment, Seer run…), if any."""
    value = event.shortcuts.get("issue_id")
    return str(value) if value not in (None, "") else None


def payload_facts(event: SentryEvent) -> IssueFacts:
    """What the payload itself tells about its issue: comments and Seer runs tell nothing, issue state
    webhooks no link (`permalink: null`), `issue.created` and activity alerts everything."""
    if issue_id(event) is None:
        return IssueFacts()
    s = event.shortcuts
    issue = event.data.get("issue") if event.resource in _ISSUE_OBJECT else None
    web_url = (dig(issue, "web_url") or dig(issue, "permalink")) if isinstance(issue, Mapping) else None
    return IssueFacts(_text(s.get("title")) if event.resource not in ("comment", "seer") else None,
                      _text(s.get("short_id")), _text(web_url))


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and value not in ("", None) else None
