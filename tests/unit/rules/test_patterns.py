"""Rule regex/glob on RE2: linear time on hostile text, clear load errors, globs as fnmatch, payload bounds."""

from __future__ import annotations

import fnmatch
import signal
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.rules.load import RulesError, load_rules_text
from router.rules.match import match
from router.rules.operators import MAX_ITEMS, MAX_TEXT
from router.rules.patterns import compile_glob, compile_regex
from router.sentry import build


def ruleset(condition: str):
    """A ruleset with one rule `r` whose match is the given flow mapping."""
    return load_rules_text(f"version: 1\ntargets: {{log: {{type: console}}}}\nrules:\n"
                           f"  - name: r\n    match: {condition}\n    notify: log\n", "rules.yaml", {})


def issue(title: str = "TypeError: x", **data: object):
    """An issue.created event with the given title (and more `data.issue` fields)."""
    return build("issue", {"action": "created", "data": {"issue": {"id": "1", "title": title, **data}}})


@pytest.fixture
def hang_guard() -> Iterator[None]:
    """Fails the test instead of hanging the suite if matching backtracks (not a timing assertion)."""
    def fail(*_: object) -> None:
        raise AssertionError("matching did not finish within 60 s: the pattern backtracks")
    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("pattern,title", [
    ("(x+x+)+y", "x" * 5000),
    ("(a|aa)+$", "a" * 5000 + "b"),
    (".*(error|exception).*(timeout|refused).*", "error " * 20000),
    ("(.*a){20}", "a" * 30),
])
def test_catastrophic_patterns_finish(pattern: str, title: str, hang_guard: None) -> None:
    """Patterns that backtrack exponentially (or quadratically) in Python's re run to an answer at once."""
    rs = ruleset(f"{{title: {{regex: '{pattern}'}}}}")
    for _ in range(2):
        match(rs, issue(title))


REFUSED = [
    (r"(a)\1", "backreferences"),
    ("(?P<x>a)(?P=x)", "backreferences"),
    ("foo(?=bar)", "lookahead and lookbehind"),
    ("(?<!x)foo", "lookahead and lookbehind"),
    ("(?>ab)c", "atomic groups"),
    (r"abc\Z", r"write \z"),
    (r"caf\u00e9", r"\x{00e9}"),
    ("a{1001}", "at most {1000}"),
    ("(api|worker", "expected an RE2 regular expression"),
]


@pytest.mark.parametrize("pattern,hint", REFUSED)
def test_unsupported_pattern_is_a_load_error_with_a_hint(pattern: str, hint: str) -> None:
    """A pattern RE2 cannot run is refused at load at FILE:LINE: rule: match.PATH.regex, saying what to write."""
    escaped = pattern.replace("\\", "\\\\")
    with pytest.raises(RulesError) as err:
        ruleset(f'{{title: {{regex: "{escaped}"}}}}')
    [line] = err.value.errors
    assert line.startswith('rules.yaml:5: rule "r": match.title.regex: bad regular expression ')
    assert hint in line


GLOB_CHARS = st.text(alphabet="abz*?[]!-.\\^$()|+{}&~\n", max_size=8)
TEXT_CHARS = st.text(alphabet="ab-.\\^$[]()*?!\n", max_size=10)


@pytest.mark.parametrize("glob",
                         ["[b-a]", "[!b-a]", "[^a]", "[a-]", "[]]", "[!]a]", "[\\]", "[a-b-c]", "[[]", "a[z-a]"])
@pytest.mark.parametrize("text", ["a", "b", "c", "]", "^", "-", "[", "\\", "!", "az"])
def test_glob_classes_agree_with_fnmatchcase(glob: str, text: str) -> None:
    """Glob classes (negation, literal ^ and ], empty ranges) match what fnmatchcase matches."""
    assert compile_glob(glob)(text) == fnmatch.fnmatchcase(text, glob)


@settings(max_examples=1000, deadline=None)
@given(GLOB_CHARS, TEXT_CHARS)
@pytest.mark.slow
def test_glob_agrees_with_fnmatchcase(glob: str, text: str) -> None:
    """Any glob matches exactly the texts Python's fnmatchcase matches (the semantics before RE2)."""
    assert compile_glob(glob)(text) == fnmatch.fnmatchcase(text, glob)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab()|*+?.{}[]^$\\-,0123456789", max_size=12), st.text(alphabet="ab", max_size=40))
def test_random_patterns_load_or_are_explained(pattern: str, title: str) -> None:
    """Any pattern either loads and matches (never raising) or is refused with one located error line."""
    escaped = pattern.replace("\\", "\\\\").replace('"', '\\"')
    try:
        rs = ruleset(f'{{title: {{regex: "{escaped}"}}}}')
    except RulesError as exc:
        assert len(exc.errors) == 1 and exc.errors[0].startswith('rules.yaml:5: rule "r": match.title.')
        return
    match(rs, issue(title))


def test_same_pattern_same_answer_across_texts() -> None:
    """A shared matcher's memory of its last answer never leaks into the answer for another text."""
    matches = compile_regex("a+")
    assert [matches(t) for t in ["aa", "ab", "aa", "", "a" * 9]] == [True, False, True, False, True]


def test_regex_sees_only_the_first_max_text_characters() -> None:
    """A payload cannot make a regex scan more than MAX_TEXT characters of a value."""
    rs = ruleset("{title: {regex: '.*needle.*'}}")
    assert match(rs, issue("x" * (MAX_TEXT - 10) + "needle")).matched == ("r",)
    assert match(rs, issue("x" * MAX_TEXT + "needle")).matched == ()


def test_contains_looks_at_max_items_of_a_list() -> None:
    """`contains` on a list looks at its first MAX_ITEMS items only."""
    rs = ruleset("{data.issue.tags: {contains: needle}}")
    assert match(rs, issue(tags=["x"] * (MAX_ITEMS - 1) + ["needle"])).matched == ("r",)
    assert match(rs, issue(tags=["x"] * MAX_ITEMS + ["needle"])).matched == ()
