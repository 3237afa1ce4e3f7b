"""Renderer: pick a template, render its blocks in the sandbox, escape per channel, never fail a notification."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

from jinja2 import Template, TemplateSyntaxError

from router.masking import one_line
from router.metrics import TEMPLATE_ERRORS
from router.render import budget
from router.render.blocks import FALLBACK_MAX, clip, parse_blocks
from router.render.context import build_context, notification_info
from router.render.env import Env, from_html_escaped, rendering, slack_escape, to_plain
from router.render.issue_ref import IssueSource
from router.render.message import Message
from router.rules.model import Rule, Target
from router.sentry import SentryEvent, issue_link

log = logging.getLogger(__name__)

FORMS = ("slack", "email", "text")
FORM_BY_TARGET_TYPE = {"slack": "slack", "email": "email"}   # apprise, console and anything else: text
BLOCK_NAMES = ("title", "body", "html", "blocks")


def form_for(target_type: str) -> str:
    """The template form a target type uses: slack, email, or text."""
    return FORM_BY_TARGET_TYPE.get(target_type, "text")


def template_names(event: SentryEvent, rule: Rule | None) -> tuple[str, ...]:
    """Lookup order: the rule's `template`, then the resource name, then `default`."""
    names = [rule.template if rule and rule.template else None, event.resource, "default"]
    return tuple(dict.fromkeys(n for n in names if n))


def error_location(exc: BaseException, fallback: str = "?") -> tuple[str, int]:
    """The template file and line an exception came from (Jinja's compiled frames know it)."""
    if isinstance(exc, TemplateSyntaxError):
        return exc.filename or exc.name or fallback, exc.lineno or 0
    where: tuple[str, int] = (fallback, 0)
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        tmpl = tb.tb_frame.f_globals.get("__jinja_template__")
        if isinstance(tmpl, Template):
            where = (tmpl.filename or tmpl.name or fallback, tmpl.get_corresponding_lineno(tb.tb_lineno))
        tb = tb.tb_next
    return where


def _metric_failure(template: str) -> None:
    try:
        TEMPLATE_ERRORS.labels(template=template).inc()
    except Exception:  # metrics must never break a notification
        log.debug("could not count a template error", exc_info=True)


class Renderer:
    """Renders SentryEvents into channel Messages; build once, call `render` from any thread."""

    def __init__(self, templates_path: str | None = "templates", sentry_url: str | None = None,
                 issue_sources: Sequence[IssueSource] = (), *, timeout: float = budget.DEFAULT_SECONDS,
                 max_chars: int = budget.DEFAULT_CHARS) -> None:
        self.templates_path = templates_path
        self.sentry_url = sentry_url
        self.issue_sources = tuple(issue_sources)  # where a comment's or Seer run's issue is looked up (issue_ref.py)
        self.timeout, self.max_chars = timeout, max_chars   # the render budget (budget.py)
        self.env = Env(templates_path)
        self._chosen: dict[tuple[tuple[str, ...], str], str] = {}
        self._lock = threading.Lock()

    def choose(self, names: tuple[str, ...], form: str) -> str:
        """The first name with a file in `form`, or failing that in `text` (`issue.slack.j2`, `issue.text.j2`, …)."""
        key = (names, form)
        found = self._chosen.get(key)
        if found is None:
            candidates = [f"{n}.{f}.j2" for n in names for f in dict.fromkeys((form, "text"))]
            found = self.env.select_template(candidates).name or candidates[-1]
            with self._lock:
                self._chosen[key] = found
        return found

    def render(self, event: SentryEvent, target: Target, rule: Rule | None = None, *,
               notification: Mapping[str, Any] | None = None) -> Message:
        """One Message for `target`; a failing template falls back to `default`, then to plain text."""
        form = form_for(target.type)
        try:
            ctx = build_context(event, target, rule, notification, self.sentry_url, self.issue_sources)
        except Exception:
            log.exception("building the template context failed for %s", one_line(event.dedup_key))
            return minimal_message(event, form, self.sentry_url, notification)
        failed: set[str] = set()
        for attempt in (template_names(event, rule), ("default",)):
            name = "?"
            try:
                name = self.choose(attempt, form)
                if name in failed:  # the fallback is the file that just failed: don't render (and count) it twice
                    break
                return self.render_file(name, form, ctx)
            except Exception as exc:
                failed.add(name)
                file, line = error_location(exc, name)
                log.warning("template %s:%s failed for %s (%s), falling back: %s: %s", file, line,
                            one_line(event.dedup_key), form, type(exc).__name__, exc)
                _metric_failure(name)
        return minimal_message(event, form, self.sentry_url, notification)

    @classmethod
    def from_settings(cls, settings: Any, issue_sources: Sequence[IssueSource] = ()) -> Renderer:
        """A renderer for ROUTER_TEMPLATES and SENTRY_URL, under ROUTER_RENDER_TIMEOUT / ROUTER_RENDER_MAX_CHARS."""
        return cls(settings.templates_path, settings.sentry_url, issue_sources, timeout=settings.render_timeout,
                   max_chars=settings.render_max_chars)

    def render_file(self, name: str, form: str, ctx: Mapping[str, Any]) -> Message:
        """Render one template file in `form` within the render budget; raises on any template or output error
        (RenderBudgetExceeded for a template that runs too long or produces too much)."""
        with budget.limits(self.timeout, self.max_chars), rendering(form):
            tmpl = self.env.get_template(name)
            parts = render_parts(tmpl, ctx, self.max_chars)
        return assemble(parts, form, name, ctx)


class _Chain(list[Any]):
    """A block's override chain whose first entry records what it renders (`index` still sees the real functions)."""

    def __init__(self, name: str, funcs: list[Any], captured: dict[str, str]) -> None:
        super().__init__(funcs)
        self.name, self.captured = name, captured

    def __getitem__(self, index: Any) -> Any:
        func = super().__getitem__(index)
        if index != 0 or self.name in self.captured:
            return func
        name, captured = self.name, self.captured

        def recording(context: Any) -> Iterator[str]:
            chunks = list(func(context))
            captured.setdefault(name, "".join(chunks))
            yield from chunks
        return recording


class _Blocks(dict[str, Any]):
    """Context.blocks that hands out recording chains, so one pass of the template yields every block's text."""

    def __init__(self, blocks: dict[str, list[Any]], captured: dict[str, str]) -> None:
        super().__init__(blocks)
        self.captured = captured

    def __getitem__(self, name: str) -> Any:
        return _Chain(name, super().__getitem__(name), self.captured)


def render_parts(tmpl: Template, ctx: Mapping[str, Any],
                 max_chars: int = budget.DEFAULT_CHARS) -> dict[str, str]:
    """The rendered text of each named block (inherited blocks included), in one pass where possible; never
    more than `max_chars` characters in all."""
    jctx = tmpl.new_context(dict(ctx))
    captured: dict[str, str] = {}
    jctx.blocks = _Blocks(jctx.blocks, captured)
    for _ in tmpl.root_render_func(jctx):   # runs `extends` (registering the parent's blocks) and the layout
        pass
    for name in BLOCK_NAMES:                 # blocks the layout did not show are rendered on their own
        if name not in captured and dict.get(jctx.blocks, name):
            captured[name] = "".join(dict.__getitem__(jctx.blocks, name)[0](jctx))
    parts = {name: captured[name] for name in BLOCK_NAMES if name in captured}
    if sum(map(len, parts.values())) > max_chars:
        raise budget.RenderBudgetExceeded(f"template rendered more than {max_chars} characters "
                                          "(ROUTER_RENDER_MAX_CHARS)")
    return parts


def assemble(parts: Mapping[str, str], form: str, name: str, ctx: Mapping[str, Any]) -> Message:
    """Turn rendered blocks into a Message, escaped for its channel."""
    meta = {"kind": ctx["notification"]["kind"], "headline": ctx["headline"], "form": form}
    if form == "slack":
        title = from_html_escaped(parts.get("title", "")).strip()
        text = clip(from_html_escaped(parts.get("body", "")).strip() or title, FALLBACK_MAX)
        blocks = parse_blocks(parts.get("blocks", ""))
        return Message("slack", title, text, blocks=tuple(blocks) if blocks else None, color=ctx["color"],
                       template=name, meta=meta)
    title = " ".join(to_plain(parts.get("title", "")).split())  # one line: it may become an email subject
    text = to_plain(parts.get("body", "")).strip()
    html = parts.get("html", "").strip() if form == "email" else ""
    return Message(form, title, text, html=html or None, color=ctx["color"], template=name, meta=meta)


def minimal_message(event: SentryEvent, form: str, sentry_url: str | None,
                    notification: Mapping[str, Any] | None = None) -> Message:
    """The last resort when even `default` fails: a plain message built in Python."""
    try:
        what = f"Sentry {event.resource} {event.action}"
        title = str(event.shortcuts.get("title") or what)
        link = issue_link(event, sentry_url) or ""
    except Exception:  # never raise from here
        what, title, link = "Sentry notification", "Sentry notification", ""
    text = "\n".join(x for x in (title, link) if x)
    if form == "slack":
        text = slack_escape(text)
    meta = {"kind": notification_info(notification)["kind"], "headline": what, "form": form}
    return Message(form, what, text, template="(built-in)", meta=meta)
