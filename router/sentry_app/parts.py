"""The Sentry-app parts a worker needs, built from the settings: tokens (when the router can hold any) and the
enricher (when it has a Sentry token source or a Slack bot token)."""

from __future__ import annotations

from dataclasses import dataclass

from router.rules.model import SENTRY_APP, MatchResult, Notification, Rule, Target
from router.sentry_app.api import SentryApi
from router.sentry_app.enrich import Enricher, Known
from router.sentry_app.tokens import KV, Tokens
from router.settings import Settings


@dataclass(frozen=True)
class SentryAppParts:
    """What the worker uses: `tokens` for installation webhooks and API calls, `enricher` before rendering."""

    tokens: Tokens | None
    enricher: Enricher | None


def build_parts(settings: Settings, store: KV, known: Known | None = None) -> SentryAppParts:
    """Tokens and enrichment with SENTRY_CLIENT_ID or SENTRY_API_TOKEN (DESIGN 3.5: "with a token, the worker
    enriches"); Slack mentions also need SLACK_BOT_TOKEN."""
    if not settings.sentry_client_id and not settings.sentry_api_token:
        return SentryAppParts(None, None)
    api = SentryApi(settings.sentry_api_base, settings.enrich_timeout)
    tokens = Tokens(settings, store, api)
    lookup = None
    if settings.slack_bot_token:
        # imported only when a bot token is set: slack-sdk costs ~150 ms at every process start (router/channels)
        from router.channels.slack.users import user_lookup

        lookup = user_lookup(settings.slack_bot_token, settings.slack_api_url, settings.enrich_timeout)
    return SentryAppParts(tokens, Enricher(store, tokens, api, lookup, settings.enrich_ttl, known))


# an installation webhook's token work travels as one more job (durable, retried, in the ledger: never a token)
INSTALLATION_RULE = Rule(name="(sentry app installation)", match=None, throttle=0.0)
INSTALLATION_TARGET = Target(name="(sentry-app)", type=SENTRY_APP, options={})


def with_installation_job(result: MatchResult) -> MatchResult:
    """`result` plus the job that exchanges (created) or drops (deleted) the installation's token."""
    note = Notification(rule=INSTALLATION_RULE, target=INSTALLATION_TARGET)
    return MatchResult(matched=result.matched, notifications=(*result.notifications, note))
