"""A Sentry storm into one Slack channel that enforces Slack's rate (issue 16): calls, 429s, time, lost, doubled.

60 new issues plus 9 errors each (600 webhooks in about 3 s), every one routed to `#oncall` (`thread: issue`),
through the real worker (in this process, 8 threads, SQLite store) to FakeSlack over HTTP in its rate-enforcing
mode (per channel a burst of 5, then 1 chat.postMessage per second, 429 `Retry-After: 1` beyond). Measures:
Slack calls, 429s received, seconds from the first webhook until every issue is shown (its card is in the
channel) and until every notification is in a sent message (ledger `sent`, and its title in a message Slack
holds), and what was lost (never shown) or doubled (shown in two messages). Stops after `--limit` seconds.

Run: `.venv/bin/python bench/bench_storm.py [--limit 300] [--no-pacing]` (`--no-pacing`: before).
Wall-clock figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.settings import Settings
from router.store import DEAD, SENT
from tests.fakes.slack import SLACK_RATE, FakeSlack
from tests.support.delivery import notify, running_worker
from tests.support.threads import about, threaded_target

TOKEN = "xoxb-bench"
ISSUES, ERRORS, SECONDS = 60, 9, 3.0


def storm() -> list:
    """The webhooks in arrival order: each issue's `created`, then its errors."""
    events = []
    for i in range(ISSUES):
        issue = str(7000 + i)
        events += [about(issue)] + [about(issue, "error", n=n) for n in range(ERRORS)]
    return events


TITLE = re.compile(r"Thread test (\d+)(?: error (\d+))?")


def shown(slack: FakeSlack) -> tuple[set[str], Counter]:
    """Issues whose card is in the channel; how many messages show each notification (issue, error n or -1)."""
    cards, seen = set(), Counter()
    for message in slack.messages().values():
        text = json.dumps([message.get("text"), message.get("blocks")], ensure_ascii=False)
        found = {(m.group(1), int(m.group(2)) if m.group(2) else -1) for m in TITLE.finditer(text)}
        seen.update(found)
        if not message.get("thread_ts"):
            cards.update(issue for issue, _ in found)
    return cards, seen


def run(limit: float, pacing: bool = True) -> dict[str, object]:
    """One storm against a fresh FakeSlack and store; the figures."""
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(token=TOKEN, rate=SLACK_RATE) as slack:
        settings = Settings(db_path=f"{tmp}/router.sqlite3", rules_path=f"{tmp}/none.yaml", slack_bot_token=TOKEN,
                            slack_api_url=slack.url, templates_path=f"{tmp}/templates", worker_heartbeat=5.0,
                            **({} if pacing else {"slack_rate": 0.0}))
        result = notify(threaded_target())
        events = storm()
        with running_worker(settings, threads=settings.worker_threads) as delivery:
            start = time.time()
            for k, event in enumerate(events):
                time.sleep(max(0.0, start + k * SECONDS / len(events) - time.time()))
                delivery.accept(event, result, 1200, 0)
            all_shown = all_sent = None
            while time.time() - start < limit:
                time.sleep(1.0)
                cards, seen = shown(slack)
                if all_shown is None and len(cards) == ISSUES:
                    all_shown = time.time() - start
                jobs = delivery.store.jobs(10_000)
                done = len(jobs) == len(events) and all(j.status in (SENT, DEAD) for j in jobs)
                if done and all_sent is None and all(j.status == SENT for j in jobs) and len(seen) == len(events):
                    all_sent = time.time() - start
                if done:
                    break
            elapsed = time.time() - start
            jobs = delivery.store.jobs(10_000)
        cards, seen = shown(slack)
        statuses = Counter(j.status for j in jobs)
        return {"webhooks": len(events), "slack calls": len(slack.calls()),
                "chat.postMessage": len(slack.calls("chat.postMessage")),
                "chat.update": len(slack.calls("chat.update")),
                "429s": len(slack.rate_limited()), "issues shown": f"{len(cards)}/{ISSUES}",
                "s until all shown": _s(all_shown), "s until all sent": _s(all_sent),
                "ledger": dict(statuses), "lost": len(events) - len(seen),
                "doubled": sum(1 for n in seen.values() if n > 1), "ran (s)": round(elapsed, 1)}


def _s(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "never"


def main() -> None:
    """Run the storm once and print its figures as a table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=300.0, help="stop measuring after this many seconds")
    parser.add_argument("--no-pacing", action="store_true",
                        help="ROUTER_SLACK_RATE=0: every notification on its own, as before pacing")
    args = parser.parse_args()
    row = run(args.limit, pacing=not args.no_pacing)
    print("| " + " | ".join(row) + " |")
    print("|" + " ---: |" * len(row))
    print("| " + " | ".join(str(v) for v in row.values()) + " |")


if __name__ == "__main__":
    main()
