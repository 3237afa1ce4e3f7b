"""JSON answers of the admin API."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response


def json_response(value: Any, status: int = 200) -> Response:
    """`value` as JSON (sorted keys, trailing newline); non-JSON values (datetimes…) become strings."""
    return Response(orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE),
                    status=status, mimetype="application/json")


def error(status: int, message: str) -> Response:
    """`{"error": message}` with `status`; the message names what was wrong and where."""
    return json_response({"error": message}, status)
