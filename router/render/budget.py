"""The render budget: a template stops, with RenderBudgetExceeded, once it runs too long or produces too much.

Python threads cannot be killed, so the template checks on itself. The sandbox (env.py) calls in here at every
loop iteration, function/macro call, filter, `{{ output }}`, `~` join and the operators that can grow a value
(`+ * ** %`). Each check looks at the clock and the characters produced; every operation that could make one
huge value (`"x" * n`, `center(n)`, `replace`, `indent`, `join`, format widths, big powers) is sized *before* it
runs, so no single step between two checks can run on for long or allocate much.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

DEFAULT_SECONDS = 2.0
DEFAULT_CHARS = 2_000_000
MAX_POWER_BITS = 65_536       # `**` on integers: a result of at most this many bits
_WIDTHS = re.compile(r"\d+")  # every number in a format string may be a width or precision


class RenderBudgetExceeded(RuntimeError):
    """A template ran longer or produced more than ROUTER_RENDER_TIMEOUT / ROUTER_RENDER_MAX_CHARS allow."""


class Budget:
    """The time and characters one render may still use."""

    __slots__ = ("deadline", "left", "seconds", "max_chars")

    def __init__(self, seconds: float, max_chars: int) -> None:
        self.seconds, self.max_chars = seconds, max_chars
        self.deadline = time.monotonic() + seconds
        self.left = max_chars

    def tick(self) -> None:
        """Raise once the time is up."""
        if time.monotonic() > self.deadline:
            raise RenderBudgetExceeded(f"template ran longer than {self.seconds:g}s (ROUTER_RENDER_TIMEOUT)")

    def spend(self, chars: int) -> None:
        """Count `chars` produced; raise once over the character budget."""
        self.left -= chars
        if self.left < 0:
            raise RenderBudgetExceeded(f"template produced more than {self.max_chars} characters "
                                       "(ROUTER_RENDER_MAX_CHARS)")

    def allow(self, size: int, what: str) -> None:
        """Refuse, before it runs, an operation that would make a value of `size` characters or items."""
        if size > self.left:
            raise RenderBudgetExceeded(f"{what} would make about {size} characters or items, more than the "
                                       f"{max(self.left, 0)} left of ROUTER_RENDER_MAX_CHARS ({self.max_chars})")
        self.tick()


class _Idle(Budget):
    """Outside a render (compile-time constant folding, a template rendered directly): size limits only."""

    __slots__ = ()

    def tick(self) -> None:
        """No clock outside a render."""

    def spend(self, chars: int) -> None:
        """Nothing is counted outside a render."""


class _Local(threading.local):
    budget: Budget | None = None


_local = _Local()
_IDLE = _Idle(float("inf"), DEFAULT_CHARS)
SMALL = 4096   # values this short are never over any character budget worth setting: not looked at further


def current() -> Budget:
    """The budget of the render running on this thread (size limits only when none is)."""
    return _local.budget or _IDLE


@contextmanager
def limits(seconds: float = DEFAULT_SECONDS, max_chars: int = DEFAULT_CHARS) -> Iterator[Budget]:
    """Run a render under a fresh budget on this thread."""
    outer = _local.budget
    _local.budget = budget = Budget(seconds, max_chars)
    try:
        yield budget
    finally:
        _local.budget = outer


# -- hooks the sandbox calls ---------------------------------------------------------------------------------
def loop(iterable: Iterable[Any], literal_chars: int) -> Iterator[Any]:
    """A `{% for %}` loop's items, each charged the template text its body writes, and the clock checked."""
    budget = current()
    for item in iterable:
        budget.spend(literal_chars)
        budget.tick()
        yield item


def finalize(value: Any) -> Any:
    """Every `{{ expression }}` output: charge its length (inlined: it runs for every output of every render)."""
    budget = _local.budget
    if budget is not None:
        budget.left -= len(value) if isinstance(value, str) else 1
        if budget.left < 0:
            budget.spend(0)   # raises
    return value


def checked(value: Any) -> Any:
    """A value just made (a join, a call's result): refuse it if it alone is over the character budget."""
    if isinstance(value, (str, list, tuple)) and len(value) > SMALL and len(value) > current().max_chars:
        raise RenderBudgetExceeded(f"a value of {len(value)} characters or items is more than "
                                   f"ROUTER_RENDER_MAX_CHARS ({current().max_chars})")
    return value


def binop(op: str, left: Any, right: Any) -> None:
    """Size `+ * ** %` before Python runs them."""
    budget = current()
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                budget.allow(len(seq) * max(n, 0), "`*`")
    elif op == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        budget.allow(len(left) + len(right), "`+`")
    elif op == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
        if max(abs(left).bit_length(), 1) * right > MAX_POWER_BITS and abs(left) > 1:
            raise RenderBudgetExceeded(f"`**` would make a number of more than {MAX_POWER_BITS} bits")
    elif op == "%" and isinstance(left, str):
        budget.allow(_format_size(left, right if isinstance(right, tuple) else (right,), {}), "`%`")
    else:
        budget.tick()


# -- sizing calls that can make big values -------------------------------------------------------------------
def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], i: int, name: str, default: Any = None) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple, dict)) else len(str(value))


def _format_size(fmt: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    widths = sum(int(n) for n in _WIDTHS.findall(fmt) if len(n) < 12) if any(c.isdigit() for c in fmt) else 0
    big = any(len(n) >= 12 for n in _WIDTHS.findall(fmt))
    return (10 ** 12 if big else 0) + len(fmt) + widths + sum(_size(v) for v in (*args, *kwargs.values()))


def _width(s: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    width = _arg(args, kwargs, 0, "width", 80)
    return len(s) + (width if isinstance(width, int) else 0)


def _replace(s: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    old, new = str(_arg(args, kwargs, 0, "old", "")), str(_arg(args, kwargs, 1, "new", ""))
    count = _arg(args, kwargs, 2, "count", None)
    hits = len(s) + 1 if not old else s.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * max(len(new) - len(old), 0)


def _indent(s: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    width = _arg(args, kwargs, 0, "width", 4)
    return len(s) + (s.count("\n") + 1) * (width if isinstance(width, int) else len(str(width)))


def _join(sep: str, items: Any) -> int:
    return len(sep) * len(items) if hasattr(items, "__len__") else 0


def _wordwrap(s: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    width, wrap = _arg(args, kwargs, 0, "width", 79), _arg(args, kwargs, 2, "wrapstring", "\n")
    return len(s) + (len(s) // max(width if isinstance(width, int) else 1, 1) + 1) * len(str(wrap or "\n"))


def _translate(s: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    table = _arg(args, kwargs, 0, "table", {})
    if not isinstance(table, Mapping):
        return len(s)
    longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
    return len(s) * longest


def _expandtabs(s: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    size = _arg(args, kwargs, 0, "tabsize", 8)
    return len(s) + s.count("\t") * (size if isinstance(size, int) else 8)


# methods of str (and the filters of the same name) whose result can be far bigger than their inputs
STR_SIZERS: dict[str, Callable[[str, tuple[Any, ...], Mapping[str, Any]], int]] = {
    "center": _width, "ljust": _width, "rjust": _width, "zfill": _width, "expandtabs": _expandtabs,
    "replace": _replace, "translate": _translate,
    "join": lambda s, a, k: _join(s, _arg(a, k, 0, "iterable", ())),
    "format": lambda s, a, k: _format_size(s, a, k),
    "format_map": lambda s, a, k: _format_size(s, (), _arg(a, k, 0, "mapping", {}) or {}),
}
FILTER_SIZERS: dict[str, Callable[[Any, tuple[Any, ...], Mapping[str, Any]], int]] = {
    "center": lambda v, a, k: _width(str(v), a, k), "replace": lambda v, a, k: _replace(str(v), a, k),
    "indent": lambda v, a, k: _indent(str(v), a, k), "wordwrap": lambda v, a, k: _wordwrap(str(v), a, k),
    "format": lambda v, a, k: _format_size(str(v), a, k),
    "join": lambda v, a, k: _join(str(_arg(a, k, 0, "d", "")), v),
    "batch": lambda v, a, k: _arg(a, k, 0, "linecount", 0) if isinstance(_arg(a, k, 0, "linecount", 0), int) else 0,
}


def _listed(items: Any) -> Any:
    """A lazy iterable (`map`, `select`) as a list, so `join` can be sized before it runs."""
    return items if hasattr(items, "__len__") or isinstance(items, (str, Mapping)) else list(items)


def before_call(func: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Size a call to a str method that can grow its result (the args, a lazy `join` input listed); check
    the clock for any call."""
    name = getattr(func, "__name__", "")
    sizer = STR_SIZERS.get(name)
    if sizer is None:   # macros, functions, most methods: only the clock
        current().tick()
        return args
    owner = getattr(getattr(func, "__wrapped__", func), "__self__", None)
    if not isinstance(owner, str):
        current().tick()
        return args
    if name == "join" and args:
        args = (_listed(args[0]), *args[1:])
    current().allow(sizer(owner, args, kwargs), f"str.{name}")
    return args


def before_filter(name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """Size a call of one of FILTER_SIZERS (the value, a lazy `join` input listed); check the clock."""
    sizer = FILTER_SIZERS[name]
    if name == "join":
        value = _listed(value)
    current().allow(sizer(value, args, kwargs), f"filter {name}")
    return value
