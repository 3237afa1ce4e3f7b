"""ROUTER_ADMIN_TOKEN checks for the admin API (Bearer) and the console (HTTP Basic), in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from router.web.api.http import error

API_REALM = 'Bearer realm="sentry-router"'
CONSOLE_REALM = 'Basic realm="sentry-router console", charset="UTF-8"'


def admin_tokens() -> tuple[str, ...]:
    """The tokens of this app's settings; empty when ROUTER_ADMIN_TOKEN is unset."""
    tokens: tuple[str, ...] = current_app.extensions["router"].settings.admin_tokens
    return tokens


def token_ok(given: str | None, tokens: tuple[str, ...]) -> bool:
    """True if `given` equals one of `tokens`; every token is compared, each in constant time."""
    if not given or not tokens:
        return False
    raw = given.encode("utf-8", "surrogateescape")
    found = False
    for token in tokens:
        found |= hmac.compare_digest(raw, token.encode("utf-8"))
    return found


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, value = (header or "").strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def basic_password(header: str | None) -> str | None:
    """The password of an `Authorization: Basic …` header (any user name), else None."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, sep, password = decoded.partition(":")
    return password if sep else None


def not_found() -> Response:
    """What every admin path answers while ROUTER_ADMIN_TOKEN is unset: the feature does not exist."""
    return Response("not found\n", status=404, mimetype="text/plain")


def api_guard() -> Response | None:
    """before_request for API blueprints: 404 when off, 401 (JSON) without a valid Bearer token."""
    tokens = admin_tokens()
    if not tokens:
        return not_found()
    if token_ok(bearer_token(request.headers.get("Authorization")), tokens):
        return None
    resp = error(401, "unauthorized: send the header 'Authorization: Bearer <ROUTER_ADMIN_TOKEN>'")
    resp.headers["WWW-Authenticate"] = API_REALM
    return resp


def console_guard() -> Response | None:
    """before_request for console blueprints: 404 when off, 401 asking for HTTP Basic otherwise."""
    tokens = admin_tokens()
    if not tokens:
        return not_found()
    if token_ok(basic_password(request.headers.get("Authorization")), tokens):
        return None
    resp = Response("unauthorized: sign in with any user name and ROUTER_ADMIN_TOKEN as the password\n",
                    status=401, mimetype="text/plain")
    resp.headers["WWW-Authenticate"] = CONSOLE_REALM
    return resp


def protect(bp: Blueprint, guard: Callable[[], Response | None], has_index: bool = False) -> Blueprint:
    """Run `guard` before every view of `bp`, and answer its unknown paths (404) only after the guard passed;
    with `has_index` the bare prefix redirects to the blueprint's own "/" view."""
    bp.before_request(guard)

    def unknown(rest: str = "") -> Response:
        return error(404, f"no such path: {request.path}") if guard is api_guard else not_found()

    def root() -> BaseResponse:
        return redirect(request.path + "/") if has_index else unknown()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    bp.add_url_rule("/<path:rest>", "unknown_path", unknown, methods=methods)
    bp.add_url_rule("", "root", root, methods=methods)  # the prefix itself, so it too is guarded
    if not has_index:
        bp.add_url_rule("/", "unknown_index", unknown, methods=methods)
    return bp
