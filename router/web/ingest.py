"""The ingest stages in order — verify → parse → match → dedup + durable accept — shared by web and `test`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.datastructures import Headers

from router import sentry
from router.masking import one_line
from router.rules.match import match
from router.sentry.verify import verify
from router.sentry_app.parts import with_installation_job
from router.store import StoreUnavailable
from router.web.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one webhook; the web view maps `outcome` to a status code."""

    outcome: str                      # accepted | duplicate | bad_signature | bad_request | unavailable
    reason: str = ""
    event: sentry.SentryEvent | None = None
    matched: tuple[str, ...] = ()
    webhook_id: str = ""


def ingest(rt: Runtime, body: bytes, headers: Mapping[str, str] | Headers) -> Outcome:
    """Run one webhook through every ingest stage; notifications are durably queued before it returns."""
    if not verify(body, headers.get("Sentry-Hook-Signature"), rt.settings.client_secrets):
        reason = "missing Sentry-Hook-Signature header" if not headers.get("Sentry-Hook-Signature") \
            else "Sentry-Hook-Signature does not match the body"
        return Outcome("bad_signature", reason)
    try:
        event = sentry.parse(body, headers.get("Sentry-Hook-Resource"), headers.get("Request-ID", "")[:64])
    except sentry.BadPayload as exc:
        return Outcome("bad_request", str(exc))
    ruleset = rt.rules.current
    result = match(ruleset, event)
    if event.resource == "installation" and rt.settings.sentry_client_id:
        result = with_installation_job(result)
    try:
        accepted = rt.delivery.accept(event, result, ruleset.settings.dedup_window,
                                      ruleset.settings.default_throttle, body)
    except StoreUnavailable as exc:
        log.error("store unavailable, webhook %s refused with 503: %s", one_line(event.dedup_key), exc)
        return Outcome("unavailable", f"store unavailable: {exc}", event)
    if accepted.duplicate:
        return Outcome("duplicate", event=event, webhook_id=accepted.webhook_id)
    return Outcome("accepted", event=event, matched=result.matched, webhook_id=accepted.webhook_id)
