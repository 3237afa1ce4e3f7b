"""CSRF tokens for console form POSTs: stateless, an HMAC of the signed-in admin token (no session needed)."""

from __future__ import annotations

import hashlib
import hmac

from flask import abort, request

from router.web.api.auth import basic_password


def csrf_token() -> str:
    """The token this signed-in user's forms carry; other origins cannot read it from our pages."""
    password = basic_password(request.headers.get("Authorization")) or ""
    return hmac.new(password.encode("utf-8", "surrogateescape"), b"sentry-router console csrf",
                    hashlib.sha256).hexdigest()


def check_csrf() -> None:
    """Abort with 400 unless the form's csrf_token is this user's (constant time)."""
    given = request.form.get("csrf_token", "")
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), csrf_token().encode()):
        abort(400, description="missing or wrong csrf_token: reload the page and submit the form again")
