"""Helpers shared by the delivery tests: events, notifications, an in-process worker, polling."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from router.delivery import Accepted, Outbox
from router.rules.model import MatchResult, Notification, Rule, Target
from router.sentry import SentryEvent, build
from router.settings import Settings
from router.worker import Worker
from tests.conftest import fixture_payload


def issue_event(n: int, action: str = "created", title: str | None = None) -> SentryEvent:
    """issue.<action> about issue id 9000+n, titled `title` (default "issue-n")."""
    payload = copy.deepcopy(fixture_payload("issue.created"))
    payload["action"] = action
    payload["data"]["issue"]["id"] = str(9000 + n)
    payload["data"]["issue"]["title"] = title or f"issue-{n}"
    return build("issue", payload, received_at=time.time())


def notify(*targets: Target, rule: str = "r", throttle: float | None = None) -> MatchResult:
    """A match result sending to `targets` through one rule."""
    r = Rule(name=rule, match=None, notify=tuple(t.name for t in targets), throttle=throttle)
    return MatchResult(matched=(rule,), notifications=tuple(Notification(r, t) for t in targets))


def slack_target(name: str = "oncall", channel: str = "#oncall") -> Target:
    """A Web API slack target with thread: none."""
    return Target(name=name, type="slack", options={"channel": channel, "thread": "none"})


def worker_settings(tmp_path: Path, slack_url: str, **overrides: Any) -> Settings:
    """Settings for delivery tests: a private SQLite store, no rules file, FakeSlack at `slack_url`, fast retries."""
    from tests.fakes.fixtures import SLACK_TOKEN

    base: dict[str, Any] = dict(db_path=str(tmp_path / "var" / "router.sqlite3"),
                                rules_path=str(tmp_path / "none.yaml"),
                                slack_bot_token=SLACK_TOKEN, slack_api_url=slack_url,
                                templates_path=str(tmp_path / "templates"), retry_base=0.2, retry_deadline=60.0,
                                worker_heartbeat=2.0)
    return Settings(**{**base, **overrides})


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, every: float = 0.02) -> Any:
    """Poll until `predicate()` is truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(every)


def jobs_of(delivery: Outbox, accepted: Accepted, timeout: float = 10.0) -> list[str]:
    """The job ids of an accepted webhook, once the running worker has fanned it out."""
    return wait_for(lambda: [j.id for j in delivery.store.jobs(100, (), accepted.webhook_id)], timeout=timeout)


def fan_out_all(delivery: Outbox) -> int:
    """Fan out every accepted webhook now, as a worker would; how many had jobs to write."""
    waiting = delivery.store.due_inbound(time.time() + 1, 3600, 10_000)
    return sum(bool(delivery.fan_out(webhook_id)) for webhook_id in waiting)


@contextmanager
def running_worker(settings: Settings, threads: int = 4) -> Iterator[Outbox]:
    """A delivery worker (real sender threads and the inbox poller, no sweeper) in this process, stopped on exit."""
    worker = Worker(settings, "test-worker", threads, sweep=False)
    worker.outbox.store.kv_set("hb:test-worker", "1")
    worker.start()
    try:
        yield worker.outbox
    finally:
        worker.stop()
