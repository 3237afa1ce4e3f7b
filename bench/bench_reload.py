"""Seconds from a rules edit to every process routing with it, with no traffic at all.

    .venv/bin/python bench/bench_reload.py [--edits 5] [--workers 2]

Starts `sentry-router serve` (gunicorn with `--workers` web processes, plus the delivery worker) on 127.0.0.1,
sends it nothing, then edits the rules file `--edits` times. Each process logs `rules … reloaded … (sha256 X)`
when it routes with a new file; the figure per edit is from the write to the last process's line. The machine
is shared, so the worst case is the one to read (ROUTER_RELOAD_INTERVAL, default 2 s, is the design bound).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import CONSOLE_RULES, free_port

LINE = re.compile(r"^(\S+ \S+) INFO router\.rules\.reload \[(\d+)\] rules .* reloaded: .*\(sha256 (\w+)\)")


def reloads(log: Path, digest: str) -> dict[str, float]:
    """pid -> time (epoch seconds) of its line saying it reloaded to `digest`."""
    found = {}
    for line in log.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if m and digest.startswith(m.group(3)):
            found[m.group(2)] = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return found


def main() -> None:
    """Start the router, edit the rules, print the seconds until every process took each edit."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--edits", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reload-"))
    rules, log = tmp / "rules.yaml", tmp / "serve.log"
    rules.write_text(CONSOLE_RULES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_", "PROMETHEUS_", "REDIS_"))}
    env.update(SENTRY_CLIENT_SECRET="bench", ROUTER_RULES=str(rules), ROUTER_DB=str(tmp / "r.sqlite3"),
               ROUTER_TEMPLATES=str(tmp / "tpl"), PORT=str(free_port()), PYTHONPATH=str(ROOT))
    processes = args.workers + 1
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "router", "serve", "--host", "127.0.0.1", "--workers",
                                 str(args.workers)], env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        time.sleep(20)  # every process up and idle (a loaded machine starts slowly)
        results = []
        for n in range(args.edits):
            text = CONSOLE_RULES.replace("name: everything", f"name: edit-{n}")
            digest = hashlib.sha256(text.encode()).hexdigest()
            start = time.time()
            rules.write_text(text)
            deadline = start + 60
            while len(found := reloads(log, digest)) < processes and time.time() < deadline:
                time.sleep(0.1)
            results.append(max(found.values()) - start if len(found) == processes else float("inf"))
            print(f"edit {n + 1}: {len(found)}/{processes} processes routing with it after {results[-1]:.2f} s")
            time.sleep(1)
        print(f"worst {max(results):.2f} s, median {sorted(results)[len(results) // 2]:.2f} s "
              f"(ROUTER_RELOAD_INTERVAL 2 s; no requests sent; {os.cpu_count()} CPUs, shared)")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


if __name__ == "__main__":
    main()
