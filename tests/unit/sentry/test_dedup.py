"""The dedup key (router/sentry/dedup.py): retries of one delivery share it, different real events do not."""

from __future__ import annotations

import pytest

from router import sentry
from tests.realshape import DISTINCT_PAIRS, NAMES, SAME_EVENT_PAIRS, load, retried, sentry_bytes


def _key(name: str, retry: bool = False) -> str:
    resource, payload = load(name)
    return sentry.parse(sentry_bytes(retried(payload) if retry else payload), resource).dedup_key


@pytest.mark.parametrize("a,b", DISTINCT_PAIRS)
def test_different_events_on_one_subject_get_different_keys(a: str, b: str) -> None:
    """Each SENTRY.md pair (same subject, a different thing that happened) has two keys."""
    ra, pa = load(a)
    rb, pb = load(b)
    assert sentry.parse(sentry_bytes(pa), ra).subject_id == sentry.parse(sentry_bytes(pb), rb).subject_id
    assert _key(a) != _key(b)


@pytest.mark.parametrize("name", NAMES)
def test_a_reserialised_retry_keeps_the_key(name: str) -> None:
    """A retry whose issue counters, times and key order moved is the same delivery."""
    assert _key(name, retry=True) == _key(name)


@pytest.mark.parametrize("a,b", SAME_EVENT_PAIRS)
def test_issue_ignored_and_archived_of_one_archive_share_a_key(a: str, b: str) -> None:
    """The legacy alias: one archive sent as issue.ignored and issue.archived is one event."""
    assert _key(a) == _key(b)


@pytest.mark.parametrize("resource,payload,expected", [
    ("issue", {"action": "created", "data": {"issue": {"id": "7", "count": "3"}}}, "issue:created:7"),
    ("error", {"action": "created", "data": {"error": {"event_id": "ab"}}}, "error:created:ab"),
    ("installation", {"action": "deleted", "data": {"installation": {"uuid": "u"}}}, "installation:deleted:u"),
])
def test_keys_without_distinguishing_fields_stay_as_before(resource: str, payload: dict, expected: str) -> None:
    """Webhooks whose subject alone says what happened keep the key earlier versions stored."""
    assert sentry.build(resource, payload).dedup_key == expected


def test_unknown_resource_without_subject_ignores_moving_fields() -> None:
    """A resource Sentry adds later is keyed by its data without counters, so a re-serialised retry matches."""
    a = sentry.build("release", {"action": "created", "data": {"version": "1.2", "count": 3}})
    b = sentry.build("release", {"action": "created", "data": {"count": 9, "version": "1.2"}})
    c = sentry.build("release", {"action": "created", "data": {"version": "1.3", "count": 3}})
    assert a.dedup_key == b.dedup_key != c.dedup_key


def test_huge_integers_in_distinguishing_fields_are_keyed_exactly() -> None:
    """Integers beyond 64 bits (orjson refuses them) still give a key, different from a neighbour's."""
    a = sentry.build("seer", {"action": "iteration_completed", "data": {"run_id": 1, "iteration_index": 2**70}})
    b = sentry.build("seer", {"action": "iteration_completed", "data": {"run_id": 1, "iteration_index": 2**70 + 1}})
    assert a.dedup_key != b.dedup_key


def _resolved(details: dict) -> str:
    payload = {"action": "resolved", "actor": {"type": "user", "id": 17},
               "data": {"resolution_type": "in_commit", "issue": {"id": "7", "statusDetails": details}}}
    return sentry.build("issue", payload).dedup_key


def test_resolved_in_two_commits_differ_but_the_resolver_moving_does_not_split() -> None:
    """statusDetails tells resolutions apart by what was resolved in; its `actor` (a user whose lastActive moves)
    and the commit's other fields are not part of the key."""
    a = _resolved({"inCommit": {"id": "abc", "dateCreated": "t1"}, "actor": {"id": "17", "lastActive": "t1"}})
    again = _resolved({"inCommit": {"id": "abc", "dateCreated": "t2"}, "actor": {"id": "17", "lastActive": "t9"}})
    b = _resolved({"inCommit": {"id": "def", "dateCreated": "t1"}, "actor": {"id": "17", "lastActive": "t1"}})
    assert a == again != b


def test_two_seer_results_of_one_run_differ() -> None:
    """A second coding result of one Seer run (another change) is not a retry of the first."""
    _, payload = load("seer.coding_completed.no_branch")
    other = {**payload, "data": {**payload["data"], "changes": [{"repo_name": "acme/api", "title": "fix: v2"}]}}
    assert sentry.build("seer", payload).dedup_key != sentry.build("seer", other).dedup_key
