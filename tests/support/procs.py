"""Real `sentry-router` processes for end-to-end tests and benches: start, wait ready, post, stop."""

from __future__ import annotations

import contextlib
import copy
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from router.sentry import encode_like_sentry
from router.sentry.verify import sign
from tests.conftest import SECRET, fixture_payload

ROOT = Path(__file__).resolve().parents[2]


def rules_yaml(slack_webhook_url: str | None = None) -> str:
    """Rules sending every webhook to a Web API slack target (and to an incoming webhook if given)."""
    hook = f"  hook:\n    type: slack\n    webhook_url: {slack_webhook_url}\n" if slack_webhook_url else ""
    notify = "[oncall, hook]" if slack_webhook_url else "[oncall]"
    return (f"version: 1\ntargets:\n  oncall:\n    type: slack\n    channel: \"#oncall\"\n    thread: none\n{hook}"
            f"rules:\n  - name: all\n    match: {{}}\n    notify: {notify}\n")


def issue_body(n: int, action: str = "created") -> bytes:
    """issue.<action> for issue 50000+n titled `load-NNNNN-x`, encoded as Sentry sends it."""
    payload = copy.deepcopy(fixture_payload("issue.created"))
    payload["action"] = action
    payload["data"]["issue"]["id"] = str(50000 + n)
    payload["data"]["issue"]["title"] = f"load-{n:05d}-x"
    return encode_like_sentry(payload)


class Proc:
    """One child process in its own process group."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._out = open(log, "ab")
        self.popen = subprocess.Popen(argv, env=dict(env), cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def signal(self, sig: int) -> None:
        """Send `sig` to the process group."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)

    def wait(self, timeout: float) -> int:
        """Exit code, waiting up to `timeout`."""
        return self.popen.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; close the log."""
        try:
            self.signal(signal.SIGTERM)
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(5)
        except ProcessLookupError:
            pass
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)  # stragglers of the group
            self._out.close()


class Cluster:
    """Starts `web`, `worker` and `serve` processes sharing one environment; stops them all."""

    def __init__(self, tmp: Path, env: Mapping[str, str]) -> None:
        self.tmp, self.env, self.procs = tmp, dict(env), []  # type: list[Proc]

    def start(self, command: str, *args: str, name: str | None = None, **env: str) -> Proc:
        """`python -m router <command> <args>` with extra env; its output goes to tmp/<name>.log."""
        name = name or f"{command}-{len(self.procs)}"
        proc = Proc(name, [sys.executable, "-m", "router", command, *args], {**self.env, **env},
                    self.tmp / f"{name}.log")
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        """Stop every process started."""
        for proc in self.procs:
            proc.stop()

    def logs(self) -> str:
        """Every process's output, for failure messages."""
        return "\n".join(f"--- {p.name}\n{p.log.read_text(errors='replace')[-3000:]}" for p in self.procs)


def base_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for router processes on a private store in `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUTER_", "REDIS_", "SLACK_", "SMTP_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(PYTHONPATH=str(ROOT), SENTRY_CLIENT_SECRET=SECRET, ROUTER_RULES=str(tmp / "rules.yaml"),
               ROUTER_DB=str(tmp / "var" / "router.sqlite3"), ROUTER_TEMPLATES=str(tmp / "templates"),
               ROUTER_LOG_LEVEL="WARNING", WEB_CONCURRENCY="2", ROUTER_HOST="127.0.0.1",
               # these runs pin one Slack message per notification (durability, exactly once); pacing merges a
               # backlog into digests instead, pinned on its own in test_delivery_pacing.py and bench_storm.py
               ROUTER_SLACK_RATE="0")
    env.update(extra)
    return env


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A Cluster whose processes are all stopped after the test."""
    c = Cluster(tmp_path, base_env(tmp_path))
    try:
        yield c
    finally:
        c.stop_all()


def wait_ready(port: int, timeout: float = 20.0) -> None:
    """Wait until GET /-/ready answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/-/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"router on port {port} not ready after {timeout}s")


class Poster:
    """POSTs signed webhooks over a kept-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, body: bytes, resource: str = "issue", request_id: str | None = None) -> tuple[int, dict]:
        """Send one webhook; (status, JSON answer)."""
        headers = {"Content-Type": "application/json", "Sentry-Hook-Resource": resource,
                   "Sentry-Hook-Signature": sign(body, SECRET), "Request-ID": request_id or uuid.uuid4().hex}
        for attempt in (1, 2):
            try:
                self.conn.request("POST", "/sentry/webhook", body=body, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, json.loads(resp.read() or b"{}")
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM a process started with start_new_session=True and its children; SIGKILL after 15 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
