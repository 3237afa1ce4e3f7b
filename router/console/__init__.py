"""The operator console at /ui/ (DESIGN 3.2): server-rendered pages, guarded by ROUTER_ADMIN_TOKEN (HTTP Basic)."""

from __future__ import annotations

from flask import Blueprint, Response

from router.api.auth import console_guard, protect

# Nothing inline, nothing from elsewhere: a payload string that slips into markup still cannot run.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

bp = protect(Blueprint("console", __name__, url_prefix="/ui", template_folder="templates",
                       static_folder="static"), console_guard, has_index=True)


NAV = (("console.index", "Status"),)


@bp.context_processor
def navigation() -> dict:
    """The menu every page shows."""
    return {"nav": NAV}


@bp.after_request
def security_headers(resp: Response) -> Response:
    """Strict CSP and friends on every console answer."""
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    return resp
