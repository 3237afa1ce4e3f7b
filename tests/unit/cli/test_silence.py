"""`sentry-router silence add|list|expire` and `sentry-router test --at`, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import main
from router.settings import Settings
from router.store import open_store

SAMPLE = str(Path(__file__).parents[3] / "router" / "samples" / "issue.created.json")   # issue 1234567890
RULES = """\
version: 1
targets:
  log: {type: console}
time_intervals:
  - name: night
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}, {start_time: "00:00", end_time: "07:00"}]
        location: Europe/Berlin
rules:
  - name: all
    match: {}
    notify: log
    mute_time_intervals: night
"""


@pytest.fixture
def run(tmp_path: Path):
    """Invoke the CLI on a private store (created, as a running router would have) and rules file."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    open_store(Settings(db_path=str(tmp_path / "var" / "router.sqlite3"))).ping()

    def invoke(*args: str):
        env = {"ROUTER_DB": str(tmp_path / "var" / "router.sqlite3"), "ROUTER_RULES": str(rules),
               "ROUTER_TEMPLATES": str(tmp_path / "templates"), "REDIS_URL": "", "SENTRY_URL": ""}
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return invoke


def test_add_list_expire_round_trip(run) -> None:
    """add prints the id; list shows it active with its conditions and reason; expire ends it, once."""
    added = run("silence", "add", "-m", "project=api", "-m", "level={gte: error}", "--for", "2h", "--reason", "deploy")
    assert added.exit_code == 0, added.output
    silence_id = added.stdout.split()[0]
    listed = [json.loads(line) for line in run("silence", "list", "--json").stdout.splitlines()]
    assert [(s["id"], s["active"], s["match"], s["reason"]) for s in listed] == \
        [(silence_id, True, {"project": "api", "level": {"gte": "error"}}, "deploy")]
    assert run("silence", "expire", silence_id).stdout == f"{silence_id} expired\n"
    assert "ended" in run("silence", "list").stdout
    again = run("silence", "expire", silence_id)
    assert again.exit_code == 1 and "no active silence" in again.output


@pytest.mark.parametrize("args, error", [
    (["-m", "projct=api", "--for", "1h"], "match.projct: unknown field"),
    (["-m", "level={gtee: error}", "--for", "1h"], 'match.level: unknown operator "gtee"'),
    (["-m", "project=api"], "--for: missing: a silence needs an end"),
    (["-m", "project=api", "--for", "soon"], '--for: expected a duration like 30m, 2h, 1d, got "soon"'),
    (["-m", "project=api", "--until-resolved"], "--until-resolved: needs match.issue_id"),
    (["-m", "project", "--for", "1h"], "expected KEY=VALUE"),
])
def test_add_refuses_an_invalid_silence(run, args: list[str], error: str) -> None:
    """An invalid silence exits non-zero naming the condition's key path or the option, and stores nothing."""
    result = run("silence", "add", *args)
    assert result.exit_code != 0 and error in result.output
    assert run("silence", "list").stdout == "no silences\n"


@pytest.mark.parametrize("at, verdict", [
    ("2026-11-30T22:30:00Z", "held back: mute_time_interval:night"),      # 23:30 in Berlin
    ("2026-11-30T12:30:00+01:00", "sent"),
    ("2026-11-30T06:59:00+01:00", "held back: mute_time_interval:night"),
    ("2026-11-30T07:00:00+01:00", "sent"),
])
def test_test_at_shows_the_quiet_hours_verdict(run, at: str, verdict: str) -> None:
    """`test --at TIME` says, per notification, whether quiet hours hold it back at that moment."""
    result = run("test", SAMPLE, "--at", at)
    assert result.exit_code == 0 and f'→ log, from rule "all": {verdict}\n' in result.stdout


def test_test_at_shows_an_active_silence(run) -> None:
    """A silence in the store that matches the payload is named in `test`'s verdict while it is active."""
    silence_id = run("silence", "add", "--issue", "1234567890", "--for", "1h", "--reason", "known").stdout.split()[0]
    result = run("test", SAMPLE, "--at", "2025-06-02T12:30:00+02:00")   # before the silence began
    assert 'rule "all": sent' in result.stdout
    now = run("test", SAMPLE)
    assert f"held back: silence {silence_id} (known)" in now.stdout
