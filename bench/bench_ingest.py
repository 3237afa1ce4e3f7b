"""Ingest throughput: the router under gunicorn vs a bare Flask app returning 202, both driven by wrk.

    .venv/bin/python bench/bench_ingest.py [--rounds 3] [--duration 10] [--connections 32] [--pool 4000]

Both run under the same gunicorn config (`python:router.web.gunicorn_conf`, WEB_CONCURRENCY=2, no access log).
The router (`sentry-router web`, embedded SQLite default) loads 50 realistic rules over 4 targets (Slack
channel, Slack webhook, email, Apprise); wrk posts a pool of distinct signed real payloads, alternating
bare/router each round. `dedup_window: 0s` in the bench rules turns content dedup off, so every request
is a *fresh* webhook (verify + parse + match + one SQLite transaction: the dedup claim and the webhook with
its notifications; no delivery worker runs, so the webhooks wait in the store); `--duplicates` also
measures a router whose dedup window holds every body already; `--poll` also measures each round with an
operator console open: a client reading the newest 50 webhooks (GET /api/v1/webhooks) every second.
Needs wrk (`apt-get install wrk`). `BENCH_ROUTER_X=v` in the environment sets `ROUTER_X=v` for both servers
(e.g. `BENCH_ROUTER_READ_TIMEOUT=5`), which the bench otherwise clears.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_payloads import lua_script, rules_yaml, webhooks
from tests.conftest import free_port, signed_headers

SECRET = "bench-client-secret"


class Server:
    """A gunicorn process group on 127.0.0.1:port (the router's `web` command or the bare app)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.name, self.port, self.url = name, port, f"http://127.0.0.1:{port}"
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"{name} did not come up:\n{tail}")
            try:
                urllib.request.urlopen(self.url + "/-/healthy", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL what is left after 10 s."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass
        self._log.close()


def _env(tmp: Path, port: int, rules: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_", "PROMETHEUS_", "REDIS_"))}
    env.update(PORT=str(port), WEB_CONCURRENCY="2", ROUTER_HOST="127.0.0.1", SENTRY_CLIENT_SECRET=SECRET,
               ROUTER_RULES=str(rules), ROUTER_DB=str(tmp / f"{name}.sqlite3"), ROUTER_TEMPLATES=str(tmp / "tpl"),
               PYTHONPATH=str(ROOT))  # default log level (INFO): one line per webhook, as in production
    env.update({k[len("BENCH_"):]: v for k, v in os.environ.items() if k.startswith("BENCH_ROUTER_")})
    return env


ADMIN_TOKEN = "bench-admin-token"


def start_router(tmp: Path, name: str, dedup_window: str) -> Server:
    """`sentry-router web` with the bench rules (and the admin API on, for --poll)."""
    rules = tmp / f"{name}.yaml"
    rules.write_text(rules_yaml(dedup_window=dedup_window))
    port = free_port()
    env = {**_env(tmp, port, rules, name), "ROUTER_ADMIN_TOKEN": ADMIN_TOKEN}
    return Server(name, [sys.executable, "-m", "router", "web"], env, port, tmp / f"{name}.log")


class Poller(threading.Thread):
    """An open console: GET the newest 50 webhooks every second; counts answers and their worst time."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.stopped, self.polls, self.worst, self.failed = server, threading.Event(), 0, 0.0, 0

    def run(self) -> None:
        req = urllib.request.Request(self.server.url + "/api/v1/webhooks?limit=50",
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        while not self.stopped.wait(1.0):
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    resp.read()
                self.polls += 1
                self.worst = max(self.worst, time.perf_counter() - start)
            except OSError:
                self.failed += 1


def start_bare(tmp: Path) -> Server:
    """The bare Flask app under the same gunicorn config."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:router.web.gunicorn_conf", "bench.bare_app:app"]
    return Server("bare", argv, _env(tmp, port, tmp / "none.yaml", "bare"), port, tmp / "bare.log")


def cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the live processes of a process group (gunicorn master + workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, …, utime (12), stime (13)
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_wrk(server: Server, script: Path, args: argparse.Namespace) -> dict[str, float]:
    """One wrk run: req/s, p50 and p99 in ms, server CPU µs per request, non-2xx and socket errors."""
    cpu = cpu_seconds(server.proc.pid)
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "5s",
           "-s", str(script), server.url, "--", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    r = json.loads(line[5:])
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50": r["p50_us"] / 1000, "p99": r["p99_us"] / 1000,
            "cpu_us": (cpu_seconds(server.proc.pid) - cpu) / max(1, r["requests"]) * 1e6,
            "errors": r["non2xx"] + r["socket_errors"]}


def prime(server: Server, bodies: list[tuple[str, bytes]]) -> None:
    """Post every body once, so that later posts of them are duplicates."""
    for resource, body in bodies:
        req = urllib.request.Request(server.url + "/sentry/webhook", data=body, method="POST",
                                     headers=signed_headers(resource, body, SECRET))
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 202


def _row(label: str, r: dict[str, float]) -> str:
    errs = f"  ({int(r['errors'])} errors)" if r["errors"] else ""
    return f"{label:<22} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['cpu_us']:>8.0f}{errs}"


def main() -> None:
    """Run the rounds and print the table and the median ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--pool", type=int, default=4000, help="distinct signed webhooks wrk cycles through")
    p.add_argument("--duplicates", action="store_true", help="also measure a router answering only duplicates")
    p.add_argument("--poll", action="store_true", help="also measure each round with a console polling every second")
    args = p.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    bodies = webhooks(args.pool)
    script = tmp / "post.lua"
    script.write_text(lua_script(bodies, SECRET))
    servers: list[Server] = []
    try:
        bare = start_bare(tmp)
        servers.append(bare)
        router = start_router(tmp, "router", "0s")
        servers.append(router)
        print(f"{os.cpu_count()} CPUs, {args.connections} connections, {args.duration} s per run, "
              f"{args.pool} distinct webhooks, 50 rules / 4 targets, dedup off (fresh webhooks)")
        print(f"{'run':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/req':>8}")
        ratios, cpu_ratios, polled = [], [], []
        for n in range(1, args.rounds + 1):
            b, r = run_wrk(bare, script, args), run_wrk(router, script, args)
            print(_row(f"round {n} bare flask", b))
            print(_row(f"round {n} router", r))
            ratios.append(r["rps"] / b["rps"])
            cpu_ratios.append(b["cpu_us"] / r["cpu_us"])
            if args.poll:
                poller = Poller(router)
                poller.start()
                rp = run_wrk(router, script, args)
                poller.stopped.set()
                poller.join()
                print(_row(f"round {n} router+console", rp) + f"  ({poller.polls} polls, worst "
                      f"{poller.worst * 1000:.0f} ms, {poller.failed} failed)")
                polled.append(rp["rps"] / b["rps"])
        print(f"ratio router/bare per round: {', '.join(f'{x:.2f}' for x in ratios)}; "
              f"median {statistics.median(ratios):.2f} (target >= 0.6)")
        if polled:
            print(f"ratio router/bare with a console polling every second: {', '.join(f'{x:.2f}' for x in polled)}; "
                  f"median {statistics.median(polled):.2f}")
        print(f"server CPU per request, bare/router per round: {', '.join(f'{x:.2f}' for x in cpu_ratios)}; "
              f"median {statistics.median(cpu_ratios):.2f}")
        if args.duplicates:
            dup = start_router(tmp, "router-dup", "20m")
            servers.append(dup)
            prime(dup, bodies)
            print(_row("router, duplicates", run_wrk(dup, script, args)))
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
