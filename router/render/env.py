"""The Jinja sandbox: loaders (user folder over shipped defaults), filters and per-channel escaping."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "default_templates"


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn gives meaning to: & < >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def from_html_escaped(text: str) -> str:
    """Turn autoescaped output (payload values HTML-escaped) into Slack mrkdwn escaping.

    markupsafe escapes & < > " '; Slack wants only & < > escaped, so put the quotes back.
    Template literals were never escaped, so `<url|label>` links written in a template survive.
    """
    return text.replace("&#34;", '"').replace("&#39;", "'")


def to_plain(text: str) -> str:
    """Undo autoescaping for plain-text outputs (email subject and text part, Apprise, console)."""
    return html.unescape(text)


def _mrkdwn(value: Any) -> Markup:
    """Filter: a value made safe for Slack mrkdwn (& < > escaped), marked so autoescape leaves it alone."""
    if isinstance(value, Markup):
        return Markup(from_html_escaped(str(value)))
    return Markup(slack_escape("" if value is None or isinstance(value, Undefined) else str(value)))


def _tojson(value: Any) -> Markup:
    """Filter: JSON for a value, safe to paste into a JSON document (Markup keeps its escaping)."""
    return Markup(json.dumps(value, ensure_ascii=False, default=str))


def _clip(value: Any, limit: int = 300) -> str:
    """Filter: cut text at `limit` characters, ending with an ellipsis."""
    text = "" if value is None or isinstance(value, Undefined) else str(value)
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _join_nonempty(values: Any, sep: str = " · ") -> str:
    """Filter: join the values that are not empty (as Markup when one of them is: its markup survives)."""
    kept = [v for v in values if v not in (None, "") and not isinstance(v, Undefined)]
    if any(isinstance(v, Markup) for v in kept):
        return Markup.escape(sep).join(Markup.escape(v) for v in kept)
    return sep.join(str(v) for v in kept)


class Env(ImmutableSandboxedEnvironment):
    """Immutable sandbox (templates cannot change the payload) with our filters; templates come from the user folder first, then the shipped defaults."""

    def __init__(self, templates_path: str | None) -> None:
        loaders = [FileSystemLoader(templates_path)] if templates_path and Path(templates_path).is_dir() else []
        super().__init__(loader=ChoiceLoader([*loaders, FileSystemLoader(str(DEFAULTS_DIR))]),
                         autoescape=True, trim_blocks=True, lstrip_blocks=True,
                         undefined=Undefined, auto_reload=False, cache_size=400)
        self.filters.update(mrkdwn=_mrkdwn, tojson=_tojson, clip=_clip, join_nonempty=_join_nonempty)

