"""Targets that cannot deliver are named before the first alert: `check` warns (--strict fails), `web` says so at
start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.channels.readiness import undeliverable
from router.cli import main
from router.rules.load import load_rules
from router.settings import Settings
from tests.conftest import SECRET, free_port

RULES = """\
version: 1
targets:
  log: {type: console}
  oncall: {type: slack, channel: "#oncall"}
  hook: {type: slack, webhook_url: "https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX"}
  mail: {type: email, to: a@example.com}
  spare: {type: slack, channel: "#spare"}
rules:
  - name: all
    match: {}
    notify: [log, oncall, hook, mail]
"""
SLACK_WARNING = ('rules.yaml:4: target "oncall" (slack): SLACK_BOT_TOKEN is not set: '
                 'its notifications will go to the dead letters')
MAIL_WARNING = 'rules.yaml:6: target "mail" (email): SMTP_URL is not set: its notifications will go to the dead letters'


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A rules file notifying a bot-token Slack target, a Slack webhook, email and the console."""
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


@pytest.mark.parametrize("env, expected", [
    ({}, [SLACK_WARNING, MAIL_WARNING]),
    ({"slack_bot_token": "xoxb-1"}, [MAIL_WARNING]),
    ({"slack_bot_token": "xoxb-1", "smtp_url": "smtp://mail.example.com:25"}, []),
    ({"slack_bot_token": "xoxb-1", "smtp_url": "ftp://mail.example.com"},
     ['rules.yaml:6: target "mail" (email): SMTP_URL must look like']),
])
def test_each_notified_target_without_credentials_is_named(rules: Path, env: dict[str, str],
                                                           expected: list[str]) -> None:
    """Only targets a rule notifies are checked; each missing credential is one FILE:LINE line naming the target."""
    found = undeliverable(load_rules(str(rules), {}), Settings(**env))
    assert len(found) == len(expected)
    for line, want in zip(found, expected, strict=True):
        assert line.startswith(f"{rules.parent}/") and want in line


def _check(rules: Path, *flags: str, **env: str):
    base = {"ROUTER_TEMPLATES": str(rules.parent / "templates"), "SLACK_BOT_TOKEN": "", "SMTP_URL": "",
            "SENTRY_URL": ""}
    return CliRunner().invoke(main, ["check", str(rules), *flags], env={**base, **env}, catch_exceptions=False)


@pytest.mark.slow
def test_check_warns_and_exits_0(rules: Path) -> None:
    """`check` prints a warning per target that cannot deliver and still says OK (exit 0)."""
    result = _check(rules)
    assert result.exit_code == 0 and result.stdout == "OK: 1 rules, 5 targets\n"
    assert [line.split(str(rules.parent) + "/")[1] for line in result.stderr.splitlines()] == \
        [SLACK_WARNING, MAIL_WARNING]


@pytest.mark.slow
def test_check_strict_fails_on_warnings(rules: Path) -> None:
    """`check --strict` exits 1 when anything was warned about, and 0 once the credentials are set."""
    failed = _check(rules, "--strict")
    assert failed.exit_code == 1 and failed.stderr.splitlines()[-1] == "2 warnings (--strict)"
    fixed = _check(rules, "--strict", SLACK_BOT_TOKEN="xoxb-1", SMTP_URL="smtp://mail.example.com")
    assert (fixed.exit_code, fixed.stderr) == (0, "")


def test_web_says_so_at_start(rules: Path, tmp_path: Path) -> None:
    """`sentry-router web` starts, and its first lines name the targets that cannot deliver."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_", "SLACK_", "SMTP_"))}
    env.update(SENTRY_CLIENT_SECRET=SECRET, ROUTER_RULES=str(rules), ROUTER_DB=str(tmp_path / "r.sqlite3"),
               PORT=str(free_port()))
    proc = subprocess.Popen([sys.executable, "-m", "router", "web", "--host", "127.0.0.1", "--workers", "1"],
                            env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stderr is not None
        first = [proc.stderr.readline().strip() for _ in range(2)]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert [line.split(str(rules.parent) + "/")[1] for line in first] == [SLACK_WARNING, MAIL_WARNING]
    assert all(line.startswith("warning: ") for line in first)
