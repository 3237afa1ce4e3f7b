"""Slack Block Kit output: parse a template's `blocks` JSON, check its shape, hold it to Slack's limits."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from router.render.env import from_html_escaped

MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BUTTON_TEXT_MAX = 75
FALLBACK_MAX = 3000
_CUT_ENTITY = re.compile(r"&[A-Za-z0-9#]{0,8}$|<[^<>]*$")  # a cut must not leave half of `&amp;` or `<…>`


class BlocksError(ValueError):
    """A template's `blocks` output is not a JSON list of Block Kit blocks."""


def clip(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters with an ellipsis, never inside an `&…;` entity."""
    if len(text) <= limit:
        return text
    return _CUT_ENTITY.sub("", text[: limit - 1]) + "…"


def parse_blocks(text: str) -> list[dict[str, Any]] | None:
    """The blocks a template rendered (None if it rendered nothing); a trailing comma before `]` is allowed."""
    src = text.strip()
    if not src:
        return None
    if src.endswith("]") and src[:-1].rstrip().endswith(","):
        src = src[:-1].rstrip()[:-1] + "]"
    try:
        blocks = json.loads(src)
    except json.JSONDecodeError as exc:
        raise BlocksError(f"blocks: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    validate(blocks)
    needs_fix = "&#34;" in src or "&#39;" in src
    return [clamp(_fix_strings(b) if needs_fix else b) for b in blocks[:MAX_BLOCKS]]


def validate(blocks: Any) -> None:
    """Raise BlocksError unless `blocks` is a list of objects that each have a string `type`."""
    if not isinstance(blocks, list):
        raise BlocksError(f"blocks: expected a JSON list, got {type(blocks).__name__}")
    for i, block in enumerate(blocks):
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            raise BlocksError(f"blocks[{i}]: expected an object with a \"type\"")
        if block["type"] == "header" and not _text(block.get("text")):
            raise BlocksError(f"blocks[{i}]: header needs text")


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, Mapping) and isinstance(obj.get("text"), str) else ""


def _fix_strings(value: Any) -> Any:
    """Autoescape wrote quotes as &#34; / &#39; in values pasted raw into JSON strings; Slack wants them bare."""
    if isinstance(value, str):
        return from_html_escaped(value)
    if isinstance(value, list):
        return [_fix_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _fix_strings(v) for k, v in value.items()}
    return value


def _clip_text(obj: Any, limit: int) -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = clip(obj["text"], limit) or " "


def clamp(block: dict[str, Any]) -> dict[str, Any]:
    """Hold one block to Slack's limits: header 150, section text 3000, ≤ 10 fields of ≤ 2000."""
    kind = block.get("type")
    if kind == "header":
        _clip_text(block.get("text"), HEADER_MAX)
    elif kind == "section":
        _clip_text(block.get("text"), SECTION_MAX)
        if isinstance(block.get("fields"), list):
            block["fields"] = block["fields"][:FIELDS_MAX]
            for field in block["fields"]:
                _clip_text(field, FIELD_MAX)
    elif kind == "context" and isinstance(block.get("elements"), list):
        block["elements"] = block["elements"][:10]
        for element in block["elements"]:
            _clip_text(element, FIELD_MAX)
    elif kind == "actions" and isinstance(block.get("elements"), list):
        block["elements"] = block["elements"][:25]
        for element in block["elements"]:
            _clip_text(element.get("text") if isinstance(element, dict) else None, BUTTON_TEXT_MAX)
    return block
