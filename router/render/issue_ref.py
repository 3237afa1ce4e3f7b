"""The issue a notification names and links: one fallback chain, payload → sources → SENTRY_URL.

`lookup_issue(event, sources, sentry_url)` is the only place that decides. A *source* is any callable
`(issue_id) -> IssueFacts | None`, asked in order only for what is still missing: the worker passes what the
router remembered from earlier webhooks (`router/delivery/issue_memory.py`); the Sentry API can be one more
(add it to `Renderer(issue_sources=…)`). A source that raises is skipped (logged), never fails a notification.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from router.masking import one_line
from router.sentry import SentryEvent
from router.sentry.issue import IssueFacts, issue_id, payload_facts

log = logging.getLogger(__name__)

IssueSource = Callable[[str], "IssueFacts | None"]


def lookup_issue(event: SentryEvent, sources: Sequence[IssueSource] = (), sentry_url: str | None = None
                 ) -> IssueFacts | None:
    """Title, short id and page of the event's issue (None when it concerns no issue): from the payload, each
    missing fact from `sources` in order, and the page finally built as `SENTRY_URL/issues/<id>/`."""
    iid = issue_id(event)
    if iid is None:
        return None
    facts = payload_facts(event)
    for source in sources:
        if facts.complete:
            break
        try:
            facts = facts.merged(source(iid))
        except Exception as exc:
            log.warning("issue source %s failed for issue %s: %s: %s", getattr(source, "__name__", source),
                        one_line(iid), type(exc).__name__, one_line(str(exc)))
    if not facts.web_url and sentry_url:
        facts = replace(facts, web_url=f"{sentry_url.rstrip('/')}/issues/{iid}/")
    return facts
