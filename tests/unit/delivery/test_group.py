"""Grouping (`group: {by, wait, interval}`, DESIGN 3.4): one digest per group and window, through the real worker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from router.delivery.fanout import group_of
from router.rules.load import RulesError, load_rules_text
from router.rules.model import GroupBy, MatchResult, Notification, Rule, Target
from router.sentry import build
from router.store import QUEUED, SENT
from tests.fakes.fixtures import SLACK_TOKEN
from tests.fakes.slack import SLACK_RATE, FakeSlack
from tests.support.delivery import jobs_of, running_worker, slack_target, wait_for, worker_settings
from tests.support.threads import issue_payload, threaded_target

RULES = """version: 1
targets:
  log: {type: console}
rules:
  - name: by-project
    match: {resource: issue}
    notify: [log]
    group: {by: [project, tags.browser], wait: 10s, interval: 1h}
  - name: defaults
    match: {}
    notify: [log]
    group: {}
"""


def event(n: int, project: str) -> object:
    """issue.created number `n` in `project`."""
    payload = issue_payload(str(5000 + n))
    payload["data"]["issue"]["project"]["slug"] = project
    payload["data"]["issue"]["title"] = f"grouped {project} {n}"
    return build("issue", payload, received_at=time.time())


def grouped(target: Target, wait: float = 1.0, interval: float = 3600.0) -> MatchResult:
    """A match result for one rule grouped by project."""
    rule = Rule(name="storm", match=None, notify=(target.name,), group=GroupBy(("project",), wait, interval))
    return MatchResult(matched=("storm",), notifications=(Notification(rule, target),))


def test_group_is_read_with_defaults() -> None:
    """`group:` compiles to its paths and durations; an empty mapping groups a rule's notifications by target."""
    rules = load_rules_text(RULES, "rules.yaml")
    assert rules.rules[0].group == GroupBy(("project", "tags.browser"), 10.0, 3600.0)
    assert rules.rules[1].group == GroupBy((), 30.0, 300.0)


@pytest.mark.parametrize("group, message", [
    ("{by: [projct]}", 'rules.yaml:8: rule "r": group.by.0: unknown field'),
    ("{by: project, wait: soon}", 'rules.yaml:8: rule "r": group.wait: bad duration "soon"'),
    ("{by: project, every: 5m}", 'rules.yaml:8: rule "r": group.every: unknown key'),
    ("{by: [1, 2]}", 'rules.yaml:8: rule "r": group.by: expected a path or shortcut, or a list of them'),
    ("[project]", 'rules.yaml:8: rule "r": group: expected a mapping with by:, wait: and interval:'),
])
def test_a_bad_group_is_a_load_error_naming_where(group: str, message: str) -> None:
    """`check` reports a bad `group:` with file, line, rule and key path."""
    text = "version: 1\ntargets:\n  log: {type: console}\nrules:\n  - name: r\n    match: {}\n    notify: [log]\n" \
           f"    group: {group}\n"
    with pytest.raises(RulesError) as err:
        load_rules_text(text, "rules.yaml")
    assert message in str(err.value)


def test_group_key_names_each_path_and_value() -> None:
    """The group key is `path=value` per `by` path, `-` for a value the event lacks."""
    group = {"by": ["project", "tags.nothing"], "wait": 1.0, "interval": 2.0}
    assert group_of(event(1, "api"), group) == {**group, "key": "project=api, tags.nothing=-"}


@pytest.mark.slow
def test_one_digest_per_group_and_window(tmp_path: Path) -> None:
    """Notifications of one grouped rule within `wait` go out as one message per group (project) listing every
    item; each ledger entry names its message; a later one waits for `interval`; no Slack 429."""
    with FakeSlack(token=SLACK_TOKEN, rate=SLACK_RATE) as slack:
        settings = worker_settings(tmp_path, slack.url)
        target = threaded_target()     # a group's digest goes top level even where single ones would thread
        with running_worker(settings) as delivery:
            specs = [(n, "api") for n in range(4)] + [(n, "web") for n in range(4, 6)]
            accepted = {n: delivery.accept(event(n, p), grouped(target, wait=3.0), 1200, 0) for n, p in specs}
            ids = {n: jobs_of(delivery, a)[0] for n, a in accepted.items()}
            jobs = wait_for(lambda: (js := {n: delivery.store.get(i) for n, i in ids.items()}) and
                            all(j.status == SENT for j in js.values()) and js, timeout=30)
            late = jobs_of(delivery, delivery.accept(event(9, "api"), grouped(target), 1200, 0))[0]
            waiting = wait_for(lambda: (j := delivery.store.get(late)) and j.status == QUEUED and
                               j.next_at > time.time() + 60 and j)   # given back to wait for its group's time
        assert slack.rate_limited() == []
        top = {m["ts"]: json.dumps(m, ensure_ascii=False) for m in slack.top_level()}
        assert len(top) == 2 and len(slack.calls("chat.postMessage")) == 2
        for n, p in specs:
            text = top[jobs[n].receipt["ts"]]
            assert f"grouped {p} {n}" in text and f"project={p}" in text
            assert jobs[n].receipt["kind"] == "digest"
        assert waiting.next_at >= jobs[0].updated_at + 3000


def test_without_group_nothing_waits(tmp_path: Path) -> None:
    """A rule without `group` sends each notification on its own, at once (as before)."""
    with FakeSlack(token=SLACK_TOKEN) as slack:
        settings = worker_settings(tmp_path, slack.url)
        target = slack_target()
        rule = Rule(name="plain", match=None, notify=(target.name,))
        result = MatchResult(matched=("plain",), notifications=(Notification(rule, target),))
        with running_worker(settings) as delivery:
            ids = [jobs_of(delivery, delivery.accept(event(n, "api"), result, 1200, 0))[0] for n in range(2)]
            wait_for(lambda: all(delivery.store.get(i).status == SENT for i in ids))
        assert len(slack.calls("chat.postMessage")) == 2
        assert all(delivery.store.get(i).receipt.get("kind") != "digest" for i in ids)
