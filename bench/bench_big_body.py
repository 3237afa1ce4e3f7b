"""Large webhook bodies: ingest time and peak RSS per process for ~5 KiB, 1.2 MiB and 5 MiB signed error events.

    .venv/bin/python bench/bench_big_body.py [--n 10]

Starts `sentry-router web` with ONE gunicorn worker (so its peak RSS, VmHWM, is per worker) on a fresh SQLite
store, posts n distinct signed `error.created` bodies of each size (a real-shape event, tests/realshape, with a
large `extra` field, as a big stack or breadcrumbs make it) and prints the median and max answer time and the
worker's peak RSS after each size. Then it runs `sentry-router worker` until every notification (one console
target) is sent and prints that process's peak RSS and the ledger bytes stored per notification
(`router_job.payload`, compressed from 64 KiB on). Sizes run smallest first, since VmHWM only grows.
Times are wall-clock on whatever else the machine runs: compare them with the small body's of the same run.
"""

from __future__ import annotations

import argparse
import copy
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ingest import SECRET, Server, _env
from tests.conftest import free_port, signed_headers
from tests.realshape import load, sentry_bytes

RULES = "version: 1\ntargets:\n  log: {type: console}\nrules:\n  - name: all\n    match: {}\n    notify: [log]\n"
SIZES = [("small", 0), ("1.2 MiB", int(1.2 * 1024 * 1024)), ("5 MiB", 5 * 1024 * 1024)]


def body_of(size: int, i: int) -> bytes:
    """A signed-ready error.created body of about `size` bytes (at least the real-shape event), event id i."""
    resource, payload = load("error.created")
    payload = copy.deepcopy(payload)
    payload["data"]["error"]["event_id"] = f"{i:032x}"
    if size:  # breadcrumbs with varied text, so they compress as real ones do (not as one repeated byte)
        rng, crumbs = random.Random(i), []
        payload["data"]["error"]["breadcrumbs"] = {"values": crumbs}
        while len(sentry_bytes(payload)) < size:
            crumbs.extend({"timestamp": 1796033000.0 + k + rng.random(), "type": "http", "category": "httplib",
                           "level": "info", "data": {"method": "GET", "status_code": 200, "reason": "OK",
                                                     "url": f"https://api.acme.test/v1/items/{rng.getrandbits(64):x}"
                                                            f"?cursor={rng.getrandbits(96):x}"}}
                          for k in range(max(1, (size - len(sentry_bytes(payload))) // 260)))
    return sentry_bytes(payload)


def vm_hwm_kb(pid: int) -> int:
    """Peak resident set size of a process so far (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    """The gunicorn worker of a one-worker master."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if kids:
            return int(kids[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker")


def post(url: str, body: bytes) -> float:
    """POST one signed body; seconds until the 202."""
    req = urllib.request.Request(url + "/sentry/webhook", data=body, method="POST",
                                 headers=signed_headers("error", body, SECRET))
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
        assert resp.status == 202, resp.status
    return time.perf_counter() - start


def deliver(tmp: Path, env: dict[str, str], expected: int) -> int:
    """Run `sentry-router worker` until `expected` jobs are sent; its peak RSS (kB)."""
    proc = subprocess.Popen([sys.executable, "-m", "router", "worker"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "worker.log", "wb"))
    db = sqlite3.connect(env["ROUTER_DB"])
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            sent = db.execute("select count(*) from router_job where status = 'sent'").fetchone()[0]
            if sent >= expected:
                return vm_hwm_kb(proc.pid)
            time.sleep(0.2)
        raise SystemExit(f"only {sent} of {expected} delivered")
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    """Post each size, then deliver, and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10, help="bodies per size")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-big-"))
    (tmp / "rules.yaml").write_text(RULES)
    port = free_port()
    env = {**_env(tmp, port, tmp / "rules.yaml", "big"), "WEB_CONCURRENCY": "1", "ROUTER_LOG_LEVEL": "WARNING"}
    server = Server("router", [sys.executable, "-m", "router", "web"], env, port, tmp / "web.log")
    rows, sizes = [], {}
    try:
        pid = worker_pid(server.proc.pid)
        for label, size in SIZES:
            bodies = [body_of(size, hash(label) % 10**6 * 1000 + i) for i in range(args.n)]
            sizes[label] = len(bodies[0])
            times = [post(server.url, b) for b in bodies]
            rows.append((label, len(bodies[0]), statistics.median(times) * 1000, max(times) * 1000, vm_hwm_kb(pid)))
    finally:
        server.stop()
    print(f"web: 1 gunicorn worker, {args.n} bodies per size (machine shared: compare within this run)")
    print(f"{'body':<9} {'bytes':>10} {'p50 ms':>8} {'max ms':>8} {'worker peak RSS':>16}")
    base = rows[0][2]
    for label, n, p50, mx, hwm in rows:
        print(f"{label:<9} {n:>10,} {p50:>8.1f} {mx:>8.1f} {hwm / 1024:>13.1f} MiB"
              f"   ({p50 / base:.1f}x the small body)")
    peak = deliver(tmp, env, args.n * len(SIZES))
    db = sqlite3.connect(env["ROUTER_DB"])
    stored = [r[0] for r in db.execute("select length(payload) from router_job order by length(payload)")]
    print(f"delivery worker: {args.n * len(SIZES)} notifications sent, peak RSS {peak / 1024:.1f} MiB")
    for (label, _), chunk in zip(SIZES, (stored[i * args.n:(i + 1) * args.n] for i in range(len(SIZES))), strict=True):
        print(f"ledger per notification, {label} body ({sizes[label]:,} B): {statistics.median(chunk):,.0f} B stored")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
