"""Issue facts remembered from earlier webhooks (title, short id, web page), in the shared store (both engines).

The worker records them when it fans a webhook out (`remember`) and offers them to rendering as a source of
the issue fallback chain (`recall`, see router/render/issue_ref.py): a comment, a Seer run or an issue state
change, whose payloads lack a title or a link, then names and links the issue an earlier webhook described.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from router.sentry import SentryEvent
from router.sentry.issue import IssueFacts, issue_id, payload_facts
from router.store import Store

TTL = 30 * 86400.0  # as long as a Slack card is remembered by default (ROUTER_THREAD_TTL)


def _key(iid: str) -> str:
    return f"issue-facts:{iid}"


def remember(store: Store, event: SentryEvent, ttl: float = TTL) -> None:
    """Store what this webhook tells about its issue, keeping facts it lacks from earlier ones."""
    iid = issue_id(event)
    facts = payload_facts(event) if iid is not None else IssueFacts()
    if iid is None or not facts.to_dict():
        return
    known = _read(store, iid)
    merged = facts.merged(known)
    if merged != known:
        store.kv_set(_key(iid), json.dumps(merged.to_dict()), ttl)


def recall(store: Store) -> Callable[[str], IssueFacts | None]:
    """A source for the issue chain: the facts remembered for an issue id."""
    def remembered(iid: str) -> IssueFacts | None:
        return _read(store, iid)
    return remembered


def _read(store: Store, iid: str) -> IssueFacts | None:
    raw = store.kv_get(_key(iid))
    if not raw:
        return None
    try:
        d = json.loads(raw)
    except ValueError:
        return None
    return IssueFacts.from_dict(d) if isinstance(d, dict) else None
