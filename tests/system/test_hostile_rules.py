"""Hostile rules files: whatever text reaches the loader, it raises only RulesError, each line `FILE:LINE: …`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.rules.load import RulesError, load_rules_text
from tests.conftest import EXAMPLE_RULES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = EXAMPLE_RULES.read_text("utf-8")
CORPUS = sorted((ROOT / "tests" / "rules_corpus").glob("*.yaml"))
ERROR_LINE = re.compile(r"^hostile\.yaml:\d+: \S")
HYPO = settings(max_examples=100, deadline=None)


def _load(text: str) -> None:
    """Load `text`; any exception other than RulesError fails, and so does an error line of the wrong form."""
    try:
        load_rules_text(text, "hostile.yaml", {"SET": "value"})
    except RulesError as exc:
        assert exc.errors, "a RulesError with no error lines"
        for line in exc.errors:
            assert ERROR_LINE.match(line) and "\n" not in line, repr(line)
            line.encode("utf-8")  # printable by `check`, loggable


@HYPO
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    """Arbitrary text is either a rules file or a list of FILE:LINE: errors."""
    _load(text)


FRAGMENTS = ["version: 1", "version: 2", "settings:", "targets:", "rules:", "  - name: r", "    match:",
             "      level: {gte: error}", "      title: {regex: '('}", "      any: [", "    notify: [log]",
             "  log: {type: console}", "  s: {type: slack}", "  a: {type: apprise, url: 'json://u:p@127.0.0.1:9/'}",
             "  dedup_window: 5x", "    stop: yes", "&a [1, *a]", "*nope", "<<: *a", "- !!binary aGk=",
             "key: \"\\ud800\"", "'unterminated", "{[}]", "\t- tab", "  ${SET}: ${UNSET}", "x: ${BAD", "? complex",
             "--- ", "...", "%YAML 1.1", "!!python/object:os.system {}", "1" * 5000, "  - " * 30 + "deep"]
line_st = st.sampled_from(FRAGMENTS) | st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


@HYPO
@given(st.lists(line_st, max_size=25))
def test_yaml_shaped_garbage(lines: list[str]) -> None:
    """Lines that look like rules YAML, shuffled and broken, never crash the loader."""
    _load("\n".join(lines))


@HYPO
@given(st.data())
def test_mutated_example(data) -> None:
    """The shipped example with random characters deleted, inserted or replaced loads or reports FILE:LINE: errors."""
    text = EXAMPLE
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(text)))
        new = data.draw(st.sampled_from(["", ":", "-", " ", "\n", "{", "[", "'", '"', "*", "&", "!", "#", "${", "\t"]))
        cut = data.draw(st.integers(0, 3))
        text = text[:at] + new + text[at + cut:]
    _load(text)


def _laughs(levels: int) -> str:
    lines = ["version: 1", "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\ntargets: {log: {type: console}}\n" \
        + f"rules: [{{name: a, match: {{title: *a{levels - 1}}}}}]\n"


HOSTILE = [
    ("flow nesting 1,000 deep", "version: 1\nrules: " + "[" * 1000 + "]" * 1000, "nested more than"),
    ("mapping nesting 500 deep", "version: 1\nrules: " + "{a: " * 500 + "1" + "}" * 500, "nested more than"),
    ("block nesting 100 deep", "version: 1\nrules:\n" + "".join("  " * i + "- \n" for i in range(100)),
     "nested more than"),
    ("nested not: 200 deep", "version: 1\ntargets: {log: {type: console}}\nrules: [{name: a, notify: log, match: "
     + "{not: " * 200 + "{resource: issue}" + "}" * 200 + "}]", "nested more than"),
    ("billion laughs", _laughs(10), "aliases expand"),
    ("recursive alias", "version: 1\nrules: &r [*r]", "alias"),
    ("python tag", "version: 1\nrules: !!python/object/apply:os.system [echo pwned]", "constructor"),
    ("binary tag", "version: 1\nrules: !!binary aGVsbG8=", "not allowed"),
    ("timestamp tag", "version: !!timestamp 2024-01-01", "not allowed"),
    ("set tag", "version: 1\nrules: !!set {a, b}", "not allowed"),
    ("lone surrogate escape", 'version: 1\nrules: [{name: "\\ud800", match: {}}]', "escape"),
    ("integer of 5,000 digits", "version: " + "9" * 5000, "too long"),
    ("NUL character", "version: 1\x00\nrules: []", "unacceptable character"),
    ("newline in a key", 'version: 1\n"bad\\nkey": 1\nrules: []', "bad\\nkey: unknown key"),
    ("terminal escape in a key", 'version: 1\n"\\e[31mred": 1\nrules: []', "\\x1b[31mred: unknown key"),
]


@pytest.mark.parametrize("case, text, expected", HOSTILE, ids=[c[0] for c in HOSTILE])
@pytest.mark.slow
def test_named_hostile_files(case: str, text: str, expected: str) -> None:
    """Each named hostile file is refused quickly with FILE:LINE: errors that say what is wrong."""
    with pytest.raises(RulesError) as info:
        load_rules_text(text, "hostile.yaml", {})
    _load(text)
    assert expected in str(info.value), str(info.value)[:300]


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_errors_keep_their_form(path: Path) -> None:
    """The hand-made corpus of mistakes still gives FILE:LINE: errors only (the hostile checks changed nothing)."""
    _load(path.read_text("utf-8"))


def test_anchors_and_merge_keys_still_work() -> None:
    """Ordinary anchors, aliases and merge keys (shared targets and conditions) are not mistaken for bombs."""
    text = """version: 1
targets: {log: {type: console}, ops: {type: console}}
rules:
  - name: base
    match: &backend {project: {in: [api, worker]}, level: {gte: error}}
    notify: &both [log, ops]
  - name: merged
    match: {<<: *backend, resource: issue}
    notify: *both
"""
    rs = load_rules_text(text, "ok.yaml", {})
    assert [r.name for r in rs.rules] == ["base", "merged"]
