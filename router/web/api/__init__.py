"""The admin JSON API, /api/v1 (DESIGN 3.2): one blueprint, guarded by ROUTER_ADMIN_TOKEN (Bearer).

Other modules add their views to `bp`; `protect` and the guards in `router.web.api.auth` serve any
other blueprint that needs the same check.
"""

from __future__ import annotations

from flask import Blueprint

from router.web.api.auth import api_guard, protect

bp = protect(Blueprint("api", __name__, url_prefix="/api/v1"), api_guard)
