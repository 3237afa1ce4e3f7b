"""The web command under real gunicorn, send-sample, and start-up refusals (router/cli/run.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CONSOLE_RULES, SECRET, free_port

CLI = [sys.executable, "-m", "router"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(CONSOLE_RULES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_", "PROMETHEUS_"))}
    env.update(ROUTER_RULES=str(rules), ROUTER_DB=str(tmp_path / "router.sqlite3"),
               ROUTER_TEMPLATES=str(tmp_path / "templates"), **extra)
    return env


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/-/healthy", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`sentry-router web` under gunicorn on a free port; stopped with SIGTERM afterwards."""
    port = free_port()
    env = _env(tmp_path, SENTRY_CLIENT_SECRET=f"old-secret,{SECRET}", PORT=str(port))
    proc = subprocess.Popen([*CLI, "web", "--host", "127.0.0.1", "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url, env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.mark.slow
def test_send_sample_gets_202_from_gunicorn(web_server) -> None:
    """send-sample signs a bundled sample as Sentry does and a real gunicorn router accepts it."""
    url, env = web_server
    out = subprocess.run([*CLI, "send-sample", "activity_alert.triggered", "--url", url, "--secret", SECRET],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("202 ") and '"resource":"activity_alert"' in out.stdout.replace(" ", "")


@pytest.mark.slow
def test_send_sample_with_wrong_secret_reports_401(web_server) -> None:
    """A wrongly signed sample is refused 401, and send-sample exits non-zero saying so."""
    url, env = web_server
    out = subprocess.run([*CLI, "send-sample", "issue.created", "--url", url, "--secret", "nope"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and out.stdout.startswith("401 ")


@pytest.mark.parametrize("command", ["web", "serve"])
def test_missing_client_secret_stops_start(tmp_path: Path, command: str) -> None:
    """Without SENTRY_CLIENT_SECRET the server refuses to start with a one-line error and a non-zero exit."""
    out = subprocess.run([*CLI, command], env=_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "SENTRY_CLIENT_SECRET is not set" in out.stderr


def test_send_sample_unknown_name(tmp_path: Path) -> None:
    """An unknown sample name is a usage error listing the bundled samples."""
    out = subprocess.run([*CLI, "send-sample", "issue.exploded", "--secret", "x"], env=_env(tmp_path),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "issue.created" in out.stderr


@pytest.mark.slow
def test_serve_metrics_report_the_rules_loaded(tmp_path: Path) -> None:
    """Under `serve` (web and worker sharing one metrics folder) /metrics says the rules loaded, with their hash."""
    port = free_port()
    env = _env(tmp_path, SENTRY_CLIENT_SECRET=SECRET, PORT=str(port))
    proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--workers", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        time.sleep(1.0)  # let the worker start and write its own metrics files
        texts = [urllib.request.urlopen(url + "/metrics", timeout=5).read().decode() for _ in range(4)]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    for text in texts:   # whichever gunicorn worker answered
        assert "router_rules_last_load_successful 1.0" in text
        assert "router_rules_hash 0.0" not in text and "router_rules_hash " in text
