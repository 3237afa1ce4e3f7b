"""Condition operators: value normalisation and predicate factories, each built once at load.

A predicate takes the actual value (possibly `MISSING`) and returns bool. A path that does not
exist satisfies nothing except `exists: false` and a `not` whose inner condition fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from router.rules.patterns import Matcher
from router.rules.yamlio import YFloat, YInt
from router.sentry import LEVELS, MISSING

Predicate = Callable[[Any], bool]

OPERATORS = ("eq", "in", "not", "regex", "glob", "contains", "exists", "gt", "gte", "lt", "lte")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
# What a payload controls in matching is bounded: the text a regex, glob or contains sees (Sentry itself cuts
# messages at 8,192 characters) and the list items contains looks at. Depth is bounded when parsing.
MAX_TEXT = 8192
MAX_ITEMS = 1000
_ORDERING: dict[str, Callable[[float, float], bool]] = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
                                                      "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}


def is_scalar(value: Any) -> bool:
    """True for the values a condition compares: text, numbers, booleans, null."""
    return value is None or isinstance(value, (str, int, float, bool))


def text(value: Any) -> str | None:
    """The text form used for equality: ids compare as strings (`123` == "123"); null has none."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (YInt, YFloat)):
        return value.raw
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: Any) -> float | None:
    """A number from a number or a numeric string (`"3"`), else None; booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
        return None if math.isnan(result) else result
    return None


def equals(expected: Any) -> Predicate:
    """Equal as numbers when both are numbers, otherwise equal as text; null equals only null."""
    want_text, want_num = text(expected), number(expected) if not isinstance(expected, str) else None

    def pred(actual: Any) -> bool:
        if actual is MISSING or not is_scalar(actual):
            return False
        if want_num is not None and isinstance(actual, (int, float)) and not isinstance(actual, bool):
            return float(actual) == want_num
        return text(actual) == want_text
    return pred


def any_of(preds: list[Predicate]) -> Predicate:
    """Holds when any of the predicates holds (a list value)."""
    items = tuple(preds)
    return lambda actual: any(p(actual) for p in items)


def all_of(preds: list[Predicate]) -> Predicate:
    """Holds when every predicate holds (an operator mapping)."""
    items = tuple(preds)
    return lambda actual: all(p(actual) for p in items)


def negate(pred: Predicate) -> Predicate:
    """The `not` operator."""
    return lambda actual: not pred(actual)


def regex(matches: Matcher) -> Predicate:
    """Full match of the value's text (numbers as written; only the first MAX_TEXT characters are seen)."""
    def pred(actual: Any) -> bool:
        return actual is not MISSING and actual is not None and is_scalar(actual) \
            and matches((text(actual) or "")[:MAX_TEXT])
    return pred


def contains(expected: Any) -> Predicate:
    """Substring of text, an equal item of a list, or a key of a mapping (`tags: {contains: os}`)."""
    item_eq, want = equals(expected), text(expected) or ""

    def pred(actual: Any) -> bool:
        if isinstance(actual, str):
            return want in actual[:MAX_TEXT]
        if isinstance(actual, (list, tuple)):
            return any(item_eq(item) for item in actual[:MAX_ITEMS])
        if isinstance(actual, Mapping):
            return want in actual
        return False
    return pred


def exists(flag: bool) -> Predicate:
    """`exists: true` holds when the path is there and not null; `exists: false` the opposite."""
    return lambda actual: (actual is not MISSING and actual is not None) is flag


def ordering(op: str, bound: float, level: bool) -> Predicate:
    """gt/gte/lt/lte on numbers (and numeric strings), or on levels debug < … < fatal."""
    compare = _ORDERING[op]

    def pred(actual: Any) -> bool:
        rank = (LEVEL_RANK.get(actual) if isinstance(actual, str) else None) if level else number(actual)
        return rank is not None and compare(rank, bound)
    return pred
