"""Zero-downtime restart of `sentry-router web` (router/web/gunicorn_conf.py pre_exec): SIGUSR2, then SIGTERM the old
master."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CONSOLE_RULES, SECRET, free_port
from tests.support.procs import Poster, alive, issue_body, wait_ready

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop


def _has_child(pid: int) -> bool:
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                return True
        except OSError:
            continue
    return False


def _wait_for(check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_usr2_starts_a_new_master_that_takes_over(tmp_path: Path) -> None:
    """After SIGUSR2 a new master boots on the same socket; once the old one is stopped it answers alone."""
    port, pidfile = free_port(), tmp_path / "web.pid"
    (tmp_path / "rules.yaml").write_text(CONSOLE_RULES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_", "PROMETHEUS_"))}
    env.update(SENTRY_CLIENT_SECRET=SECRET, ROUTER_RULES=str(tmp_path / "rules.yaml"), PORT=str(port),
               ROUTER_DB=str(tmp_path / "router.sqlite3"), GUNICORN_CMD_ARGS=f"--pid {pidfile}")
    old = subprocess.Popen([sys.executable, "-m", "router", "web", "--host", "127.0.0.1", "--workers", "1"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new_pid = 0
    try:
        wait_ready(port, timeout=60)
        os.kill(old.pid, signal.SIGUSR2)
        fresh = Path(f"{pidfile}.2")
        _wait_for(lambda: fresh.exists() and fresh.read_text().strip())
        new_pid = int(fresh.read_text())
        _wait_for(lambda: _has_child(new_pid))  # its worker booted
        old.send_signal(signal.SIGTERM)
        assert old.wait(60) == 0
        assert Poster(port).post(issue_body(1))[0] == 202
        _wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() == str(new_pid))  # promoted
    finally:
        if old.poll() is None:
            old.kill()
        if new_pid and alive(new_pid):
            os.kill(new_pid, signal.SIGTERM)
            _wait_for(lambda: not alive(new_pid))
