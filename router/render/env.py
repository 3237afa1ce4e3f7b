"""The Jinja sandbox: loaders (user folder over shipped defaults), filters and per-channel escaping."""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, Undefined, nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

from router.render import budget

DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "default_templates"


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn gives meaning to: & < >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack mrkdwn has no escape for its formatting characters; a date whose format is invalid is shown as its
# fallback text, as written and unformatted (the technique jsx-slack's <Escape> uses). `_` inside a word
# (snake_case) formats nothing and is left alone.
_FORMATTING = re.compile(r"[*~`]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def slack_marks(text: str) -> str:
    """`*`, `~`, backticks and word-edge `_` of payload text made literal in Slack mrkdwn."""
    return _FORMATTING.sub(lambda m: "<!date^00000000^{_}|" + m.group() + ">", text) if _MARKS(text) else text


def _MARKS(text: str) -> bool:  # the cheap test before the regex
    return "*" in text or "_" in text or "~" in text or "`" in text


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
    return Markup(slack_marks(slack_escape("" if value is None or isinstance(value, Undefined) else str(value))))


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


def _budgeted(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that is sized and clocked by the render budget (wraps keeps Jinja's pass_context marks)."""
    skip = 1 if _PassArg.from_obj(func) else 0   # the context/environment Jinja passes first

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if len(args) > skip:
            args = (*args[:skip], budget.before_filter(name, args[skip], args[skip + 1:], kwargs), *args[skip + 1:])
        return budget.checked(func(*args, **kwargs))
    return run


class _Clocked(NodeTransformer):
    """Compile every `for` loop to charge the budget per item, and every `~` join to be size-checked."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def _call(self, name: str, args: list[nodes.Node], lineno: int) -> nodes.Call:
        call = nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None)
        call.set_lineno(lineno).set_environment(self.env)  # each returns the node itself, typed as a plain Node
        return call

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        literal = sum(len(d.data) for stmt in node.body for d in stmt.find_all(nodes.TemplateData))
        node.iter = self._call("budget_loop", [node.iter, nodes.Const(literal)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return self._call("budget_checked", [node], node.lineno)


class _Form(threading.local):
    slack = False


_form = _Form()


@contextmanager
def rendering(form: str) -> Iterator[None]:
    """Render for `form` on this thread: in `slack`, every `{{ value }}` of payload text has its mrkdwn
    formatting characters made literal (slack_marks), so it stays inside the template's own formatting."""
    outer, _form.slack = _form.slack, form == "slack"
    try:
        yield
    finally:
        _form.slack = outer


def _finalize(value: Any) -> Any:
    """Every `{{ expression }}` output: charged to the render budget; plain text made literal for Slack."""
    budget.finalize(value)
    if _form.slack and isinstance(value, str) and not isinstance(value, Markup):
        return Markup(slack_marks(str(escape(value))))
    return value


class Env(ImmutableSandboxedEnvironment):
    """Immutable sandbox (templates cannot change the payload) with our filters, under the render budget
    (budget.py); templates come from the user folder first, then the shipped defaults."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})   # the operators that can grow a value

    def __init__(self, templates_path: str | None) -> None:
        loaders = [FileSystemLoader(templates_path)] if templates_path and Path(templates_path).is_dir() else []
        super().__init__(loader=ChoiceLoader([*loaders, FileSystemLoader(str(DEFAULTS_DIR))]),
                         autoescape=True, trim_blocks=True, lstrip_blocks=True, finalize=_finalize,
                         undefined=Undefined, auto_reload=False, cache_size=400)
        self.filters.update(mrkdwn=_mrkdwn, tojson=_tojson, clip=_clip, join_nonempty=_join_nonempty)
        # the filters that can make a value far bigger than their input are sized first; the rest are bounded
        # by their input, and the loops and calls around them check the clock
        self.filters.update({name: _budgeted(name, self.filters[name]) for name in budget.FILTER_SIZERS})
        self.globals.pop("lipsum", None)   # lipsum(n) is one call the budget could not interrupt
        self.budget_loop, self.budget_checked = budget.loop, budget.checked

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        return super()._generate(_Clocked(self).visit(source), name, filename, defer_init)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Every call from a template (functions, macros, methods): sized and clocked first."""
        if getattr(obj, "__name__", None) in budget.STR_SIZERS:
            args = budget.before_call(obj, args, kwargs)
        else:   # macros and functions: only the clock
            budget.current().tick()
        return budget.checked(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`+ * ** %`: sized before Python runs them."""
        budget.binop(operator, left, right)
        return budget.checked(super().call_binop(context, operator, left, right))

