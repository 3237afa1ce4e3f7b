"""Slack Block Kit as the console shows it: blocks → plain structures of text runs, rendered by a template.

Only what Slack would show, as text: mrkdwn bold/italic/code/links become runs; a link keeps its href only
when it is http(s) (payload text may carry `javascript:`); images are shown by their alt text, never loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKENS = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>|\*([^*\n]+)\*|_([^_\n]+)_|`([^`\n]+)`|~([^~\n]+)~")


def unescape(text: str) -> str:
    """Slack's three escapes back to characters (the console escapes again for HTML)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _safe_href(url: str) -> str | None:
    return url if re.match(r"(?i)https?://", url) else None


def runs(text: str, mrkdwn: bool = True) -> list[dict[str, Any]]:
    """Text as runs: {"text", "style": plain|bold|italic|code|strike|link, "href"}."""
    if not mrkdwn:
        return [{"text": text, "style": "plain"}]
    out: list[dict[str, Any]] = []
    pos = 0
    for m in _TOKENS.finditer(text):
        if m.start() > pos:
            out.append({"text": unescape(text[pos:m.start()]), "style": "plain"})
        url, label, bold, italic, code, strike = m.groups()
        if url is not None:
            shown = unescape(label or url)
            if url.startswith(("@", "#", "!")):
                out.append({"text": shown if label else url, "style": "mention"})
            else:
                out.append({"text": shown, "style": "link", "href": _safe_href(unescape(url))})
        else:
            style = "bold" if bold else "italic" if italic else "code" if code else "strike"
            out.append({"text": unescape(bold or italic or code or strike or ""), "style": style})
        pos = m.end()
    if pos < len(text):
        out.append({"text": unescape(text[pos:]), "style": "plain"})
    return out


def _text(obj: Any) -> list[dict[str, Any]]:
    if not isinstance(obj, Mapping):
        return []
    return runs(str(obj.get("text", "")), obj.get("type") == "mrkdwn")


def _element(el: Any) -> dict[str, Any]:
    if not isinstance(el, Mapping):
        return {"kind": "text", "runs": []}
    if el.get("type") == "button":
        return {"kind": "button", "runs": _text(el.get("text")), "href": _safe_href(str(el.get("url", ""))),
                "style": el.get("style", "")}
    if el.get("type") == "image":
        return {"kind": "image", "alt": str(el.get("alt_text", "image"))}
    return {"kind": "text", "runs": _text(el)}


def preview(blocks: Any) -> list[dict[str, Any]]:
    """Each block as {"type", "runs", "fields", "elements"} for the console's Slack preview."""
    out: list[dict[str, Any]] = []
    for block in blocks or []:
        if not isinstance(block, Mapping):
            continue
        kind = str(block.get("type", ""))
        item: dict[str, Any] = {"type": kind, "runs": _text(block.get("text")),
                                "fields": [_text(f) for f in block.get("fields") or [] if isinstance(f, Mapping)],
                                "elements": [_element(e) for e in block.get("elements") or []]}
        if kind == "section" and isinstance(block.get("accessory"), Mapping):
            item["elements"].append(_element(block["accessory"]))
        if kind == "image":
            item["elements"].append(_element(block))
        out.append(item)
    return out
