"""Enrichment in the worker (DESIGN 3.5): what a webhook lacks, looked up just before it is rendered.

- issue facts (title, short id, link, assignee email) from `GET /api/0/organizations/{org}/issues/{id}/` for
  webhooks without them (comments, Seer, issue state changes) whose facts nothing else knows, with the
  installation's token. They reach templates as one more source of the issue chain (`api_source`, after the
  facts remembered from earlier webhooks: router/render/issue_ref.py);
- the assignee's Slack user from `users.lookupByEmail`, for a real `<@U…>` mention.

Every lookup is cached in the store for ROUTER_ENRICH_TTL and bounded by ROUTER_ENRICH_TIMEOUT; after a
failure to reach Sentry the API is left alone for DOWN_PAUSE seconds. A failure or a missing token only means
less detail: the notification goes out as the payload allows, never held back longer than the timeouts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from router.masking import one_line
from router.sentry import SentryEvent
from router.sentry.app import assignee_email, issue_facts, issue_ref
from router.sentry.details import organization
from router.sentry.issue import IssueFacts, payload_facts
from router.sentry_app.api import ApiError, SentryApi
from router.sentry_app.tokens import KV, Credential, Tokens

log = logging.getLogger(__name__)
ISSUE_PREFIX = "sentry-app:issue:"
USER_PREFIX = "slack-user:"
DOWN_KEY = "sentry-app:api-down"
DOWN_PAUSE = 30.0
MENTION = re.compile(r"<@[UW][A-Z0-9]{2,30}>")
LookupUser = Callable[[str], "str | None"]   # email -> Slack user id; None: no such user; raises on failure
Known = Callable[[str], "IssueFacts | None"]   # issue id -> facts the router knows already (issue_memory.recall)


def api_source(store: KV) -> Callable[[str], IssueFacts | None]:
    """A source for the issue chain: the facts enrichment read from the API for an issue id (Sentry's issue ids
    are unique across organizations)."""
    def from_sentry_api(iid: str) -> IssueFacts | None:
        raw = store.kv_get(ISSUE_PREFIX + iid)
        return IssueFacts.from_dict(_loads(raw)) if raw else None
    return from_sentry_api


class Enricher:
    """Adds issue facts and the assignee's Slack mention to an event's shortcuts; thread-safe."""

    def __init__(self, store: KV, tokens: Tokens | None, api: SentryApi | None, lookup_user: LookupUser | None,
                 ttl: float, known: Known | None = None) -> None:
        self.store, self.tokens, self.api, self.lookup_user, self.ttl = store, tokens, api, lookup_user, ttl
        self.known = known
        self.api_calls = 0      # calls made (the bench counts them)

    def enrich(self, event: SentryEvent, slack: bool) -> SentryEvent:
        """Fetch (and cache for `api_source`) the issue facts nobody knows yet; return `event` with the assignee
        and, for a Slack target, `assignee_mention` added to its shortcuts (the same event when nothing is)."""
        # an assignment without the assignee's email needs who it is now, not who it was when cached
        fresh = event.action == "assigned" and assignee_email(event) is None
        facts = self._issue(event, fresh) if self._wants_issue(event, slack) else {}
        extra: dict[str, Any] = {}
        if facts.get("assignee") and not event.shortcuts.get("assignee"):
            extra["assignee"] = facts["assignee"]
        email = assignee_email(event) or facts.get("assignee_email")
        if slack and email and self.lookup_user is not None:
            user = self._slack_user(email)
            if user:
                extra["assignee_mention"] = f"<@{user}>"
        if not extra:
            return event
        return dataclasses.replace(event, shortcuts=MappingProxyType({**event.shortcuts, **extra}))

    def _wants_issue(self, event: SentryEvent, slack: bool) -> bool:
        ref = issue_ref(event)
        if self.tokens is None or self.api is None or ref is None:
            return False
        if slack and self.lookup_user is not None and event.action == "assigned" and assignee_email(event) is None:
            return True
        facts = payload_facts(event)
        if not facts.complete and self.known is not None:
            facts = facts.merged(self.known(ref[1]))
        return not facts.complete

    # -- the Sentry API ----------------------------------------------------------------------------
    def _issue(self, event: SentryEvent, fresh: bool) -> dict[str, Any]:
        ref = issue_ref(event)
        assert ref is not None and self.tokens is not None and self.api is not None
        uuid, issue_id = ref
        key = ISSUE_PREFIX + issue_id
        cached = None if fresh else self.store.kv_get(key)
        if cached is not None:
            return _loads(cached)
        if self.store.kv_get(DOWN_KEY):
            return {}
        cred = self.tokens.credential(uuid, organization(event))
        if cred is None:
            return {}
        facts = self._fetch(cred, issue_id)
        if facts is not None:
            self.store.kv_set(key, json.dumps(facts), self.ttl)
        return facts or {}

    def _fetch(self, cred: Credential, issue_id: str) -> dict[str, Any] | None:
        """The issue's facts; one more try with a fresh token after a 401; None on failure."""
        assert self.api is not None and self.tokens is not None
        for _ in range(2):
            path = f"/api/0/organizations/{cred.org}/issues/{issue_id}/" if cred.org else f"/api/0/issues/{issue_id}/"
            try:
                self.api_calls += 1
                return issue_facts(self.api.call("GET", path, cred.token))
            except ApiError as exc:
                log.info("enrichment: %s", exc.reason)
                if exc.status == 401:
                    fresh = self.tokens.rejected(cred)
                    if fresh is None:
                        return None
                    cred = fresh
                    continue
                if exc.status == 0 or exc.status >= 500:
                    self.store.kv_set(DOWN_KEY, "1", DOWN_PAUSE)
                return None
        return None

    # -- Slack -------------------------------------------------------------------------------------
    def _slack_user(self, email: str) -> str | None:
        key = USER_PREFIX + email.lower()
        cached = self.store.kv_get(key)
        if cached is not None:
            return cached or None
        assert self.lookup_user is not None
        try:
            user = self.lookup_user(email)
        except Exception as exc:  # Slack down or slow: no mention this time, not cached
            log.info("enrichment: users.lookupByEmail failed: %s", one_line(str(exc))[:200])
            return None
        user = user if user and MENTION.fullmatch(f"<@{user}>") else None
        self.store.kv_set(key, user or "", self.ttl)
        return user


def _loads(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
