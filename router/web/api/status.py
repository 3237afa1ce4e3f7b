"""GET /api/v1/status: rules, store, queue depth and dead letters, as JSON."""

from __future__ import annotations

import time
from typing import Any

from flask import Response, current_app

from router.store import DEAD, StoreUnavailable
from router.web.api import bp
from router.web.api.http import json_response
from router.web.runtime import Runtime


def _rt() -> Runtime:
    rt: Runtime = current_app.extensions["router"]
    return rt


def per_target(activity: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Attempt counts by target: sent, failed (retrying or dead) and suppressed."""
    out: dict[str, dict[str, int]] = {}
    for _bucket, outcome, target, n in activity["attempts"]:
        counts = out.setdefault(target, {"sent": 0, "failed": 0, "suppressed": 0})
        key = "sent" if outcome == "sent" else "suppressed" if outcome == "suppressed" else "failed"
        counts[key] += n
    return out


def status_report(rt: Runtime) -> dict[str, Any]:
    """What the status endpoint and page show; never a secret (no URLs, no tokens)."""
    rt.rules.maybe_reload()
    rules = rt.rules.status()
    report: dict[str, Any] = {
        "rules": {"source": rules.source, "sha256": rules.digest, "rules": rules.rules, "targets": rules.targets,
                  "last_reload_ok": rules.ok, "last_reload_error": rules.error},
        "store": {"kind": "redis" if rt.settings.redis_url else "sqlite", "reachable": True, "error": None},
        "queue_depth": None, "dead_letters": None, "targets_last_hour": {},
    }
    try:
        rt.delivery.ping()
        report["queue_depth"] = rt.delivery.queue_depth()
        report["dead_letters"] = rt.delivery.store.count(DEAD)
        report["targets_last_hour"] = per_target(rt.delivery.store.activity(time.time() - 3600, 3600))
    except StoreUnavailable as exc:
        report["store"].update(reachable=False, error=str(exc))
    return report


@bp.get("/status")
def status() -> Response:
    """The router's health as an operator needs it."""
    return json_response(status_report(_rt()))
