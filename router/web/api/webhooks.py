"""GET /api/v1/webhooks and /api/v1/webhooks/<id>: the history, why each webhook routed, what was sent."""

from __future__ import annotations

from flask import Response, request

from router.web.api import bp
from router.web.api.data import BadQuery, find_webhook, list_webhooks, runtime, webhook_detail, webhook_query
from router.web.api.http import error, json_response


@bp.get("/webhooks")
def webhooks() -> Response:
    """Newest first; filters resource, action, rule, issue_id, project; `limit`; cursor `before`."""
    try:
        query = webhook_query(request.args)
    except BadQuery as exc:
        return error(400, str(exc))
    return json_response(list_webhooks(runtime(), query))


@bp.get("/webhooks/<webhook_id>")
def webhook(webhook_id: str) -> Response:
    """One webhook with payload, explanation and notifications (attempts, rendered message)."""
    rt = runtime()
    rec = find_webhook(rt, webhook_id)
    if rec is None:
        return error(404, f"no webhook with id {webhook_id[:40]!r}")
    return json_response(webhook_detail(rt, rec))
