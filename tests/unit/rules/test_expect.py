"""Routing tests as code (router/rules/expect.py, `sentry-router test --expect CASES.yaml`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import main
from router.rules.expect import CasesError, load_cases, report, run_case
from router.rules.load import load_rules
from tests.conftest import EXAMPLE_RULES

RULES = load_rules(str(EXAMPLE_RULES), {})


def _cases(tmp_path: Path, text: str) -> str:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("case, differences", [
    ("{payload: issue.created, rules: [new-backend-errors], targets: [log]}", []),
    ("{payload: issue.created, set: {data.issue.project.slug: sandbox-1}, rules: ignore-sandbox-projects, "
     "not_targets: log}", []),
    ("{payload: issue.created, set: {data.issue.level: warning}, rules: [new-backend-errors]}",
     ["- rule new-backend-errors: must match, did not"]),
    ("{payload: issue.created, not_rules: [everything-else]}", ["+ rule everything-else: must not match, did"]),
    ("{payload: issue.created, not_targets: [log]}",
     ["+ target log: must not be notified, was (rule new-backend-errors)"]),
    ("{payload: issue.created, targets: [oncall]}", ["- target oncall: must be notified, was not"]),
    ("{payload: issue.created, targets: [oncal]}", ["? targets: 'oncal' is not a target in " + str(EXAMPLE_RULES),
                                                     "- target oncal: must be notified, was not"]),
])
def test_each_expectation_is_checked(tmp_path: Path, case: str, differences: list[str]) -> None:
    """A case passes when every must and must-not holds; each one that fails is one line of the diff."""
    [loaded] = load_cases(_cases(tmp_path, f"cases:\n  - {case}\n"))
    assert list(run_case(RULES, loaded).differences) == differences


def test_a_payload_file_is_read_next_to_the_cases(tmp_path: Path) -> None:
    """A payload that is not a sample name is a JSON file relative to the cases file; its name gives the resource."""
    (tmp_path / "payloads").mkdir()
    (tmp_path / "payloads" / "error.created.json").write_text(json.dumps(
        {"action": "created", "data": {"error": {"event_id": "ab" * 16, "level": "error", "title": "ReferenceError: x",
                                                 "tags": [["browser.name", "Chrome"]]}}}))
    [case] = load_cases(_cases(tmp_path, "cases:\n  - {payload: payloads/error.created.json, rules: browser-errors}\n"))
    assert case.resource == "error" and run_case(RULES, case).passed


@pytest.mark.parametrize("text, error", [
    ("cases: []\n", "routing.yaml:1: expected `cases:`, a list of cases"),
    ("cases:\n  - {rules: [a]}\n", "routing.yaml:2: case 1: `payload:` is required"),
    ("cases:\n  - {payload: issue.created}\n", "routing.yaml:2: case 1: nothing to check"),
    ("cases:\n  - {payload: issue.created, rule: [a]}\n", "routing.yaml:2: case 1: unknown key 'rule'"),
    ("cases:\n  - {payload: nope.json, rules: [a]}\n", "case 1: payload 'nope.json' is neither a bundled sample nor"),
    ("cases:\n  - {payload: issue.created, set: {data.issue.title.x: 1}, rules: [a]}\n",
     "case 1: set: data.issue.title.x"),
    ("cases:\n  - {payload: issue.created, rules: {a: 1}}\n", "case 1: rules: expected a name or a list of names"),
    ("cases: [\n", "routing.yaml:2: invalid YAML"),
])
def test_a_bad_cases_file_names_the_line(tmp_path: Path, text: str, error: str) -> None:
    """Every problem in a cases file is reported with its file and line, before anything runs."""
    with pytest.raises(CasesError) as info:
        load_cases(_cases(tmp_path, text))
    assert error in "\n".join(info.value.errors)


def test_report_marks_cases_and_counts(tmp_path: Path) -> None:
    """The report has ✓/✗ per case with its line and name, the diff and what matched, and a count."""
    cases = load_cases(_cases(tmp_path, "cases:\n  - {name: ok, payload: issue.created, targets: log}\n"
                                        "  - {name: bad, payload: issue.created, targets: oncall}\n"))
    path = str(tmp_path / "routing.yaml")
    lines = report(path, [run_case(RULES, c) for c in cases])
    assert lines == [f"✓ {path}:2: ok (issue.created)", f"✗ {path}:3: bad (issue.created)",
                     "    - target oncall: must be notified, was not",
                     "    matched: new-backend-errors, everything-else; notified: new-backend-errors → log",
                     "2 cases: 1 passed, 1 failed"]


@pytest.mark.parametrize("targets, exit_code", [("log", 0), ("oncall", 1)])
def test_cli_exit_code(tmp_path: Path, targets: str, exit_code: int) -> None:
    """`test --expect` exits 0 when every case passes and 1 when one fails (for CI)."""
    path = _cases(tmp_path, f"cases:\n  - {{payload: issue.created, targets: {targets}}}\n")
    result = CliRunner().invoke(main, ["test", "--expect", path, "--rules", str(EXAMPLE_RULES)],
                                env={"ROUTER_TEMPLATES": str(tmp_path)}, catch_exceptions=False)
    assert result.exit_code == exit_code and "1 case: " in result.stdout


def test_cli_refuses_both_or_neither(tmp_path: Path) -> None:
    """`test` takes a payload to explain or --expect, and says so when given both or neither."""
    result = CliRunner().invoke(main, ["test"], catch_exceptions=False)
    assert result.exit_code == 2 and "--expect CASES.yaml" in result.stderr
