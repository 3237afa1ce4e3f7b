"""Slack API calls and channel noise per issue lifecycle: `thread: none` (before) vs `thread: issue` (after).

Lifecycle: issue.created → 10 × error.created → issue.assigned → issue.resolved, sent one by one through the
real worker (in this process, SQLite store) to FakeSlack over HTTP. Run: `.venv/bin/python bench/bench_threads.py`.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.settings import Settings
from tests.fakes.slack import FakeSlack
from tests.support.delivery import running_worker
from tests.support.threads import about, send, threaded_target

TOKEN = "xoxb-bench"
ERRORS = 10


def lifecycle(issue_id: str) -> list:
    """The events of one issue's life, in order."""
    return ([about(issue_id)] + [about(issue_id, "error", n=i) for i in range(ERRORS)]
            + [about(issue_id, action="assigned", assignee={"type": "user", "name": "Dana"}),
               about(issue_id, action="resolved")])


def measure(thread: str, broadcast: tuple[str, ...] = ()) -> dict[str, int]:
    """Run one lifecycle against a fresh FakeSlack; calls by method and what the channel shows."""
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(token=TOKEN) as slack:
        settings = Settings(db_path=f"{tmp}/router.sqlite3", rules_path=f"{tmp}/none.yaml",
                            slack_bot_token=TOKEN, slack_api_url=slack.url,
                            templates_path=f"{tmp}/templates")
        target = threaded_target(thread=thread, broadcast=broadcast)
        with running_worker(settings) as delivery:
            for event in lifecycle("9401"):
                send(delivery, event, target)
        methods = Counter(c.method for c in slack.calls())
        top = slack.top_level()
        return {"api calls": sum(methods.values()), "chat.postMessage": methods["chat.postMessage"],
                "chat.update": methods["chat.update"], "top-level messages": len(top),
                "thread replies": sum(1 for m in slack.messages().values() if m.get("thread_ts"))}


def main() -> None:
    """Print one table row per mode."""
    rows = {"thread: none (before)": measure("none"), "thread: issue (after)": measure("issue"),
            "thread: issue, broadcast: [resolved]": measure("issue", ("resolved",))}
    cols = list(next(iter(rows.values())))
    print(f"per lifecycle: created → {ERRORS} errors → assigned → resolved ({ERRORS + 3} notifications)\n")
    print("| mode | " + " | ".join(cols) + " |")
    print("| --- |" + " ---: |" * len(cols))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(str(row[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
