"""The operator console at /ui/ (DESIGN 3.2): server-rendered pages, guarded by ROUTER_ADMIN_TOKEN (HTTP Basic)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response

from router.web.api.auth import console_guard, protect
from router.web.console.csrf import csrf_token

# Nothing inline, nothing from elsewhere: a payload string that slips into markup still cannot run.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

bp = protect(Blueprint("console", __name__, url_prefix="/ui", template_folder="templates",
                       static_folder="static"), console_guard, has_index=True)


NAV = (("console.webhooks", "Webhooks"), ("console.notifications", "Notifications"),
       ("console.silences", "Silences"), ("console.playground", "Playground"), ("console.status", "Status"))


@bp.context_processor
def navigation() -> dict[str, Any]:
    """The menu and the CSRF token every page uses."""
    return {"nav": NAV, "csrf_token": csrf_token}


@bp.app_template_filter("when")
def when(ts: float | None) -> str:
    """A Unix time as `YYYY-MM-DD HH:MM:SS` UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts else ""


@bp.after_request
def security_headers(resp: Response) -> Response:
    """Strict CSP and friends on every console answer."""
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    return resp
