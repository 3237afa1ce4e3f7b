"""Console pages for reading: webhooks (list, live rows, one webhook) and status. Nothing here writes."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Response, abort, render_template, request

from router.store import StoreUnavailable
from router.web.api.data import (
    BadQuery,
    find_webhook,
    list_webhooks,
    render_job,
    runtime,
    webhook_detail,
    webhook_query,
)
from router.web.api.status import status_report
from router.web.api.webhooks import webhooks as api_webhooks
from router.web.console import bp
from router.web.console.charts import area_chart
from router.web.console.slack_preview import preview


def _query() -> Any:
    try:
        return webhook_query({k: v for k, v in request.args.items() if v != ""})
    except BadQuery as exc:
        abort(400, description=str(exc))


@bp.get("/")
def index() -> str:
    """The console's front page: the webhook list."""
    return webhooks()


@bp.get("/webhooks")
def webhooks() -> str:
    """Newest webhooks first, filtered; live-updated by static/live.js on the first page."""
    query = _query()
    page = list_webhooks(runtime(), query)
    return render_template("console/webhooks.html", page=page, filters=query.filters, before=query.before,
                           live=not query.before)


# the first page of the list as JSON, for live.js (which builds rows with textContent, never HTML)
bp.add_url_rule("/webhooks/live", "webhooks_live", api_webhooks)


@bp.get("/webhooks/<webhook_id>")
def webhook(webhook_id: str) -> str:
    """One webhook: payload, explanation, notifications with attempts, Slack and email previews."""
    rt = runtime()
    rec = find_webhook(rt, webhook_id)
    if rec is None:
        abort(404, description=f"no webhook with id {webhook_id[:40]!r}")
    d = webhook_detail(rt, rec)
    for n in d["notifications"]:
        n["slack"] = preview(n["rendered"].get("blocks")) if n["rendered"].get("blocks") else None
    return render_template("console/webhook.html", w=d, payload=json.dumps(d["payload"], indent=2,
                                                                         ensure_ascii=False))


@bp.get("/notifications/<job_id>/email")
def email_preview(job_id: str) -> Response:
    """The email HTML of one notification, for the sandboxed frame on the webhook page (no script, no fetch)."""
    rt = runtime()
    job = rt.delivery.store.get(job_id)
    html = render_job(rt, job).get("html") if job is not None else None
    if not html:
        abort(404, description="no email for this notification")
    resp = Response(html, mimetype="text/html")
    # its own policy: the email's inline styles apply, nothing runs, nothing loads from outside
    resp.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                               "sandbox; frame-ancestors 'self'")
    return resp


@bp.get("/status")
def status() -> str:
    """Rules, store, queue, per-target counts, and webhooks and deliveries per minute over the last day."""
    rt = runtime()
    report = status_report(rt)
    charts = []
    since = (time.time() // 60 - 1439) * 60
    try:
        act = rt.delivery.store.activity(since, 60)
    except StoreUnavailable:
        act = {"webhooks": [], "attempts": []}
    sent = [(b, n) for b, o, _t, n in act["attempts"] if o == "sent"]
    failed = [(b, n) for b, o, _t, n in act["attempts"] if o in ("retrying", "dead")]
    charts.append(area_chart("Webhooks per minute", act["webhooks"], 1440))
    charts.append(area_chart("Deliveries sent per minute", sent, 1440))
    charts.append(area_chart("Delivery failures per minute", failed, 1440))
    return render_template("console/status.html", status=report, charts=charts)
