"""Rule `regex` and `glob` patterns compiled with RE2: matching time is linear in the text, whatever the pattern.

Python's `re` backtracks: `(x+x+)+y` takes seconds on a 28-character title. RE2 never does, and refuses
the few constructs that need backtracking (backreferences, lookaround); those are load errors that say
what to write instead.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from functools import lru_cache

import re2

Matcher = Callable[[str], bool]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False      # RE2 would print every refused pattern to stderr
_OPTIONS.never_capture = True    # rules only ask whether the whole value matches
_NOTHING = "[^\\x00-\\x{10FFFF}]"
SYNTAX = "https://github.com/google/re2/wiki/Syntax"

# (what RE2 says or what the pattern contains, why, what to write instead)
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\\[1-9]|\(\?P=|\\g<"),
     "backreferences (\\1, (?P=name)) need backtracking, which can take exponential time; "
     "match the repeated text explicitly or test it with a second condition"),
    (re.compile(r"\(\?<?[=!]"),
     "lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not supported; "
     "put the negative part in a `not: {regex: …}` condition beside this one"),
    (re.compile(r"\(\?>|[*+?}]\+"),
     "atomic groups and possessive repeats ((?>…), a*+) are not needed: RE2 never backtracks; drop the > or +"),
    (re.compile(r"\\Z"), "\\Z is not supported; write \\z, or nothing: the pattern must match the whole value"),
    (re.compile(r"\\[uUN]"), "\\u, \\U and \\N{…} are not supported; write the character itself or \\x{00e9}"),
)


class PatternError(ValueError):
    """A pattern RE2 cannot run; the message says why and what to write instead."""


def _why(pattern: str, detail: str) -> str:
    detail = detail.removesuffix(f": {pattern}")   # RE2 repeats the whole pattern; the rule line shows it
    if "repetition size" in detail:
        return f"{detail} (RE2 allows at most {{1000}} repetitions; use * or + instead of a large count)"
    if "too large" in detail or "out of memory" in detail:
        return f"{detail} (the pattern is too big for RE2's memory budget: split it into several conditions)"
    for found, hint in _HINTS:
        if found.search(pattern):
            return f"{detail}: {hint}"
    return f"{detail} (expected an RE2 regular expression, see {SYNTAX}; it must match the whole value)"


@lru_cache(maxsize=4096)
def compile_regex(pattern: str) -> Matcher:
    """A function telling whether a text matches `pattern` as a whole; raises PatternError if RE2 refuses it.

    Rules that repeat a pattern share one matcher, which remembers its last answer: the same title is
    then tested once per webhook, however many rules test it.
    """
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(_why(pattern, detail)) from None
    return _memo(_fullmatch(compiled))


def _fullmatch(compiled: re2._Regexp[str]) -> Matcher:
    """RE2's own Match on UTF-8 bytes: 6x cheaper per call than the wrapper's re-style fullmatch()."""
    raw, anchor = getattr(compiled, "_regexp", None), getattr(getattr(re2, "_re2", None), "RE2", None)
    if raw is None or anchor is None:   # a future wrapper without these internals: the public API
        return lambda value: compiled.fullmatch(value) is not None
    run, both = raw.Match, anchor.Anchor.ANCHOR_BOTH

    def fullmatch(value: str) -> bool:
        data = value.encode("utf-8", "surrogatepass")
        start: int = run(both, data, 0, len(data))[0][0]
        return start >= 0
    return fullmatch


def _memo(matches: Matcher) -> Matcher:
    last: list[tuple[str, bool]] = [("", matches(""))]

    def remembered(value: str) -> bool:
        seen, answer = last[0]
        if value is seen or value == seen:
            return answer
        answer = matches(value)
        last[0] = (value, answer)    # one tuple store: threads see either the old pair or the new one
        return answer
    return remembered


def glob_regex(pattern: str) -> str:
    """A shell glob (`*`, `?`, `[abc]`, `[!abc]`) as an RE2 pattern; case-sensitive, `*` crosses newlines."""
    out, i, n = ["(?s)"], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if out[-1] != ".*":        # ** is *; fewer states for RE2
                out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and (end := _class_end(pattern, i)) is not None:
            out.append(_glob_class(pattern[i - 1:end + 1]))
            i = end + 1
        else:
            out.append(re2.escape(c))
    return "".join(out)


def _glob_class(group: str) -> str:
    """One `[...]` as fnmatch reads it (`!` negates, `^` is literal, empty ranges dropped), in RE2 syntax."""
    translated = fnmatch.translate(group)               # "(?s:[...])\\Z"; class syntax RE2 shares
    inner = translated[len("(?s:"):-len(")\\Z")]
    return _NOTHING if inner == "(?!)" else inner       # fnmatch's "matches nothing" is a lookahead


def _class_end(pattern: str, start: int) -> int | None:
    """Index of the `]` closing a glob class opened just before `start`, or None (then `[` is literal)."""
    j = start
    if j < len(pattern) and pattern[j] == "!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":   # a leading ] is part of the class
        j += 1
    end = pattern.find("]", j)
    return end if end != -1 else None


def compile_glob(pattern: str) -> Matcher:
    """A function telling whether a text matches the shell glob `pattern` as a whole."""
    return compile_regex(glob_regex(pattern))
