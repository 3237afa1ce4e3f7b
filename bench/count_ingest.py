"""Ingest cost counted, not timed: user-space instructions per webhook under valgrind, bare Flask vs the router.

    .venv/bin/python bench/count_ingest.py [--n 1000] [--stages]

Timings on a shared VM swing by ±15 % between runs; instruction counts do not, so a change of 1 % shows.
Each figure is the difference of two runs under `valgrind --tool=callgrind` (n + 200 requests minus 200,
so start-up and imports cancel), less the same difference for a no-op app (building the requests).
Requests go straight to the WSGI callable in one process: no gunicorn, no sockets, and system calls
(SQLite's writes, the log line's write) are not counted — `strace -c` on a worker shows those.
`--stages` also counts the router's stages one by one (verify, parse, match, accept, metrics, log line).
Same rules and payloads as bench_ingest (50 rules, 4 targets, dedup off). Needs valgrind.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_payloads import rules_yaml, webhooks
from tests.conftest import signed_headers

SECRET = "bench-client-secret"
WARM = 200
STAGES = ["verify", "parse", "match", "accept", "metrics", "log line"]


def _environ(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/sentry/webhook", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0), "REMOTE_ADDR": "127.0.0.1"}
    env.update(("HTTP_" + k.upper().replace("-", "_"), v) for k, v in headers.items())
    return env


def child(mode: str, n: int) -> None:
    """Run WARM + n requests through `mode` (none | bare | router | stage:K) and exit."""
    tmp = Path(tempfile.mkdtemp(prefix="count-ingest-"))
    (tmp / "rules.yaml").write_text(rules_yaml())
    sys.stderr = open(os.devnull, "w")  # the router logs one line per webhook: written, unseen
    from router.settings import Settings
    from router.web.app import create_app

    app = create_app(Settings(client_secrets=(SECRET,), rules_path=str(tmp / "rules.yaml"),
                              db_path=str(tmp / "r.sqlite3"), templates_path=str(tmp / "tpl")))
    reqs = [(res, body, signed_headers(res, body, SECRET)) for res, body in webhooks(WARM + n)]
    if mode.startswith("stage:"):
        _stages(app, reqs, int(mode.split(":")[1]))
    else:
        call = {"none": lambda env, start: [], "bare": _bare(), "router": app}[mode]
        for _, body, headers in reqs:
            for _ in call(_environ(body, headers), lambda status, hdrs, exc=None: None):
                pass
    os._exit(0)  # skip interpreter teardown: it is not per-request work


def _bare() -> Any:
    from bench.bare_app import app
    return app


def _stages(app: Any, reqs: list[tuple[str, bytes, dict[str, str]]], upto: int) -> None:
    """The router's stages 1..upto for every request, as the view runs them."""
    from router import metrics, sentry
    from router.masking import one_line
    from router.rules.match import match
    from router.sentry.verify import verify

    rt, log = app.extensions["router"], logging.getLogger("router.web")
    for res, body, headers in reqs:
        if upto >= 1:
            verify(body, headers["Sentry-Hook-Signature"], rt.settings.client_secrets)
        if upto >= 2:
            event = sentry.parse(body, res, "request-id")
        if upto >= 3:
            result = match(rt.rules.current, event)
        if upto >= 4:
            rt.delivery.accept(event, result, 0, 0, body)
        if upto >= 5:
            metrics.WEBHOOKS.labels(event.resource, event.action, "accepted").inc()
            metrics.INGEST_SECONDS.observe(0.001)
        if upto >= 6:
            log.info("webhook %s %s.%s subject=%s matched=%s%s", "0" * 20, event.resource, event.action,
                     one_line(event.subject_id), ",".join(result.matched) or "-", "")


def instructions(mode: str, n: int) -> int:
    """Instructions valgrind counts for WARM + n requests of `mode`."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                          __file__, "--child", mode, "--n", str(n)], capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"valgrind gave no count for {mode}:\n{out.stderr[-2000:]}")
    return int(found[1])


def per_request(mode: str, n: int) -> float:
    """Instructions per request of `mode`, start-up cancelled."""
    return (instructions(mode, n) - instructions(mode, 0)) / n


def main() -> None:
    """Print instructions per request for bare Flask and the router (and each stage with --stages)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--stages", action="store_true")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.n)
    base = per_request("none", args.n)
    bare, router = per_request("bare", args.n) - base, per_request("router", args.n) - base
    print(f"instructions per webhook (user space, one process, n={args.n}):")
    print(f"  bare flask {bare / 1000:8.0f}k\n  router     {router / 1000:8.0f}k   ({router / bare:.2f}x bare)")
    if args.stages:
        before = per_request("stage:0", args.n)  # building the requests alone
        for k, name in enumerate(STAGES, 1):
            total = per_request(f"stage:{k}", args.n)
            print(f"  stage {name:<10} {(total - before) / 1000:6.0f}k")
            before = total


if __name__ == "__main__":
    main()
