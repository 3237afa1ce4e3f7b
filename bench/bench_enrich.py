"""Enrichment's cost: the time one notification takes in the worker (render + send to the fake Slack) with and
without enrichment, and how many API calls 100 notifications make with the cache.

In one process: a Deliverer runs each job synchronously (no queue wait), FakeSlack and FakeSentryAPI over HTTP
on 127.0.0.1. Scenarios, each N comment.created notifications (comments carry no title, so every one wants
the issue's details):
- baseline: no Sentry token (no enrichment);
- API 50 ms, cache cold: every comment on a new issue, the API answering after 50 ms;
- API down: nothing listens on the API's port (after the first failure the API is left alone 30 s);
- API hung: the API answers after 5 s, past ROUTER_ENRICH_TIMEOUT (2 s);
- cache: 100 notifications about 10 issues (comments and assignments; 5 assignees known to Slack), and the
  same 100 without a token (their own baseline).
Prints p50/p99 per scenario and the added time against the baseline of the same run (the machine is shared:
compare within one run). Run: `.venv/bin/python bench/bench_enrich.py [--n 200]`.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.delivery import Outbox
from router.delivery.deliverer import Deliverer
from router.rules.model import Target
from router.sentry import SentryEvent, build
from router.settings import Settings
from tests.conftest import fixture_payload
from tests.fakes.redis_server import free_port
from tests.fakes.sentry_api import FakeSentryAPI
from tests.fakes.slack import FakeSlack
from tests.support.delivery import fan_out_all, notify

SLACK_TOKEN, API_TOKEN = "xoxb-bench-enrich", "sntrys_bench_enrich_token"
TARGET = Target(name="oncall", type="slack", options={"channel": "#oncall", "thread": "none"})


def comment(issue: int, n: int) -> SentryEvent:
    """comment.created #n on issue `issue`."""
    payload = copy.deepcopy(fixture_payload("comment.created"))
    payload["data"].update(issue_id=issue, comment_id=n, comment=f"comment {n}")
    return build("comment", payload, received_at=time.time())


def assigned(issue: int, n: int) -> SentryEvent:
    """issue.assigned of issue `issue` to user n % 5 (email in the payload)."""
    payload = copy.deepcopy(fixture_payload("issue.assigned"))
    payload["data"]["issue"]["id"] = str(issue)
    payload["data"]["assignee"] = {"type": "user", "id": str(n % 5), "name": f"User {n % 5}",
                                   "email": f"user{n % 5}@example.com"}
    return build("issue", payload, received_at=time.time())


def run(tmp: Path, slack: FakeSlack, api_url: str | None, events: list[SentryEvent]) -> list[float]:
    """Seconds each notification took in the worker (claim → enrich → render → send → record)."""
    extra: dict[str, Any] = {"sentry_api_url": api_url, "sentry_api_token": API_TOKEN} if api_url else {}
    settings = Settings(db_path=str(tmp / f"r{time.monotonic_ns()}.sqlite3"), rules_path=str(tmp / "none.yaml"),
                        slack_bot_token=SLACK_TOKEN, slack_api_url=slack.url, templates_path=str(tmp / "t"),
                        **extra)
    delivery = Outbox.from_settings(settings)
    deliverer = Deliverer(settings, delivery.store, owner="bench")
    delivery.store.kv_set("hb:bench", "1")
    took = []
    for ev in events:
        accepted = delivery.accept(ev, notify(TARGET), 0, 0)
        fan_out_all(delivery)
        (job,) = delivery.store.jobs(1, (), accepted.webhook_id)
        start = time.perf_counter()
        deliverer(job.id)
        took.append(time.perf_counter() - start)
    return took


def pct(values: list[float], q: float) -> float:
    """The q-quantile, in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="notifications per scenario")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d, FakeSlack(token=SLACK_TOKEN) as slack, \
            FakeSentryAPI(delay=0.05) as api, FakeSentryAPI(delay=5.0) as hung:
        tmp = Path(d)
        for fake in (api, hung):
            fake.static_token(API_TOKEN)
            for i in range(args.n):
                fake.add_issue(str(1000 + i), {"title": f"Issue {i}", "shortId": f"API-{i}",
                                               "permalink": f"https://acme.sentry.io/issues/{1000 + i}/"})
        for u in range(5):
            slack.add_user(f"user{u}@example.com", f"U0USER{u}")
        cold = [comment(1000 + i, i) for i in range(args.n)]
        results = {
            "baseline (no token)": run(tmp, slack, None, cold),
            "API 50 ms, cache cold": run(tmp, slack, api.url, cold),
            "API down (port closed)": run(tmp, slack, f"http://127.0.0.1:{free_port()}", cold),
            "API hung (5 s > 2 s timeout)": run(tmp, slack, hung.url, cold[:10]),
        }
        calls_before = len(api.requests("issue"))
        lookups_before = len(slack.calls("users.lookupByEmail"))
        mixed = [comment(1000 + i % 10, i) if i % 2 else assigned(1000 + i % 10, i) for i in range(100)]
        results["cache: 100 on 10 issues"] = run(tmp, slack, api.url, mixed)
        results["  same 100, no token"] = run(tmp, slack, None, mixed)
        api_calls = len(api.requests("issue")) - calls_before
        lookups = len(slack.calls("users.lookupByEmail")) - lookups_before
    print(f"{'scenario':32} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'added p50':>10}")
    for name, took in results.items():
        base = statistics.median(results["  same 100, no token" if name.startswith("cache") else
                                         "baseline (no token)"]) * 1000
        p50 = statistics.median(took) * 1000
        print(f"{name:32} {len(took):4d} {p50:8.1f} {pct(took, 0.99):8.1f} {p50 - base:+10.1f}")
    print(f"API calls per 100 notifications with the cache (10 issues, comments and assignments): "
          f"{api_calls} issue reads, {lookups} users.lookupByEmail")
    print("(shared machine: compare within this run)")


if __name__ == "__main__":
    main()
