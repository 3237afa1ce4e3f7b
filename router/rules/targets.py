"""`targets:` entries: validated per type into frozen Target objects.

Each type's options are read by a `TargetType`. Email, Apprise and console are read here; a channel package that
keeps its own options (Slack: router.channels.slack.options) offers its TargetType through the
`sentry_router.target_types` entry point (pyproject.toml), so the rules never import a channel.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from router.masking import mask_url, register_options
from router.rules.conditions import kind
from router.rules.model import TARGET_TYPES, Target
from router.rules.yamlio import LList, LMap, Path, Report

COMMON_KEYS = ("selectable", "label")   # every type: offered in Sentry's alert-rule editor, and as what
OptionsReader = Callable[[LMap, Path, Report], dict[str, Any]]


@dataclass(frozen=True)
class TargetType:
    """How one target type is read: its own keys (besides type, selectable, label) and the reader that checks its
    options, reports each problem and returns the options (reported or not)."""

    name: str
    keys: tuple[str, ...]
    read: OptionsReader

    @property
    def allowed(self) -> tuple[str, ...]:
        """Every key an entry of this type may have, in the order a hint lists them."""
        return ("type", *self.keys, *COMMON_KEYS)


ENTRY_POINTS = "sentry_router.target_types"   # where channel packages offer the TargetType of their options


@functools.cache
def _offered() -> dict[str, TargetType]:
    """The target types channel packages offer through ENTRY_POINTS (loaded once, when a rules file needs one)."""
    return {point.name: point.load() for point in entry_points(group=ENTRY_POINTS)}


def target_type(name: str) -> TargetType:
    """The reader of a type in TARGET_TYPES: one of ours, else the one a channel package offers."""
    found = BUILT_IN.get(name) or _offered().get(name)
    if found is None:   # an install whose metadata predates the entry point
        raise RuntimeError(f"target type {name!r} has no options reader: no {ENTRY_POINTS} entry point names it "
                           "(reinstall sentry-router: pip install -e .)")
    return found


def unknown_keys(mapping: LMap, allowed: tuple[str, ...], path: Path, report: Report) -> None:
    """Report every key of `mapping` not in `allowed`, with a did-you-mean when one is close."""
    import difflib

    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            report(mapping.key_lines[key], (*path, key), f"unknown key{hint} (expected one of {', '.join(allowed)})")


def strings(value: Any) -> list[str] | None:
    """One string or a non-empty list of strings, as a list; None if it is neither."""
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, LList) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    return None


def build_target(name: str, spec: Any, path: Path, line: int, report: Report) -> Target | None:
    """Validate one target; report every problem; None if it is unusable."""
    if not isinstance(spec, LMap):
        report(line, path, f"expected a mapping with type: and its options, got {kind(spec)}")
        return None
    type_ = spec.get("type")
    if type_ not in TARGET_TYPES:
        got = "missing" if "type" not in spec else f'unknown target type "{type_}"'
        report(spec.value_lines.get("type", spec.line), (*path, "type"),
               f"{got} (expected one of {', '.join(TARGET_TYPES)})")
        return None
    reader = target_type(type_)
    unknown_keys(spec, reader.allowed, path, report)
    options = reader.read(spec, path, report)
    selectable, label = spec.get("selectable", False), spec.get("label", name)
    if not isinstance(selectable, bool):
        report(spec.value_lines["selectable"], (*path, "selectable"), f"expected true or false, got {kind(selectable)}")
    if not isinstance(label, str) or not label.strip():
        report(spec.value_lines["label"], (*path, "label"), f"expected text shown in Sentry's alert-rule editor, "
                                                           f"got {kind(label)}")
    register_options(options)   # the log formatter masks them from now on, at every level
    return Target(name=name, type=type_, options=MappingProxyType(options), line=spec.line,
                  selectable=selectable is True, label=str(label or name))


def _one_or_more(spec: LMap, key: str, expected: str, path: Path, report: Report) -> tuple[int, list[str] | None]:
    """The line of `key` and its text or list of texts; None (reported as missing or wrong type) otherwise."""
    line = spec.value_lines.get(key, spec.line)
    values = strings(spec.get(key))
    if values is None:
        got = "missing" if key not in spec else f"got {kind(spec[key])}"
        report(line, (*path, key), f"{got} (expected {expected})")
    return line, values


def _email(spec: LMap, path: Path, report: Report) -> dict[str, Any]:
    line, addresses = _one_or_more(spec, "to", "an address or a list of addresses", path, report)
    if addresses is None:
        return {}
    for address in addresses:
        _, addr = parseaddr(address)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost", addr or ""):
            report(line, (*path, "to"), f'not an email address: "{address}" (expected name@example.com)')
    prefix = spec.get("subject_prefix", "")
    if not isinstance(prefix, str):
        report(spec.value_lines["subject_prefix"], (*path, "subject_prefix"), f"expected text, got {kind(prefix)}")
    return {"to": tuple(addresses), "subject_prefix": prefix}


def _apprise(spec: LMap, path: Path, report: Report) -> dict[str, Any]:
    line, urls = _one_or_more(spec, "url", "an Apprise URL or a list of them", path, report)
    if urls is None:
        return {}
    for url in urls:
        if not apprise_understands(url):
            report(line, (*path, "url"), f'Apprise does not understand "{mask_url(url)}" '
                                         "(expected a URL of a service Apprise supports, e.g. discord://ID/TOKEN)")
    return {"urls": tuple(urls)}


def apprise_understands(url: str) -> bool:
    """Whether Apprise can build a notifier from `url` (parses only; sends nothing)."""
    import apprise  # slow to import (~0.5 s): only when an apprise target exists

    logger = logging.getLogger("apprise")
    level = logger.level
    logger.setLevel(logging.CRITICAL)   # Apprise logs its own complaint; ours is the one users see
    try:
        return apprise.Apprise.instantiate(url) is not None
    except Exception:  # a plugin that crashes on a URL does not understand it
        return False
    finally:
        logger.setLevel(level)


BUILT_IN = {t.name: t for t in (TargetType("email", ("to", "subject_prefix"), _email),
                                TargetType("apprise", ("url",), _apprise),
                                TargetType("console", (), lambda spec, path, report: {}))}
