"""Worst ingest time for hostile titles against a hostile rules file (catastrophic regexes).

    .venv/bin/python bench/bench_hostile_match.py [--cap 20]

Each (title) is posted, signed, to the Flask app (verify → parse → match → durable accept, SQLite) in a
child process given `--cap` seconds; one that takes longer is reported as "> cap" (Python's `re` backtracks
exponentially on these: a 28-character title took 5.6 s in issue 13). CPU seconds of the child are shown
too, since the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RULES = """version: 1
targets: {log: {type: console}}
rules:
  - {name: nested, match: {title: {regex: "(x+x+)+y"}}, notify: log}
  - {name: alternation, match: {title: {regex: "(a|aa)+$"}}, notify: log}
  - {name: two-wildcards, match: {title: {regex: ".*(error|exception).*(timeout|refused).*"}}, notify: log}
  - {name: repeated-group, match: {culprit: {regex: "(.*a){12}"}}, notify: log}
  - {name: glob, match: {title: {glob: "*a*a*a*a*a*a*a*a*b"}}, notify: log}
"""
TITLES = {
    "28 x": "x" * 28, "32 x": "x" * 32, "30 a + b": "a" * 30 + "b",
    "48 KB 'error '": "error " * 8000, "500 KB x": "x" * 500_000, "40 a": "a" * 40,
}
CHILD = r"""
import json, sys, time, resource
sys.path.insert(0, sys.argv[1])
from router.web.app import create_app
from router.settings import Settings
from tests.conftest import signed_headers
title = sys.stdin.read()
app = create_app(Settings(client_secrets=("s",), rules_path=sys.argv[2] + "/rules.yaml",
                          db_path=sys.argv[2] + "/r.sqlite3", templates_path=sys.argv[2] + "/tpl"))
client = app.test_client()
body = json.dumps({"action": "created",
                   "data": {"issue": {"id": "1", "title": title, "culprit": title[:2000]}}}).encode()
cpu, start = time.process_time(), time.perf_counter()
status = client.post("/sentry/webhook", data=body, headers=signed_headers("issue", body, "s")).status_code
print(json.dumps({"status": status, "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}))
"""


def main() -> None:
    """Run every title in a child with a time cap; print each and the worst."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cap", type=float, default=20.0)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    (tmp / "rules.yaml").write_text(RULES)
    worst = 0.0
    for name, title in TITLES.items():
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_"))}
        try:
            out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(tmp)], input=title, capture_output=True,
                                 text=True, timeout=args.cap, env=env)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            worst = max(worst, r["seconds"])
            print(f"{name:<16} {r['status']}  {r['seconds'] * 1000:9.1f} ms  (CPU {r['cpu'] * 1000:.1f} ms)")
        except subprocess.TimeoutExpired:
            worst = float("inf")
            print(f"{name:<16} ---  > {args.cap:.0f} s (killed)")
    worst_text = f"> {args.cap:.0f} s" if worst == float("inf") else f"{worst * 1000:.1f} ms"
    print(f"worst ingest time: {worst_text} ({os.cpu_count()} CPUs, shared)")


if __name__ == "__main__":
    main()
