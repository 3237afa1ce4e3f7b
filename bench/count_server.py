"""The whole server path counted: user-space instructions per webhook in a gunicorn worker under valgrind.

    .venv/bin/python bench/count_server.py [--n 200] [--worker-class CLASS ...]

`count_ingest.py` counts the WSGI callable alone; this counts what a gunicorn worker process spends per
request end to end (accept, read, gunicorn's parser and WSGI layer, the app, the answer, the close), for
the bare Flask app and the router, under each worker class given (default: the router's own, and `sync`).
One worker (WEB_CONCURRENCY=1) runs under `valgrind --tool=callgrind` from start to a graceful exit, twice:
serving 50 signed webhooks, then 50 + `--n`, posted one at a time on fresh connections (as Sentry sends
them); the difference over n cancels start-up and exit. Noise-free, unlike req/s on
a shared machine; system calls and time spent waiting are not counted (`strace -c` shows those), and
threads run one at a time under valgrind, so a threaded worker's lock hand-offs cost less here than they
do on two CPUs. Needs valgrind.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ingest import SECRET, _env
from bench.ingest_payloads import rules_yaml, webhooks
from tests.conftest import free_port, signed_headers

WARM = 50
APPS = {"bare": "bench.bare_app:app", "router": "router.wsgi:app"}


def _post(port: int, resource: str, body: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/sentry/webhook", body=body, headers=signed_headers(resource, body, SECRET))
        assert conn.getresponse().status == 202
    finally:
        conn.close()


def run(app: str, worker_class: str, requests: int, tmp: Path) -> int:
    """Instructions one worker of `app` under `worker_class` runs from start to exit, serving `requests`."""
    rules = tmp / "rules.yaml"
    rules.write_text(rules_yaml())
    port = free_port()
    name = f"{app}-{re.sub('[^a-zA-Z0-9]+', '-', worker_class)}-{requests}"
    env = {**_env(tmp, port, rules, name), "WEB_CONCURRENCY": "1", "GUNICORN_CMD_ARGS": f"--worker-class {worker_class}"}
    out = tmp / name
    out.mkdir()
    argv = ["valgrind", "--tool=callgrind", "--trace-children=yes", f"--callgrind-out-file={out}/cg.%p",
            sys.executable, "-m", "gunicorn", "--config", "python:router.gunicorn_conf", APPS[app]]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        bodies = webhooks(requests)
        deadline = time.monotonic() + 600
        while True:   # the first webhook doubles as the readiness probe
            try:
                _post(port, *bodies[0])
                break
            except (OSError, AssertionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{app} under {worker_class} did not come up") from None
                time.sleep(1)
        worker = int(subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()[0])
        for resource, body in bodies[1:]:
            _post(port, resource, body)
        os.kill(proc.pid, signal.SIGTERM)   # a graceful exit: callgrind writes the worker's totals
        proc.wait(300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    found = re.search(r"^(?:summary|totals): (\d+)", (out / f"cg.{worker}").read_text(errors="replace"), re.M)
    if found is None:
        raise SystemExit(f"no callgrind totals for the worker of {app} under {worker_class}")
    return int(found[1])


def count(app: str, worker_class: str, n: int, tmp: Path) -> float:
    """Instructions per webhook: (WARM + n requests) - (WARM requests), over n; start and exit cancel."""
    return (run(app, worker_class, WARM + n, tmp) - run(app, worker_class, WARM, tmp)) / n


def main() -> None:
    """Print instructions per webhook for bare and router under each worker class."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--worker-class", action="append", dest="classes")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="count-server-"))
    print(f"instructions per webhook in one gunicorn worker (user space, n={args.n}, one request at a time):")
    for worker_class in args.classes or ["router.serving.BufferingWorker", "sync"]:
        bare, router = (count(app, worker_class, args.n, tmp) for app in ("bare", "router"))
        print(f"  {worker_class:<34} bare {bare / 1000:6.0f}k  router {router / 1000:6.0f}k  "
              f"router - bare {(router - bare) / 1000:5.0f}k  bare/router {bare / router:.2f}")


if __name__ == "__main__":
    main()
