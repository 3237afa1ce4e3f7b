"""Webhooks lost to a restart of `sentry-router web`: 2,000 signed webhooks sent across a SIGTERM + restart.

Three ways to restart, each on a fresh store, the same client load (paced, a new connection per webhook, as
Sentry sends them):
- `stop-start`: SIGTERM, wait for exit, start again (a plain `systemctl restart`, or a container replaced);
- `handover`: SIGUSR2 (gunicorn starts a new master on the same listening socket), then SIGTERM the old one;
- `socket`: the socket is held by the parent, as systemd socket activation does (LISTEN_FDS), then stop-start.

Every webhook ends as answered (202), refused (nothing listening), reset (connection dropped) or timed out
(no answer within Sentry's 1 s).
Run: `.venv/bin/python bench/bench_restart.py [--n 2000] [--rate 200] [--only MODE]`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.sentry.verify import sign
from tests.conftest import SECRET, free_port
from tests.support.procs import alive, base_env, issue_body

ROOT = Path(__file__).resolve().parent.parent
RULES = "version: 1\ntargets: {log: {type: console}}\nrules: [{name: all, match: {}, notify: log}]\n"
MODES = ("stop-start", "handover", "socket")
SENTRY_TIMEOUT = 1.0  # Sentry gives up on a webhook after 1 s (and never retries an internal integration's)


class Web:
    """`sentry-router web` as a child: started plainly, with a pid file, or on a socket we hold (systemd-style)."""

    def __init__(self, tmp: Path, port: int, mode: str) -> None:
        self.tmp, self.port, self.mode = tmp, port, mode
        self.env = base_env(tmp, PORT=str(port), WEB_CONCURRENCY="2")
        self.pidfile = tmp / "web.pid"
        if mode == "handover":
            self.env["GUNICORN_CMD_ARGS"] = f"--pid {self.pidfile}"
        self.held: socket.socket | None = None
        if mode == "socket":
            self.held = socket.create_server(("127.0.0.1", port), backlog=2048)
        self.log = open(tmp / "web.log", "ab")
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "router", "web", "--host", "127.0.0.1"]
        if self.held is None:
            return subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        fd = self.held.fileno()

        def as_fd_3() -> None:  # systemd hands the socket over as fd 3 (SD_LISTEN_FDS_START)
            os.dup2(fd, 3)
            os.set_inheritable(3, True)

        shell = ['/bin/sh', '-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh", *argv]
        return subprocess.Popen(shell, env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                preexec_fn=as_fd_3, pass_fds=(3,))

    def wait_ready(self, timeout: float = 30) -> None:
        """Until /-/healthy answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/-/healthy")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"web did not come up; see {self.tmp / 'web.log'}")

    def restart(self) -> float:
        """Restart the way the mode says; seconds until the old master has exited."""
        start = time.monotonic()
        if self.mode == "handover":
            old = self.proc.pid
            os.kill(old, signal.SIGUSR2)
            fresh = Path(f"{self.pidfile}.2")  # the new master's pid file until the old one exits
            deadline = time.monotonic() + 30
            while not (fresh.exists() and fresh.read_text().strip()):
                if time.monotonic() > deadline:
                    raise SystemExit("no new master after SIGUSR2")
                time.sleep(0.02)
            self.new_master = int(fresh.read_text())
            self.wait_ready()
            time.sleep(1.0)  # the new master's workers are booting too; /-/healthy may have come from the old ones
            os.kill(old, signal.SIGTERM)
            self.proc.wait(60)
        else:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
            self.proc = self._start()
        return time.monotonic() - start

    def stop(self) -> None:
        """Stop whichever master is current."""
        pid = getattr(self, "new_master", None) if self.mode == "handover" else self.proc.pid
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and alive(pid):
                time.sleep(0.1)
        if self.mode != "handover":
            self.proc.wait(30)
        if self.held:
            self.held.close()


def post(port: int, n: int) -> str:
    """POST webhook `n` on a new connection; its outcome in one word."""
    body = issue_body(n)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SENTRY_TIMEOUT)
    try:
        conn.request("POST", "/sentry/webhook", body=body, headers={
            "Content-Type": "application/json", "Sentry-Hook-Resource": "issue",
            "Sentry-Hook-Signature": sign(body, SECRET), "Request-ID": f"{n:032x}"})
        status = conn.getresponse().status
        return "answered" if status == 202 else f"status {status}"
    except ConnectionRefusedError:
        return "refused"
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        return "reset"
    except TimeoutError:
        return "timeout"
    finally:
        conn.close()


def run(mode: str, n: int, rate: float, threads: int = 16) -> tuple[Counter[str], float, int]:
    """Send `n` webhooks at `rate`/s and restart once a quarter have gone.

    Returns the outcomes, the restart's duration, and how many were lost outside it (sent before the restart
    began or more than a second after it ended: what the shared machine's load costs, not the restart)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-restart-{mode}-") as d:
        tmp = Path(d)
        (tmp / "rules.yaml").write_text(RULES)
        web = Web(tmp, free_port(), mode)
        web.wait_ready()
        outcomes: Counter[str] = Counter()
        lock, next_n, start = threading.Lock(), [0], time.monotonic()
        window = [float("inf"), float("inf")]
        lost_outside = [0]

        def client() -> None:
            while True:
                with lock:
                    i = next_n[0]
                    next_n[0] += 1
                if i >= n:
                    return
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
                sent = time.monotonic()
                outcome = post(web.port, i)
                with lock:
                    outcomes[outcome] += 1
                    if outcome != "answered" and not window[0] <= sent <= window[1] + 1.0:
                        lost_outside[0] += 1

        workers = [threading.Thread(target=client) for _ in range(threads)]
        for t in workers:
            t.start()
        while next_n[0] < n // 4:
            time.sleep(0.01)
        window[0] = time.monotonic()
        took = web.restart()
        window[1] = time.monotonic()
        for t in workers:
            t.join()
        web.stop()
        return outcomes, took, lost_outside[0]


def main() -> None:
    """Run each mode and print one line per mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200, help="webhooks per second, all clients together")
    parser.add_argument("--only", choices=MODES)
    args = parser.parse_args()
    print(f"{args.n} webhooks at {args.rate:g}/s, restart after {args.n // 4}")
    for mode in [args.only] if args.only else MODES:
        outcomes, took, outside = run(mode, args.n, args.rate)
        lost = args.n - outcomes["answered"]
        detail = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(f"{mode:<11} lost {lost:>4} of {args.n} ({outside} of them outside the restart)  ({detail}); "
              f"restart took {took:.1f} s", flush=True)


if __name__ == "__main__":
    main()
