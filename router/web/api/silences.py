"""/api/v1/silences (DESIGN 3.3): add, list and end silences in the shared store."""

from __future__ import annotations

import time

import orjson
from flask import Response, current_app, request

from router.rules.silence import SilenceError, new_silence
from router.store import StoreUnavailable, new_id
from router.store.silences import Silences, silences_of
from router.web.api import bp
from router.web.api.http import error, json_response

MAX_BODY = 64 * 1024   # a silence is a few hundred bytes


def _silences() -> Silences:
    return silences_of(current_app.extensions["router"].delivery.store)


def _unavailable(exc: StoreUnavailable) -> Response:
    return error(503, f"store unavailable: {exc}")


@bp.route("/silences", methods=["POST"])
def add_silence() -> Response:
    """201 {id, starts_at, ends_at, …} for a valid silence; 400 naming the key path of what is wrong."""
    body = request.stream.read(MAX_BODY + 1)   # never more than that, whatever Content-Length says
    if len(body) > MAX_BODY:
        return error(413, f"body: larger than {MAX_BODY} bytes")
    try:
        spec = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return error(400, f"body: not JSON ({exc})")
    now = time.time()
    try:
        silence = new_silence(spec, now, new_id())
    except SilenceError as exc:
        return json_response({"error": "; ".join(exc.errors), "errors": exc.errors}, 400)
    try:
        _silences().add(silence)
    except StoreUnavailable as exc:
        return _unavailable(exc)
    return json_response(silence.view(now), 201)


@bp.route("/silences", methods=["GET"])
def list_silences() -> Response:
    """Active, pending and recently ended silences, newest first."""
    now = time.time()
    try:
        found = _silences().listed(now)
    except StoreUnavailable as exc:
        return _unavailable(exc)
    return json_response({"items": [s.view(now) for s in found], "next": None})


@bp.route("/silences/<silence_id>", methods=["DELETE"])
def end_silence(silence_id: str) -> Response:
    """End a silence now: 200 with it as ended; 404 if there is no such silence or it has ended."""
    try:
        ended = _silences().end(silence_id, time.time(), "expired")
    except StoreUnavailable as exc:
        return _unavailable(exc)
    if ended is None:
        return error(404, f"no active silence {silence_id[:64]!r}")
    return json_response(ended.view(time.time()))
