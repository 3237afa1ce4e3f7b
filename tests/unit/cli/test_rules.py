"""`sentry-router check` and `sentry-router test`, through click's CliRunner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import main
from tests.conftest import EXAMPLE_RULES

REPO = Path(__file__).parents[3]
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = REPO / "tests" / "rules_corpus"


@pytest.fixture
def run(tmp_path: Path):
    """Invoke the CLI with an isolated environment: empty template folder, no secrets, no rules variable."""
    def invoke(*args: str, env: dict[str, str] | None = None):
        base = {"ROUTER_TEMPLATES": str(tmp_path / "templates"), "ROUTER_RULES": str(EXAMPLE_RULES),
                "SENTRY_URL": "", "SLACK_BOT_TOKEN": "", "SMTP_URL": ""}
        return CliRunner().invoke(main, list(args), env={**base, **(env or {})}, catch_exceptions=False)
    return invoke


@pytest.mark.slow
def test_check_ok_on_the_shipped_rules(run) -> None:
    """check prints `OK: N rules, M targets` and exits 0 for the example rules."""
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "OK: 8 rules, 4 targets\n")


@pytest.mark.parametrize("how", ["argument", "option", "environment"])
@pytest.mark.slow
def test_check_lists_every_error_and_exits_1(run, how: str) -> None:
    """check prints each problem line on stderr and exits 1, whichever way the file is named."""
    bad = str(CORPUS / "09-misspelt-key.yaml")
    args = {"argument": ["check", bad], "option": ["check", "--rules", bad], "environment": ["check"]}[how]
    result = run(*args, env={"ROUTER_RULES": bad} if how == "environment" else None)
    expected = [line[len("# expect: "):].replace("rules/rules.yaml", bad)
                for line in Path(bad).read_text().splitlines() if line.startswith("# expect: ")]
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [*expected, "2 problems found"]


@pytest.mark.slow
def test_check_missing_file_fails(run, tmp_path: Path) -> None:
    """check refuses a rules file that does not exist (the router would fall back to the default)."""
    result = run("check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1 and "nope.yaml:0: file not found" in result.stderr


@pytest.mark.slow
def test_check_reports_a_missing_rule_template(run, tmp_path: Path) -> None:
    """check also validates templates: a rule naming a template that does not exist is an error."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ntargets: {log: {type: console}}\nrules:\n"
                     "  - {name: r, match: {}, notify: log, template: nosuchtemplate}\n")
    result = run("check", str(rules))
    assert result.exit_code == 1 and 'template "nosuchtemplate" not found' in result.stderr


def test_test_explains_matches_and_renders(run, tmp_path: Path) -> None:
    """test infers the resource from the file name, explains each rule and shows each target's message."""
    payload = tmp_path / "error.created.json"
    shutil.copy(FIXTURES / "error.created.json", payload)
    result = run("test", str(payload))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("error.created (subject bb78c1407cea4519aa397afc059c793d) against ")
    assert '✓ rule "browser-errors" (line ' in out
    assert "    ✓ tags.browser.name exists true  (actual: \"Chrome\")" in out
    assert "matched: browser-errors, everything-else" in out
    assert '→ log (console), from rule "browser-errors"' in out and "blooopy is not defined" in out
    assert "(not sent: add --send to deliver)" in out


def test_test_send_delivers_to_the_console(run) -> None:
    """With --send the console target really prints the notification."""
    result = run("test", str(FIXTURES / "issue.created.json"), "--send")
    assert result.exit_code == 0, result.output
    assert "[log] " in result.stdout and "sent: {" in result.stdout


def test_test_needs_a_resource_it_cannot_infer(run, tmp_path: Path) -> None:
    """A payload whose file name names no known resource needs --resource; with it, it works."""
    payload = tmp_path / "payload.json"
    shutil.copy(FIXTURES / "comment.created.json", payload)
    assert run("test", str(payload)).exit_code == 2
    result = run("test", str(payload), "--resource", "comment")
    assert result.exit_code == 0 and "matched: people-commenting, everything-else" in result.stdout


def test_test_without_a_rules_file_uses_the_default(run, tmp_path: Path) -> None:
    """test shows what serve would do without a rules file: the built-in default."""
    result = run("test", str(FIXTURES / "seer.pr_created.json"), "--rules", str(tmp_path / "none.yaml"))
    assert result.exit_code == 0 and "matched: everything-to-console" in result.stdout
    assert "built-in default" in result.stderr


def test_test_refuses_invalid_rules(run) -> None:
    """test on an invalid rules file prints its errors and exits 1."""
    result = run("test", str(FIXTURES / "issue.created.json"), "--rules", str(CORPUS / "01-unknown-operator.yaml"))
    assert result.exit_code == 1 and 'unknown operator "gtee"' in result.stderr


@pytest.mark.slow
def test_check_accepts_the_design_example(run) -> None:
    """DESIGN's own example (with `template: issue`) passes check: every resource has a shipped template."""
    env = {"SLACK_RELEASES_WEBHOOK": "https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXX",
           "DISCORD_ID": "123456", "DISCORD_TOKEN": "abcdefghijkl"}
    result = run("check", str(REPO / "tests" / "rules_data" / "design_example.yaml"), env=env)
    assert (result.exit_code, result.stdout) == (0, "OK: 3 rules, 5 targets\n"), result.stderr


@pytest.mark.parametrize("resource", ["installation", "issue", "error", "comment", "event_alert", "metric_alert",
                                      "seer", "preprod_artifact", "activity_alert"])
def test_every_resource_has_shipped_templates(resource: str) -> None:
    """The package ships a slack, email and text template for every resource DESIGN 1.5 lists."""
    folder = REPO / "router" / "default_templates"
    assert all((folder / f"{resource}.{form}.j2").is_file() for form in ("slack", "email", "text"))


@pytest.mark.parametrize("match, warning", [
    ('{resource: isue}', 'match.resource: "isue" is not a resource Sentry sends'),
    ('{resource: issue, action: create}', 'match.action: "create" is not an action Sentry sends for issue'),
    ('{resource: [issue, error], action: [created, triggered]}',
     'match.action: "triggered" is not an action Sentry sends for issue, error'),
    ('{action: exploded}', 'match.action: "exploded" is not an action Sentry sends (known:'),
])
@pytest.mark.slow
def test_check_warns_about_resources_and_actions_sentry_never_sends(run, tmp_path: Path, match: str,
                                                                    warning: str) -> None:
    """A rule pinned to a misspelt resource or action still loads (Sentry adds new ones) but check warns, naming the
    line."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"version: 1\ntargets:\n  log: {{type: console}}\nrules:\n  - name: typo\n    match: {match}\n"
                     "    notify: [log]\n")
    result = run("check", str(rules))
    assert result.exit_code == 0 and result.stdout == "OK: 1 rules, 1 targets\n"
    assert f'warning: {rules}:5: rule "typo": {warning}' in result.stderr


@pytest.mark.slow
def test_check_is_quiet_about_known_resources_and_actions(run) -> None:
    """The shipped example pins only real resources and actions, so check prints no warning."""
    result = run("check")
    assert result.exit_code == 0 and "warning" not in result.stderr
