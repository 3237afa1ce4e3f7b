"""`check` for templates: render every template, in its form, against every bundled Sentry sample."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jinja2 import TemplateNotFound

from router.render.context import build_context
from router.render.env import DEFAULTS_DIR
from router.render.renderer import FORMS, Renderer, error_location
from router.rules.model import Rule, Target
from router.sentry import build

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"
TARGET_FOR_FORM = {"slack": "slack", "email": "email", "text": "console"}
SLOW_FILE = 5   # render budgets one template file may use in all, over every sample, before check calls it slow
KINDS = ({"kind": "card"}, {"kind": "reply", "suppressed": 3}, {"kind": "update", "status": "Resolved"},
         {"kind": "card", "count": 3, "group": "project=api", "digest": [   # what a digest (pacing, `group`) lists
             {"title": "ZeroDivisionError", "link": "https://sentry.example.com/issues/1/", "what": "New issue",
              "emoji": "🔴", "count": 2},
             {"title": "KeyError", "link": "", "what": "Error", "emoji": "🟠", "count": 1}]})


def samples() -> Iterator[tuple[str, Any]]:
    """(name, SentryEvent) for every bundled sample payload, `issue.created` style names."""
    for path in sorted(SAMPLES_DIR.glob("*.json")):
        name = path.name[: -len(".json")]
        yield name, build(name.split(".")[0], json.loads(path.read_text("utf-8")))


def _shown(path: str) -> str:
    """A path as a user wants to read it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    except ValueError:
        return path


def template_files(templates_path: str | None) -> dict[str, str]:
    """Every template file name → the path that wins (the user folder overrides shipped defaults)."""
    found = {p.name: str(p) for p in DEFAULTS_DIR.glob("*.j2")}
    if templates_path and Path(templates_path).is_dir():
        found.update({p.name: str(p) for p in Path(templates_path).glob("*.j2")})
    return dict(sorted(found.items()))


def _check_file(renderer: Renderer, name: str, path: str, events: list[tuple[str, Any]]) -> list[str]:
    parts = name.split(".")
    if len(parts) != 3 or parts[1] not in FORMS:
        return [f"{_shown(path)}:0: not named NAME.FORM.j2 with FORM one of {', '.join(FORMS)} "
                "(files starting with _ are partials)"]
    form = parts[1]
    target = Target(name=f"check-{form}", type=TARGET_FOR_FORM[form], options={})
    rule = Rule(name="check", match=None, description="sentry-router check")
    spent = 0.0
    for sample, event in events:
        for notification in KINDS:
            started = time.monotonic()
            try:
                ctx = _context(renderer, event, target, rule, notification)
                message = renderer.render_file(name, form, ctx)
                if not message.title and not message.text:
                    raise ValueError("rendered an empty title and body")
            except Exception as exc:
                file, line = error_location(exc, path)
                return [f"{_shown(file)}:{line}: sample {sample}: {type(exc).__name__}: {exc}"]
            spent += time.monotonic() - started
            if spent > SLOW_FILE * renderer.timeout:   # `check` stays quick even for a template just under budget
                return [f"{_shown(path)}:0: sample {sample}: too slow: its renders so far took {spent:.1f}s, more "
                        f"than {SLOW_FILE} render budgets (ROUTER_RENDER_TIMEOUT={renderer.timeout:g}s)"]
    return []


def _context(renderer: Renderer, event: Any, target: Target, rule: Rule,
             notification: dict[str, Any]) -> dict[str, Any]:
    return build_context(event, target, rule, notification, renderer.sentry_url or "https://sentry.example.com")


def check_templates(templates_path: str | None, sentry_url: str | None = None, ruleset: Any = None,
                    renderer: Renderer | None = None) -> list[str]:
    """Problems with the templates as `FILE:LINE: sample X: message` lines; empty when all render (each within
    the render budget of `renderer`, default Renderer(templates_path, sentry_url))."""
    renderer = renderer or Renderer(templates_path, sentry_url)
    events = list(samples())
    errors: list[str] = []
    for name, path in template_files(templates_path).items():
        try:
            renderer.env.get_template(name)   # syntax errors, for partials too
        except Exception as exc:
            file, line = error_location(exc, path)
            errors.append(f"{_shown(file)}:{line}: {type(exc).__name__}: {exc}")
            continue
        if not name.startswith("_"):
            errors.extend(_check_file(renderer, name, path, events))
    errors.extend(_check_rule_templates(renderer, ruleset))
    return errors


def _check_rule_templates(renderer: Renderer, ruleset: Any) -> list[str]:
    """A rule's `template:` must name templates that exist (in some form)."""
    errors: list[str] = []
    for rule in getattr(ruleset, "rules", ()) or ():
        if not rule.template:
            continue
        try:
            renderer.env.select_template([f"{rule.template}.{form}.j2" for form in FORMS])
        except TemplateNotFound:
            where = f"{getattr(ruleset, 'source', '') or 'rules'}:{rule.line}"
            errors.append(f"{where}: rule \"{rule.name}\": template \"{rule.template}\" not found "
                          f"(expected {rule.template}.slack.j2, .email.j2 or .text.j2 in the templates folder)")
    return errors
