"""HTTP only: the webhook view, /-/healthy, /-/ready and /metrics. Views map outcomes to status codes."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from router import metrics, sentry
from router.masking import one_line
from router.store import StoreUnavailable
from router.web import ingest
from router.web.runtime import Runtime

log = logging.getLogger("router.web")  # the one line per webhook keeps the logger name operators filter on
bp = Blueprint("router", __name__)

STATUS = {"accepted": 202, "duplicate": 202, "bad_signature": 401, "bad_request": 400,
          "too_large": 413, "unavailable": 503}


def _rt() -> Runtime:
    rt: Runtime = current_app.extensions["router"]
    return rt


def _error(outcome: str, reason: str, extra_headers: dict[str, str] | None = None) -> Response:
    resp = Response(reason + "\n", status=STATUS[outcome], mimetype="text/plain")
    resp.headers["Sentry-Hook-Error"] = outcome  # shown in Sentry's request log
    for key, value in (extra_headers or {}).items():
        resp.headers[key] = value
    return resp


def _json(status: int, value: dict[str, Any]) -> Response:
    """What jsonify answers (sorted keys, trailing newline), serialised by orjson."""
    return Response(orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE), status=status,
                    mimetype="application/json")


def _read_body(limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit` (never reads more than limit + 1 bytes)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


@bp.route("/sentry/webhook", methods=["POST"], strict_slashes=False)
def webhook() -> Response:
    """Receive one Sentry webhook; 202 once its notifications are durably queued."""
    start = time.perf_counter()
    rt = _rt()
    rt.rules.maybe_reload()
    body = _read_body(rt.settings.max_body)
    if body is None:
        out = ingest.Outcome("too_large", f"body larger than ROUTER_MAX_BODY ({rt.settings.max_body} bytes)")
    else:
        out = ingest.ingest(rt, body, request.headers)
    ev = out.event
    # labels are names Sentry sends or "other": neither unsigned nor signed input grows the metric's cardinality
    resource = sentry.label(ev.resource, sentry.KNOWN_ACTIONS) if ev else ""
    action = sentry.label(ev.action, sentry.KNOWN_ACTIONS.get(ev.resource, ())) if ev else ""
    metrics.WEBHOOKS.labels(resource, action, out.outcome).inc()
    if out.outcome not in ("accepted", "duplicate"):
        log.info("webhook refused: %s: %s", out.outcome, out.reason)
        return _error(out.outcome, out.reason, {"Retry-After": "5"} if out.outcome == "unavailable" else None)
    assert ev is not None
    metrics.INGEST_SECONDS.observe(time.perf_counter() - start)
    log.info("webhook %s %s.%s subject=%s matched=%s%s", out.webhook_id, ev.resource, one_line(ev.action),
             one_line(ev.subject_id), ",".join(out.matched) or "-",
             " (duplicate)" if out.outcome == "duplicate" else "")
    return _json(202, {"id": out.webhook_id, "resource": ev.resource, "action": ev.action,
                       "matched": list(out.matched), "duplicate": out.outcome == "duplicate"})


@bp.route("/-/healthy")
def healthy() -> Response:
    """200 while the process runs."""
    return Response("OK\n", mimetype="text/plain")


@bp.route("/-/ready")
def ready() -> Response:
    """200 when rules are loaded and the store answers; says so when a reload was refused."""
    rt = _rt()
    rt.rules.maybe_reload()
    try:
        rt.delivery.ping()
    except StoreUnavailable as exc:
        return Response(f"not ready: store unavailable: {exc}\n", status=503, mimetype="text/plain")
    current = rt.rules.current
    # unauthenticated: no paths, addresses or patterns; the reason is in the log (and rt.rules.failure())
    text = f"ready: {len(current.rules)} rules, {len(current.targets)} targets, rules sha256 {current.digest[:12]}\n"
    if rt.rules.last_error:
        text += "reload failed, still routing with the previous rules (the reason is in the log)\n"
    return Response(text, mimetype="text/plain")


@bp.route("/metrics")
def metrics_view() -> Response:
    """Prometheus text format."""
    rt = _rt()
    rt.rules.maybe_reload()   # an idle router still reports a refused reload

    def scrape_time() -> list[tuple[str, str, float]]:
        # read from this process's live rules, so a delivery worker sharing the metrics folder can't skew them
        status = rt.rules.status()
        gauges = [("router_rules_last_load_successful", "1 if the last load of the rules file succeeded",
                   1.0 if status.ok else 0.0),
                  ("router_rules_hash", "Hash of the active rules file (first 52 bits of its SHA-256)",
                   float(status.hash_value))]
        try:
            return gauges + rt.delivery.scrape_gauges()
        except StoreUnavailable:
            return gauges

    return Response(metrics.exposition(scrape_time), mimetype="text/plain; version=0.0.4; charset=utf-8")
