"""A webhook body's JSON, decoded safely: exact numbers, bounded nesting, no lone surrogates left."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

MAX_DEPTH = 100  # Sentry's payloads nest far less; deeper input would exhaust Python's recursion downstream
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # \ud800-\udfff in the raw text (emoji pairs too)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# orjson turns integers beyond 64 bits into floats; json keeps them exact. A run of 19 digits is found by
# mapping every digit to "0" (bytes.translate): 5x cheaper than the regex \d{19} on Sentry's bodies.
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_NUMBER = b"0" * 19


class BadPayload(ValueError):
    """A signed webhook we cannot accept; the message is the one-line reason."""


def _loads(body: bytes) -> Any:
    """orjson (~4x faster) where it gives what json gives; json for what orjson refuses or would round."""
    if _LONG_NUMBER not in body.translate(_DIGITS):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # lone surrogates, NaN, invalid input: json accepts or explains them exactly as before
    return json.loads(body.decode("utf-8"))


def decode(body: bytes) -> Any:
    """The body's JSON, nesting bounded by MAX_DEPTH, lone surrogates (`"\\ud800"`) replaced by U+FFFD."""
    try:
        payload = _loads(body)
    except UnicodeDecodeError:
        raise BadPayload("body is not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise BadPayload(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BadPayload(f"body is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise BadPayload(f"body is not valid JSON: {str(exc).split(':')[0]}") from None
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _too_deep(payload):
        raise BadPayload(f"body is nested too deeply (more than {MAX_DEPTH} levels)")
    return _replace_surrogates(payload) if _SURROGATE_ESCAPE.search(body) else payload


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def _replace_surrogates(value: Any) -> Any:
    """A copy with every lone surrogate replaced: they cannot be encoded as UTF-8 (SQLite, Redis, SMTP, logs)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value
