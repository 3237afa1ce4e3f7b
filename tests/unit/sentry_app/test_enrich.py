"""Enrichment in the worker against a fake Sentry API and the fake Slack on 127.0.0.1: issue facts for webhooks
that lack them, a real <@U…> mention for the assignee, and the notification still going out (within the
timeout) when the API is down or slow, or when there is no token (DESIGN 3.5)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from router.rules.load import load_rules
from router.rules.match import match
from router.sentry import SentryEvent, build
from router.settings import Settings
from router.store import SENT
from tests.conftest import fixture_payload
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.sentry_api import FakeSentryAPI
from tests.fakes.slack import FakeSlack
from tests.support.delivery import jobs_of, running_worker, wait_for

API_TOKEN = "sntrys_internal_enrich_token_0001"
ISSUE = {"title": "ZeroDivisionError: division by zero", "shortId": "API-7Q",
         "permalink": "https://acme.sentry.io/issues/100/", "assignedTo": {"type": "user", "name": "Person",
                                                                         "email": "person@example.com"}}
RULES = """\
version: 1
targets:
  oncall: {type: slack, channel: "#oncall", thread: THREAD}
rules:
  - name: all
    match: {}
    notify: [oncall]
"""


@pytest.fixture
def sentry() -> Iterator[FakeSentryAPI]:
    """A fake Sentry API that knows issue 100 and 123 and accepts API_TOKEN."""
    with FakeSentryAPI() as fake:
        fake.static_token(API_TOKEN)
        fake.add_issue("100", ISSUE)
        fake.add_issue("123", {**ISSUE, "title": "Error #1", "shortId": "IPE-1"})
        yield fake


def make_settings(tmp_path: Path, slack: FakeSlack, sentry: FakeSentryAPI | None, thread: str = "none",
                  **extra: Any) -> Settings:
    """Worker settings: FakeSlack, the fake API (with an internal token) unless `sentry` is None."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("THREAD", thread))
    api = {"sentry_api_url": sentry.url, "sentry_api_token": API_TOKEN} if sentry else {}
    return Settings(db_path=str(tmp_path / "router.sqlite3"), rules_path=str(rules), slack_bot_token=SLACK_TOKEN,
                    slack_api_url=slack.url, templates_path=str(tmp_path / "t"), retry_base=0.2,
                    enrich_timeout=1.0, **{**api, **extra})


def event(name: str, **data: Any) -> SentryEvent:
    """A fixture webhook with some `data` fields replaced."""
    payload = copy.deepcopy(fixture_payload(name))
    payload["data"].update(data)
    return build(name.split(".")[0], payload, received_at=time.time())


def deliver(settings: Settings, *events: SentryEvent) -> list[float]:
    """Accept each event in turn, wait until it is sent; the seconds each took from acceptance to sent."""
    rules = load_rules(settings.rules_path)
    took = []
    with running_worker(settings) as delivery:
        for ev in events:
            start = time.monotonic()
            accepted = delivery.accept(ev, match(rules, ev), 0, 0)
            job_id = jobs_of(delivery, accepted)[0]
            wait_for(lambda: (j := delivery.store.get(job_id)) and j.status == SENT, timeout=15)  # noqa: B023 - waited on here
            took.append(time.monotonic() - start)
    return took


def posted_text(slack: FakeSlack, index: int = -1) -> str:
    """Everything a chat.postMessage carried (text and blocks), as one string."""
    params = slack.calls("chat.postMessage")[index].params
    return json.dumps({"text": params.get("text"), "blocks": params.get("blocks")}, ensure_ascii=False)


def test_a_comment_gets_the_issue_title_short_id_and_link(tmp_path: Path, fake_slack: FakeSlack,
                                                          sentry: FakeSentryAPI) -> None:
    """comment.created carries no title: the card shows the issue's title, short id and link from the API."""
    deliver(make_settings(tmp_path, fake_slack, sentry), event("comment.created"))
    text = posted_text(fake_slack)
    assert ISSUE["title"] in text and "API-7Q" in text and ISSUE["permalink"] in text
    (call,) = sentry.requests("issue")
    assert call.path == "/api/0/issues/100/" and call.headers["authorization"] == f"Bearer {API_TOKEN}"


def test_without_a_token_the_comment_goes_out_as_it_is(tmp_path: Path, fake_slack: FakeSlack,
                                                       sentry: FakeSentryAPI) -> None:
    """No SENTRY_API_TOKEN nor installation token: no API call, the notification without the issue's title."""
    deliver(make_settings(tmp_path, fake_slack, None, sentry_api_url=sentry.url), event("comment.created"))
    assert sentry.calls == [] and ISSUE["title"] not in posted_text(fake_slack)


def test_cached_issue_facts_are_not_fetched_again(tmp_path: Path, fake_slack: FakeSlack, sentry: FakeSentryAPI) -> None:
    """Three comments on one issue: one API call (the facts are cached for ROUTER_ENRICH_TTL)."""
    comments = [event("comment.created", comment_id=i, comment=f"comment {i}") for i in range(3)]
    deliver(make_settings(tmp_path, fake_slack, sentry), *comments)
    assert len(sentry.requests("issue")) == 1
    assert all(ISSUE["title"] in posted_text(fake_slack, i) for i in range(3))


def test_the_assignee_is_mentioned_on_slack(tmp_path: Path, fake_slack: FakeSlack, sentry: FakeSentryAPI) -> None:
    """issue.assigned: the assignee's email → users.lookupByEmail → `<@U…>` in the card's thread reply and its
    status line (and the Slack user is looked up once for two assignments)."""
    fake_slack.add_user("person@example.com", "U0PERSON1")
    settings = make_settings(tmp_path, fake_slack, sentry, thread="issue")
    created = event("issue.created", issue={**fixture_payload("issue.assigned")["data"]["issue"], "id": "123"})
    deliver(settings, created, event("issue.assigned"), event("issue.assigned", assignee={"type": "user",
                                                                                          "name": "Person"}))
    card_ts = fake_slack.calls("chat.postMessage")[0].params.get("ts") or fake_slack.top_level()[0]["ts"]
    replies = fake_slack.replies(card_ts)
    assert replies and "Issue assigned to <@U0PERSON1>" in json.dumps(replies[0]["blocks"])
    card = json.dumps(fake_slack.calls("chat.update")[-1].params["blocks"])
    assert "Assigned to <@U0PERSON1>" in card and "&lt;@" not in card     # the card's status line
    assert len(fake_slack.calls("users.lookupByEmail")) == 1


def test_unknown_slack_user_means_no_mention(tmp_path: Path, fake_slack: FakeSlack, sentry: FakeSentryAPI) -> None:
    """An assignee Slack does not know is named as text, never as a made-up mention."""
    deliver(make_settings(tmp_path, fake_slack, sentry), event("issue.assigned"))
    assert "<@" not in posted_text(fake_slack) and "Person" in posted_text(fake_slack)


@pytest.mark.parametrize("fault", ["down", "slow"])
def test_api_down_or_slow_still_sends_within_the_timeout(tmp_path: Path, fake_slack: FakeSlack,
                                                         sentry: FakeSentryAPI, fault: str) -> None:
    """With the API answering 503 or slower than ROUTER_ENRICH_TIMEOUT (1 s), the notification goes out anyway,
    within a few seconds, and the next one does not wait for the API again."""
    if fault == "down":
        sentry.down = True
    else:
        sentry.delay = 3.0
    took = deliver(make_settings(tmp_path, fake_slack, sentry), event("comment.created"),
                   event("comment.created", comment_id=2, comment="again"))
    assert len(fake_slack.calls("chat.postMessage")) == 2 and ISSUE["title"] not in posted_text(fake_slack)
    assert took[0] < 4.0 and len(sentry.requests("issue")) == 1


def test_facts_remembered_from_an_earlier_webhook_cost_no_api_call(tmp_path: Path, fake_slack: FakeSlack,
                                                                    sentry: FakeSentryAPI) -> None:
    """The API is the last source of the issue chain: after issue.created told the facts, a comment on that
    issue names it without asking Sentry."""
    created = event("issue.created", issue={**fixture_payload("issue.created")["data"]["issue"], "id": "100",
                                            "title": "Remembered title"})
    deliver(make_settings(tmp_path, fake_slack, sentry), created, event("comment.created"))
    assert sentry.requests("issue") == [] and "Remembered title" in posted_text(fake_slack)
