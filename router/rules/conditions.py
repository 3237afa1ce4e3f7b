"""`match:` blocks: validated and compiled once into immutable condition trees.

A tree node answers `holds(event)` (fast path) and `explain(event)` (why: every condition,
its expected value, the actual value and whether it held).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from router.rules import operators as ops
from router.rules.patterns import PatternError, compile_glob, compile_regex
from router.rules.yamlio import LList, LMap, Path, Report
from router.sentry import LEVELS, MISSING, SentryEvent
from router.sentry.paths import getter
from router.sentry.shortcuts import NAMES

SHORTCUTS = NAMES
ENVELOPE = ("resource", "action", "actor", "installation", "data", "settings")
_NESTED = ("actor", "installation", "data", "tags", "settings")   # heads that take a `.sub.path`
COMBINATORS = ("any", "all", "not")


@dataclass(frozen=True)
class CondResult:
    """One explained condition: what was checked, against what, and whether it held."""

    label: str            # "level gte error", "any of", …
    held: bool
    actual: str = ""      # the value found, as shown to people ("missing" if the path is absent)
    children: tuple[CondResult, ...] = ()


@dataclass(frozen=True)
class Check:
    """One operator on one path, compiled."""

    path: str
    op: str
    expected: Any
    test: Callable[[Any], bool]
    get: Callable[[SentryEvent], Any]

    def holds(self, event: SentryEvent) -> bool:
        """Whether the condition holds for the event."""
        return self.test(self.get(event))

    def explain(self, event: SentryEvent) -> CondResult:
        """The condition's result, with the actual value."""
        actual = self.get(event)
        return CondResult(f"{self.path} {self.op} {show(self.expected)}", self.test(actual), show_actual(actual))


@dataclass(frozen=True)
class Group:
    """`all` (every child holds), `any` (some child holds) or `not` (its one child fails)."""

    kind: str
    children: tuple[Any, ...]

    def holds(self, event: SentryEvent) -> bool:
        """Whether the combination holds for the event."""
        if self.kind == "all":
            return all(c.holds(event) for c in self.children)
        if self.kind == "any":
            return any(c.holds(event) for c in self.children)
        return not all(c.holds(event) for c in self.children)

    def explain(self, event: SentryEvent) -> CondResult:
        """The combination's result with every child's (no short-circuit: show everything)."""
        kids = tuple(c.explain(event) for c in self.children)
        helds = [k.held for k in kids]
        held = all(helds) if self.kind == "all" else any(helds) if self.kind == "any" else not all(helds)
        return CondResult({"all": "all of", "any": "any of", "not": "not"}[self.kind], held, "", kids)


def show(value: Any) -> str:
    """A compact, JSON-like rendering of a value for explanations."""
    return json.dumps(value, default=str, ensure_ascii=False)


def show_actual(value: Any) -> str:
    """The actual value as shown in explanations; long values are cut."""
    rendered = "missing" if value is MISSING else show(value)
    return rendered if len(rendered) <= 120 else rendered[:117] + "..."


class Compiler:
    """Validates and compiles `match:` blocks, reporting every problem through `report`."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def block(self, value: Any, path: Path, line: int) -> Group | None:
        """Compile a mapping of conditions (all must hold); None if it is not a mapping."""
        if not isinstance(value, LMap):
            self.report(line, path, f"expected a mapping of conditions, got {kind(value)} ({{}} matches everything)")
            return None
        nodes = [self.entry(str(key), item, path, value) for key, item in value.items()]
        return Group("all", tuple(n for n in nodes if n is not None))

    def entry(self, key: str, item: Any, path: Path, parent: LMap) -> Any:
        """One `key: value` of a block: a combinator or a path condition."""
        kline, vline = parent.key_lines.get(key, parent.line), parent.value_lines.get(key, parent.line)
        if key in ("any", "all"):
            if not isinstance(item, LList) or not item:
                self.report(vline, (*path, key), f"expected a non-empty list of condition mappings, got {kind(item)}")
                return None
            kids = [self.block(sub, (*path, key, i), item.item_lines[i]) for i, sub in enumerate(item)]
            return Group(key, tuple(_single(k) for k in kids if k is not None))
        if key == "not":
            inner = self.block(item, (*path, key), vline)
            return Group("not", (_single(inner),)) if inner is not None else None
        if not self.valid_path(key, (*path, key), kline):
            return None
        checks = self.value(key, item, (*path, key), vline)
        return Group("all", tuple(checks)) if len(checks) != 1 else checks[0]

    def valid_path(self, key: str, path: Path, line: int) -> bool:
        """Whether `key` names something a webhook can have; report it if not."""
        head, dot, rest = key.partition(".")
        parts = rest.split(".") if dot else []
        if head in ("resource", "action") + SHORTCUTS and head not in _NESTED and dot:
            self.report(line, path, f'"{head}" has no fields (write just "{head}")')
        elif head in _NESTED and dot and (not rest or "" in parts) and head != "tags":
            self.report(line, path, "empty part in dotted path")
        elif head == "settings" and (not dot or len(parts) != 1):
            self.report(line, path, 'expected settings.<name>: one alert-rule action setting, like settings.target')
        elif head not in ENVELOPE + SHORTCUTS:
            self.report(line, path, "unknown field (expected resource, action, actor.*, installation.*, data.*, "
                                    f"settings.*, or a shortcut: {', '.join(SHORTCUTS)})")
        else:
            return True
        return False

    def value(self, field: str, item: Any, path: Path, line: int) -> list[Check]:
        """Compile a condition value: a scalar, a list (any of) or an operator mapping."""
        get = getter(field)
        if isinstance(item, LMap):
            if not item:
                self.report(line, path, f"empty operator mapping (expected one of {', '.join(ops.OPERATORS)})")
                return []
            checks = []
            for op, arg in item.items():
                if op not in ops.OPERATORS:
                    self.report(item.key_lines[op], path,
                                f'unknown operator "{op}" (expected one of {", ".join(ops.OPERATORS)})')
                    continue
                pred = self.operator(field, str(op), arg, (*path, op), item.value_lines[op])
                if pred is not None:
                    checks.append(Check(field, str(op), plain(arg), pred, get))
            return checks
        pred = self.equality(field, item, path, line)
        return [Check(field, "in" if isinstance(item, LList) else "eq", plain(item), pred, get)] if pred else []

    def equality(self, field: str, item: Any, path: Path, line: int) -> ops.Predicate | None:
        """A scalar (equal) or a list of scalars (any of)."""
        values = list(item) if isinstance(item, LList) else [item]
        if isinstance(item, LList) and not item:
            self.report(line, path, "empty list (expected at least one value)")
            return None
        for value in values:
            if not ops.is_scalar(value):
                self.report(line, path, f"expected a value or a list of values, got {kind(value)}")
                return None
            if field == "level" and value not in LEVELS:
                self.report(line, path, f'unknown level {show(value)} (expected one of {", ".join(LEVELS)})')
                return None
        preds = [ops.equals(v) for v in values]
        return preds[0] if len(preds) == 1 else ops.any_of(preds)

    def operator(self, field: str, op: str, arg: Any, path: Path, line: int) -> ops.Predicate | None:
        """Compile one operator with its argument; report a wrong argument."""
        if op == "eq":
            if not isinstance(arg, LList):
                return self.equality(field, arg, path, line)
            self.report(line, path, "expected a single value (use in: for any of a list)")
            return None
        if op == "in":
            if isinstance(arg, LList):
                return self.equality(field, arg, path, line)
            self.report(line, path, f"expected a list of values, got {kind(arg)}")
            return None
        if op == "not":
            if isinstance(arg, LMap):
                inner = self.value(field, arg, path, line)
                return ops.negate(ops.all_of([c.test for c in inner])) if inner and len(inner) == len(arg) else None
            inner_pred = self.equality(field, arg, path, line)
            return ops.negate(inner_pred) if inner_pred else None
        if op == "exists":
            if isinstance(arg, bool):
                return ops.exists(arg)
            self.report(line, path, f"expected true or false, got {kind(arg)}")
            return None
        if op in ("regex", "glob", "contains"):
            return self.textual(op, arg, path, line)
        return self.ordered(field, op, arg, path, line)

    def textual(self, op: str, arg: Any, path: Path, line: int) -> ops.Predicate | None:
        """regex / glob / contains, each with one argument or a list (any of)."""
        args = list(arg) if isinstance(arg, LList) and arg else [arg]
        preds = []
        for one in args:
            if op == "contains":
                if not ops.is_scalar(one) or one is None:
                    self.report(line, path, f"expected a value, got {kind(one)}")
                    return None
                preds.append(ops.contains(one))
                continue
            if not isinstance(one, str):
                self.report(line, path, f"expected a {'regular expression' if op == 'regex' else 'glob pattern'} "
                                        f"as text, got {kind(one)}")
                return None
            try:
                preds.append(ops.regex(compile_regex(one) if op == "regex" else compile_glob(one)))
            except PatternError as exc:
                what = "regular expression" if op == "regex" else "glob pattern"
                self.report(line, path, f"bad {what} {show(one)}: {exc}")
                return None
        return preds[0] if len(preds) == 1 else ops.any_of(preds)

    def ordered(self, field: str, op: str, arg: Any, path: Path, line: int) -> ops.Predicate | None:
        """gt / gte / lt / lte: a number, or a level name on `level`."""
        if field == "level":
            if arg not in LEVELS:
                self.report(line, path, f'unknown level {show(plain(arg))} (expected one of {", ".join(LEVELS)})')
                return None
            return ops.ordering(op, ops.LEVEL_RANK[arg], level=True)
        bound = ops.number(arg) if not isinstance(arg, str) else None
        if bound is None:
            self.report(line, path, f"expected a number, got {show(plain(arg))} (only level compares names)")
            return None
        return ops.ordering(op, bound, level=False)


def _single(group: Group) -> Any:
    """A one-condition `all` is just that condition (simpler explanations)."""
    return group.children[0] if group.kind == "all" and len(group.children) == 1 else group


def kind(value: Any) -> str:
    """What a person wrote, for "got …": a short scalar as written, else a word for its type."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, LMap):
        return "a mapping"
    if isinstance(value, LList):
        return "a list"
    shown = show(plain(value))
    return shown if len(shown) <= 40 else "text"


def plain(value: Any) -> Any:
    """A YAML value as plain Python (for display): dicts, lists, str, int, float."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return int(value) if isinstance(value, int) else float(value)
