"""What the API answers and the console shows, read from the store: one function per view, no HTTP."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson
from flask import current_app

from router.channels.base import DeliveryError
from router.delivery.deliverer import job_rule, job_target
from router.delivery.fanout import job_event
from router.masking import mask
from router.render import Message, Renderer
from router.sentry import BadPayload, SentryEvent, parse
from router.store import STATUSES, Job
from router.store.history import FILTERS, WebhookQuery, WebhookRecord, record_of_pending
from router.web.api.explain import explain_json
from router.web.runtime import Runtime

MAX_LIMIT = 200
NOTIFICATION_STATUSES = ("queued", "sending", "retrying", "sent", "dead", "suppressed")


class BadQuery(ValueError):
    """A query parameter the API cannot use; the message names it."""


def runtime() -> Runtime:
    """The running app's Runtime."""
    rt: Runtime = current_app.extensions["router"]
    return rt


def renderer(rt: Runtime) -> Any:
    """One Renderer per app (templates compile once), made on first use."""
    found = current_app.extensions.get("router.renderer")
    if found is None:
        found = current_app.extensions["router.renderer"] = Renderer(rt.settings.templates_path,
                                                                     rt.settings.sentry_url)
    return found


def parse_limit(args: Mapping[str, str], default: int = 50) -> int:
    """`limit` as an int in 1..MAX_LIMIT."""
    raw = args.get("limit", "")
    if raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadQuery(f"query parameter limit={raw[:20]!r}: expected a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def webhook_query(args: Mapping[str, str], allowed: tuple[str, ...] = ()) -> WebhookQuery:
    """A WebhookQuery from query parameters; an unknown parameter is a BadQuery naming it."""
    known = (*FILTERS, "limit", "before", *allowed)
    for key in args:
        if key not in known:
            raise BadQuery(f"unknown query parameter {key[:40]!r}; expected one of: {', '.join(known)}")
    filters = {k: args[k].strip() for k in FILTERS if args.get(k, "").strip()}
    return WebhookQuery(limit=parse_limit(args), before=args.get("before", "").strip(), filters=filters)


def _summaries(rt: Runtime, records: list[WebhookRecord]) -> list[dict[str, Any]]:
    counts = rt.delivery.store.job_counts([r.id for r in records])
    return [{**r.summary(), "notifications": counts.get(r.id, {})} for r in records]


def list_webhooks(rt: Runtime, query: WebhookQuery) -> dict[str, Any]:
    """A newest-first page of webhooks (those no worker has fanned out yet included) and the next cursor."""
    store = rt.delivery.store
    found = {r.id: r for r in store.webhooks(query)}
    for inbound in store.pending(query.limit, query.before):
        rec = _pending_record(inbound)
        if rec is not None and query.accepts(rec):
            found.setdefault(rec.id, rec)
    page = sorted(found.values(), key=lambda r: r.id, reverse=True)[:query.limit]
    nxt = page[-1].id if len(page) == query.limit else None
    return {"items": _summaries(rt, page), "next": nxt}


def _pending_record(inbound: Any) -> WebhookRecord | None:
    try:
        return record_of_pending(inbound)
    except BadPayload:
        return None


def find_webhook(rt: Runtime, webhook_id: str) -> WebhookRecord | None:
    """One webhook with its body, from the history or still waiting for a worker."""
    store = rt.delivery.store
    rec: WebhookRecord | None = store.webhook(webhook_id)
    if rec is None:
        inbound = store.inbound(webhook_id)
        rec = _pending_record(inbound) if inbound is not None else None
    return rec


def event_of(rec: WebhookRecord) -> SentryEvent:
    """The parsed event of a stored webhook."""
    return parse(rec.body, rec.resource, rec.request_id)


def message_json(message: Message) -> dict[str, Any]:
    """A rendered message as JSON: title, text, Slack blocks, email HTML, template."""
    return {"title": message.title, "text": message.text, "blocks": list(message.blocks or []) or None,
            "html": message.html, "template": message.template, "channel": message.channel}


def render_job(rt: Runtime, job: Job) -> dict[str, Any]:
    """The message this notification renders to with today's templates and the live target."""
    try:
        event = job_event(rt.delivery.store, job)
        target = job_target(job, rt.rules.current.targets, event)
        return message_json(renderer(rt).render(event, target, job_rule(job)))
    except (DeliveryError, KeyError, TypeError, ValueError) as exc:
        return {"error": f"cannot render: {exc}"}


def notification_json(job: Job, attempts: list[Any] | None = None) -> dict[str, Any]:
    """One ledger row as the API shows it (never the stored target options)."""
    out: dict[str, Any] = {"id": job.id, "webhook_id": job.webhook_id, "rule": job.rule, "target": job.target,
                           "type": job.target_type, "status": job.status, "attempts": job.attempts,
                           "last_error": job.last_error or None, "updated_at": job.updated_at,
                           "created_at": job.created_at,
                           "next_at": job.next_at if job.status in ("queued", "retrying") else None,
                           "reason": job.last_error or None if job.status == "suppressed" else None,
                           "receipt": dict(job.receipt)}
    if attempts is not None:
        out["attempt_history"] = [a.as_dict() for a in attempts]
    return out


def webhook_detail(rt: Runtime, rec: WebhookRecord) -> dict[str, Any]:
    """One webhook: its summary, payload, per-rule explanation, and notifications with attempts and messages."""
    store = rt.delivery.store
    out = _summaries(rt, [rec])[0]
    out["notification_counts"] = out["notifications"]   # "notifications" becomes the full list below
    try:
        out["payload"] = orjson.loads(rec.body)
    except orjson.JSONDecodeError:
        out["payload"] = rec.body.decode("utf-8", "replace")
    try:
        event = event_of(rec)
        out["explain"] = explain_json(rt.rules.current, event)
    except BadPayload as exc:
        out["explain"] = []
        out["explain_error"] = str(exc)
    jobs = store.webhook_jobs(rec.id)
    attempts = store.attempts([j.id for j in jobs])
    out["notifications"] = [{**notification_json(j), "attempts": [a.as_dict() for a in attempts[j.id]],
                             "attempt_count": j.attempts, "rendered": render_job(rt, j)} for j in jobs]
    return out


def list_notifications(rt: Runtime, args: Mapping[str, str]) -> dict[str, Any]:
    """A newest-first page of notifications with one status (any when none is given)."""
    for key in args:
        if key not in ("status", "limit", "before"):
            raise BadQuery(f"unknown query parameter {key[:40]!r}; expected one of: status, limit, before")
    statuses = tuple(s for s in args.get("status", "").split(",") if s)
    for s in statuses:
        if s not in STATUSES:
            raise BadQuery(f"query parameter status={s[:20]!r}: expected one of {', '.join(NOTIFICATION_STATUSES)}")
    limit = parse_limit(args)
    jobs = rt.delivery.store.notifications(statuses, limit, args.get("before", ""))
    return {"items": [notification_json(j) for j in jobs], "next": jobs[-1].id if len(jobs) == limit else None}


def secrets_of(rt: Runtime) -> list[str]:
    """Every secret the settings hold, for masking what a page shows."""
    return list(rt.settings.secret_values())


def masked(rt: Runtime, text: str) -> str:
    """`text` with every configured secret masked."""
    return mask(text, secrets_of(rt))


def since_hour() -> float:
    """An hour ago."""
    return time.time() - 3600
