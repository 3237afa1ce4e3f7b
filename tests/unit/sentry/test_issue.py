"""Issue facts (router/sentry/issue.py, render/issue_ref.py, delivery/issue_memory.py): a comment, Seer run or
issue state change names and links its issue from the payload, else from an earlier webhook, else SENTRY_URL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from router import sentry
from router.delivery import issue_memory
from router.render.issue_ref import lookup_issue
from router.sentry.issue import IssueFacts
from router.settings import Settings
from router.store import Store
from router.store.redis import RedisStore
from router.store.sqlite import SqliteStore
from tests.fakes.fixtures import fake_slack  # noqa: F401  (fixture)
from tests.fakes.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.realshape import load
from tests.support.delivery import notify, running_worker, slack_target, wait_for, worker_settings

ISSUE_PAGE = "https://acme.sentry.io/issues/6021374455/"


def _event(name: str) -> sentry.SentryEvent:
    resource, payload = load(name)
    return sentry.build(resource, payload, received_at=time.time())


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store of each kind."""
    if request.param == "sqlite":
        yield SqliteStore(str(tmp_path / "router.sqlite3"))
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        yield RedisStore(server.url)


def test_facts_are_remembered_and_merged_across_webhooks(store: Store) -> None:
    """issue.created gives title, short id and page; a later state webhook (no page) keeps the page."""
    issue_memory.remember(store, _event("issue.created"))
    issue_memory.remember(store, _event("issue.resolved.in_release"))
    issue_memory.remember(store, _event("comment.created"))  # tells nothing: changes nothing
    recalled = issue_memory.recall(store)("6021374455")
    assert recalled == IssueFacts("KeyError: 'customer_id'", "API-3K", ISSUE_PAGE)
    assert issue_memory.recall(store)("404") is None


@pytest.mark.parametrize("sources, sentry_url, expected", [
    ([], None, IssueFacts(None, None, None)),
    ([], "https://acme.sentry.io/", IssueFacts(None, None, ISSUE_PAGE)),
    ([lambda iid: IssueFacts("Remembered", "API-3K", "https://x.test/i/")], "https://acme.sentry.io",
     IssueFacts("Remembered", "API-3K", "https://x.test/i/")),
    ([lambda iid: IssueFacts("First", None, None), lambda iid: IssueFacts("Second", "API-9", None)],
     "https://acme.sentry.io", IssueFacts("First", "API-9", ISSUE_PAGE)),
    ([lambda iid: 1 / 0, lambda iid: IssueFacts("After a failing source", None, None)], None,
     IssueFacts("After a failing source", None, None)),
])
def test_the_chain_payload_then_sources_then_sentry_url(sources, sentry_url, expected) -> None:
    """Missing facts come from each source in order (one that raises is skipped), the page last from SENTRY_URL."""
    assert lookup_issue(_event("comment.created"), sources, sentry_url) == expected


def test_the_payload_wins_over_sources() -> None:
    """An activity alert carries its issue's title and page: no source is asked."""
    asked = []
    facts = lookup_issue(_event("activity_alert.status_regression"), [lambda iid: asked.append(iid)], None)
    assert facts == IssueFacts("KeyError: 'customer_id'", "API-3K", ISSUE_PAGE) and asked == []


def test_no_issue_no_facts_and_never_a_bare_organisation_link() -> None:
    """An installation concerns no issue; with only SENTRY_URL its message has no link rather than the org root."""
    event = _event("installation.created")
    assert lookup_issue(event, [], "https://acme.sentry.io") is None
    assert sentry.issue_link(event, "https://acme.sentry.io") is None


def test_a_comment_after_issue_created_names_and_links_the_issue(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """Through the worker: the comment's Slack message shows the issue's title and its page (from issue.created)."""
    settings: Settings = worker_settings(tmp_path, fake_slack.url)
    target = slack_target()
    with running_worker(settings) as delivery:
        delivery.accept(_event("issue.created"), notify(target), 1200, 0)
        wait_for(lambda: len(fake_slack.calls("chat.postMessage")) == 1)
        delivery.accept(_event("comment.created"), notify(target), 1200, 0)
        wait_for(lambda: len(fake_slack.calls("chat.postMessage")) == 2)
    comment = json.dumps(fake_slack.calls("chat.postMessage")[1].params, ensure_ascii=False)
    assert "KeyError: 'customer_id'" in comment and ISSUE_PAGE in comment and "Looking into it" in comment
