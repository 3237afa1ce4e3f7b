"""Profile the ingest path in one process: cProfile over the Flask test client posting distinct signed webhooks.

    .venv/bin/python bench/profile_ingest.py [--n 3000] [--top 30] [--sort tottime]

Same rules and payloads as bench_ingest (50 rules, 4 targets, dedup off); prints µs per webhook and the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_payloads import rules_yaml, webhooks
from router.settings import Settings
from router.web.app import create_app
from tests.conftest import signed_headers

SECRET = "bench-client-secret"


def main() -> None:
    """Post `--n` webhooks twice: once timed, once under cProfile; print both."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--sort", default="tottime")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="profile-ingest-"))
    rules = tmp / "rules.yaml"
    rules.write_text(rules_yaml())
    settings = Settings(client_secrets=(SECRET,), rules_path=str(rules), db_path=str(tmp / "r.sqlite3"),
                        templates_path=str(tmp / "tpl"))
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # INFO logging runs (one line per webhook), unseen
    try:
        client = create_app(settings).test_client()
    finally:
        sys.stderr = stderr
    reqs = [(body, signed_headers(res, body, SECRET)) for res, body in webhooks(args.n)]

    def run() -> None:
        for body, headers in reqs:
            assert client.post("/sentry/webhook", data=body, headers=headers).status_code == 202

    run()  # warm: connections, schema, caches
    start, cpu = time.perf_counter(), time.process_time()
    run()
    print(f"{(time.perf_counter() - start) / args.n * 1e6:.0f} µs wall, "
          f"{(time.process_time() - cpu) / args.n * 1e6:.0f} µs CPU per webhook (test client, one process)")
    prof = cProfile.Profile()
    prof.runcall(run)
    pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
