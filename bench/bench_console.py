"""Console and admin API read time with 100,000 stored webhooks (SQLite, or Redis with --redis URL).

    .venv/bin/python bench/bench_console.py [--webhooks 100000] [--repeat 30] [--redis redis://127.0.0.1:6399/0]

Fills a fresh store with N webhooks in the history (real sample bodies, one notification each with one
attempt; every 100th a dead letter), then times each list and detail page in-process (Flask's test client:
the view, the store reads, the template; no network) and prints p50 / p95 / max per page. The issue's goal:
list pages well under 200 ms at 100k.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_payloads import rules_yaml, webhooks
from router.sentry import parse
from router.settings import Settings
from router.store import DEAD, SENT, Job, new_id
from router.store.history import WebhookRecord
from tests.support.api import API, CONSOLE, TOKEN

RULES = ["errors-oncall", "alerts-mail", "comments-chat", "resolved-log"]


def records(n: int) -> list[tuple[WebhookRecord, Job, float, str]]:
    """N history records (cycling 500 real bodies), each with one job and the time and outcome of its attempt."""
    pool = webhooks(500)
    start = time.time() - 20 * 3600
    out = []
    for i in range(n):
        resource, body = pool[i % len(pool)]
        ev = parse(body, resource)
        at = start + i * (20 * 3600 / n)
        wid = f"{int(at * 1e6):013x}{i:07x}"
        s = ev.shortcuts
        rec = WebhookRecord(id=wid, created_at=at, resource=ev.resource, action=ev.action,
                            title=str(s.get("title", ""))[:300], project=str(s.get("project", "")),
                            issue_id=str(s.get("issue_id", "")), matched=(RULES[i % 4],), body=body)
        status = DEAD if i % 100 == 0 else SENT
        job = Job(id=new_id() + f"{i:x}", webhook_id=wid, rule=RULES[i % 4], target="oncall", target_type="slack",
                  status=status, attempts=1, last_error="channel_not_found" if status == DEAD else "",
                  created_at=at, updated_at=at + 0.3, next_at=at, deadline_at=at + 3600,
                  payload={"event": ev.to_dict(), "template": None, "throttle": 0, "subject": "", "options": {},
                           "masked": False})
        out.append((rec, job, at + 0.3, status))
    return out


def fill_sqlite(store, rows) -> None:
    """Write the rows straight into the tables, in big transactions (the fill is not what is measured)."""
    from router.store.history_sqlite import INSERT_WEBHOOK, webhook_row
    from router.store.sqlite import _INSERT_JOB, _row

    for k in range(0, len(rows), 5000):
        chunk = rows[k:k + 5000]
        with store._tx() as conn:
            conn.executemany(INSERT_WEBHOOK, [webhook_row(r) for r, _j, _a, _s in chunk])
            conn.executemany(_INSERT_JOB, [_row(j) for _r, j, _a, _s in chunk])
            conn.executemany("insert into router_attempt (job_id, n, at, outcome, error, target) "
                             "values (?, 1, ?, ?, ?, ?)",
                             [(j.id, a, s, j.last_error, j.target) for _r, j, a, s in chunk])
    stats: dict[tuple[int, str], int] = {}
    for r, j, a, s in rows:   # the per-minute counters the worker bumps as it goes
        for key in ((int(r.created_at // 60), "webhooks"), (int(a // 60), f"{s}\t{j.target}")):
            stats[key] = stats.get(key, 0) + 1
    with store._tx() as conn:
        conn.executemany("insert into router_stat (minute, name, n) values (?, ?, ?)",
                         [(m, name, n) for (m, name), n in stats.items()])


def fill_redis(store, rows) -> None:
    """Write the rows through the store's own scripts (accept → fan_out with the record → claim → record)."""
    from router.store import Inbound

    for rec, job, at, status in rows:
        store.accept("bench:" + rec.id, 60, Inbound(rec.id, rec.created_at, rec.resource, "", rec.created_at,
                                                      "0" * 64, rec.body, "[]"), rec.created_at)
        store.fan_out(rec.id, [job.__class__(**{**job.__dict__, "status": "queued", "attempts": 0})], None, rec)
        store.claim(job.id, "bench", 60, at)
        store.record(job.id, "bench", status, at, error=job.last_error)


def timed(client, path: str, headers: dict[str, str], repeat: int) -> list[float]:
    """Milliseconds per GET, after one warm-up."""
    assert client.get(path, headers=headers).status_code == 200, path
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        resp = client.get(path, headers=headers)
        out.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, path
    return out


def main() -> None:
    """Fill, then time each page."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--webhooks", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--redis", default="", help="a Redis URL to fill and read instead of SQLite (it is flushed!)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-console-"))
    (tmp / "rules.yaml").write_text(rules_yaml())
    settings = Settings(client_secrets=("x",), admin_tokens=(TOKEN,), rules_path=str(tmp / "rules.yaml"),
                        db_path=str(tmp / "router.sqlite3"), templates_path=str(tmp / "tpl"),
                        redis_url=args.redis or None)
    from router.web.app import create_app

    app = create_app(settings)
    store = app.extensions["router"].delivery.store
    started = time.perf_counter()
    rows = records(args.webhooks)
    if args.redis:
        store.r.flushdb()
        fill_redis(store, rows)
    else:
        fill_sqlite(store, rows)
    print(f"filled {args.webhooks} webhooks ({'redis' if args.redis else 'sqlite'}) in "
          f"{time.perf_counter() - started:.0f} s; {args.repeat} timed requests per page, in-process")
    client = app.test_client()
    mid = rows[len(rows) // 2][0]
    deep = rows[len(rows) // 10][0].id            # a cursor 90 % of the way back
    pages = [("API list, newest 50", "/api/v1/webhooks", API),
             ("API list, resource filter", "/api/v1/webhooks?resource=issue", API),
             ("API list, rule filter", f"/api/v1/webhooks?rule={RULES[2]}", API),
             ("API list, issue filter", f"/api/v1/webhooks?issue_id={mid.issue_id}", API),
             ("API list, deep cursor", f"/api/v1/webhooks?before={deep}", API),
             ("API dead letters", "/api/v1/notifications?status=dead", API),
             ("API one webhook", f"/api/v1/webhooks/{mid.id}", API),
             ("console list", "/ui/webhooks", CONSOLE),
             ("console list, filtered", f"/ui/webhooks?resource=issue&rule={RULES[0]}", CONSOLE),
             ("console live poll", "/ui/webhooks/live", CONSOLE),
             ("console one webhook", f"/ui/webhooks/{mid.id}", CONSOLE),
             ("console dead letters", "/ui/notifications?status=dead", CONSOLE),
             ("console status (charts)", "/ui/status", CONSOLE)]
    print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, path, headers in pages:
        ms = sorted(timed(client, path, headers, args.repeat))
        print(f"{label:<28} {statistics.median(ms):>8.1f} {ms[int(len(ms) * 0.95) - 1]:>8.1f} {ms[-1]:>8.1f}")


if __name__ == "__main__":
    main()
