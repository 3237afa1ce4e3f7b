"""Dotted paths into an event, compiled once: what rules read (`data.error.exception.values.0.type`, `tags.os`,
`settings.target`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from router.sentry.app import action_settings
from router.sentry.event import MISSING, SentryEvent, lookup


def getter(path: str) -> Callable[[SentryEvent], Any]:
    """A function reading `path` from an event, the same as `sentry.lookup` but with the path split once.

    `tags.<key>` keys may contain dots (`browser.name`).
    """
    head, dot, rest = path.partition(".")
    if head in ("resource", "action", "request_id") and not dot:
        return attrgetter(head)
    if head == "tags" and rest:
        return lambda event: _tag(event, rest)
    if head == "settings" and rest:
        return lambda event: action_settings(event).get(rest, MISSING)
    if head not in ("data", "actor", "installation"):
        if dot:
            return lambda event: lookup(event, path)
        return lambda event: event.shortcuts.get(head, MISSING)
    steps = tuple((key, int(key) if key.lstrip("-").isdigit() else None) for key in rest.split(".")) if dot else ()
    root = attrgetter(head)

    def get(event: SentryEvent) -> Any:
        obj = root(event)
        for key, index in steps:
            if isinstance(obj, Mapping):
                if key not in obj:
                    return MISSING
                obj = obj[key]
            elif index is not None and isinstance(obj, list) and -len(obj) <= index < len(obj):
                obj = obj[index]
            else:
                return MISSING
        return obj
    return get


def _tag(event: SentryEvent, key: str) -> Any:
    tags = event.shortcuts.get("tags")
    return tags.get(key, MISSING) if isinstance(tags, Mapping) else MISSING
