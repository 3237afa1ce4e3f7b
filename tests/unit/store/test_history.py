"""The history the console reads (webhooks, attempts, activity), table-driven over SQLite and a real redis-server."""

from __future__ import annotations

import pytest

from router.store import DEAD, RETRYING, SENDING, SENT, Inbound, Store, new_id
from router.store.history import WebhookQuery, WebhookRecord
from tests.fakes.redis_server import redis_server  # noqa: F401  (fixture)
from tests.unit.store.test_store import NOW, job, store  # noqa: F401  (fixture)


def webhook(n: int, resource: str = "issue", action: str = "created", matched: tuple[str, ...] = ("r",),
            at: float = NOW) -> WebhookRecord:
    """A history record about issue n, made at `at` + n µs (ids sort by time)."""
    wid = f"{int((at + n / 1e6) * 1e6):013x}{n:07x}"
    return WebhookRecord(id=wid, created_at=at + n / 1e6, resource=resource, action=action, title=f"t{n}",
                         project="p" if n % 2 else "q", issue_id=str(n), matched=matched, request_id=f"req{n}",
                         body=b'{"n":%d}' % n)


def fan(store: Store, rec: WebhookRecord, jobs: list = ()) -> None:
    """Accept an inbound webhook and fan it out with its history record, as ingest and the worker do."""
    assert store.accept(new_id(), 60, Inbound(rec.id, rec.created_at, rec.resource, "req", rec.created_at,
                                              "ab" * 32, rec.body, "[]"), rec.created_at)
    assert store.fan_out(rec.id, list(jobs), rec)


def test_fan_out_writes_history_with_body(store: Store) -> None:
    """The fan-out records the webhook: its summary in lists, its body on its own."""
    rec = webhook(1)
    fan(store, rec)
    assert store.webhooks(WebhookQuery()) == [WebhookRecord(**{**rec.__dict__, "body": b""})]
    assert store.webhook(rec.id) == rec and store.webhook("nope") is None


@pytest.mark.parametrize("filters, expected", [
    ({}, [5, 4, 3, 2, 1, 0]), ({"resource": "comment"}, [5]), ({"action": "resolved"}, [4]),
    ({"rule": "b"}, [3, 2]), ({"issue_id": "2"}, [2]), ({"project": "p"}, [5, 3, 1]),
    ({"resource": "issue", "project": "q"}, [4, 2, 0]), ({"rule": "b", "issue_id": "3"}, [3]), ({"rule": "zz"}, [])])
def test_filters(store: Store, filters: dict, expected: list[int]) -> None:
    """Every filter, alone and combined, on both stores, newest first."""
    recs = [webhook(0), webhook(1), webhook(2, matched=("a", "b")), webhook(3, matched=("b",)),
            webhook(4, action="resolved"), webhook(5, resource="comment")]
    for r in recs:
        fan(store, r)
    got = store.webhooks(WebhookQuery(filters=filters))
    assert [r.id for r in got] == [recs[n].id for n in expected]


def test_cursor(store: Store) -> None:
    """`before` continues strictly below an id, `limit` cuts the page."""
    recs = [webhook(n) for n in range(5)]
    for r in recs:
        fan(store, r)
    first = store.webhooks(WebhookQuery(limit=2))
    rest = store.webhooks(WebhookQuery(limit=10, before=first[-1].id))
    assert [r.id for r in first + rest] == [r.id for r in recs[::-1]]


def test_duplicate_record_and_pending(store: Store) -> None:
    """A duplicate is written on its own; a webhook not fanned out yet is listed by pending()."""
    dup = WebhookRecord(**{**webhook(1).__dict__, "duplicate_of": "orig"})
    store.record_webhook(dup)
    assert store.webhooks(WebhookQuery())[0].duplicate_of == "orig"
    i = Inbound("w-pending", NOW, "issue", "req", NOW, "ab" * 32, b"{}", "[]", '["r"]')
    store.accept("k", 60, i, NOW)
    assert store.pending(10) == [i]


def test_attempts_counts_and_activity(store: Store) -> None:
    """Each recorded outcome is an attempt; counts per webhook and status; activity per bucket and target."""
    rec = webhook(1)
    a, b = job(webhook_id=rec.id, target="slack-a"), job(webhook_id=rec.id, target="slack-b")
    fan(store, rec, [a, b])
    assert store.claim(a.id, "w", 60, NOW) and store.record(a.id, "w", RETRYING, NOW + 1, error="boom", next_at=NOW)
    assert store.claim(a.id, "w", 60, NOW + 2) and store.record(a.id, "w", SENT, NOW + 3)
    assert store.claim(b.id, "w", 60, NOW) and store.record(b.id, "w", DEAD, NOW + 4, error="gone")
    atts = store.attempts([a.id, b.id])
    assert [(x.outcome, x.error) for x in atts[a.id]] == [(RETRYING, "boom"), (SENT, "")]
    assert [x.outcome for x in atts[b.id]] == [DEAD]
    assert store.job_counts([rec.id]) == {rec.id: {SENT: 1, DEAD: 1}}
    assert [j.id for j in store.webhook_jobs(rec.id)] == sorted([a.id, b.id])
    act = store.activity(NOW - 60, 60)
    assert sum(n for _b, n in act["webhooks"]) == 1
    assert sorted((o, t, n) for _b, o, t, n in act["attempts"]) == [
        (DEAD, "slack-b", 1), (RETRYING, "slack-a", 1), (SENT, "slack-a", 1)]


def test_record_without_the_claim_writes_no_attempt(store: Store) -> None:
    """An outcome from a worker that lost its claim is not an attempt."""
    rec = webhook(1)
    a = job(webhook_id=rec.id)
    fan(store, rec, [a])
    assert store.claim(a.id, "w", 60, NOW)
    assert not store.record(a.id, "other", SENT, NOW + 1)
    assert store.attempts([a.id]) == {a.id: []} and store.get(a.id).status == SENDING


def test_replay_keeps_earlier_attempts_and_notifications_page(store: Store) -> None:
    """A replayed job's new attempts follow its old ones; notifications() pages by status and cursor."""
    rec = webhook(1)
    jobs = [job(webhook_id=rec.id) for _ in range(3)]
    fan(store, rec, jobs)
    for j in jobs:
        assert store.claim(j.id, "w", 60, NOW) and store.record(j.id, "w", DEAD, NOW + 1, error="x")
    assert store.requeue(jobs[0].id, NOW + 2, 60, (DEAD,))
    assert store.claim(jobs[0].id, "w", 60, NOW + 2) and store.record(jobs[0].id, "w", SENT, NOW + 3)
    assert [x.outcome for x in store.attempts([jobs[0].id])[jobs[0].id]] == [DEAD, SENT]
    dead = store.notifications((DEAD,), 1)
    more = store.notifications((DEAD,), 10, dead[0].id)
    assert {j.id for j in dead + more} == {jobs[1].id, jobs[2].id} and len(dead + more) == 2


def test_expire_drops_old_history(store: Store) -> None:
    """History older than the retention goes with the ledger rows; newer stays."""
    old, new = webhook(1, at=NOW - 10_000), webhook(2)
    fan(store, old)
    fan(store, new)
    store.expire(NOW, 5_000)
    assert [r.id for r in store.webhooks(WebhookQuery())] == [new.id]
    assert store.webhook(old.id) is None


def test_a_job_reads_its_event_from_its_webhook_row(store: Store) -> None:
    """A fanned-out job keeps only its own notes: its event is rebuilt from the webhook's history row as it was
    accepted; a row stored with its own copy of the event (before) still uses it; a job whose webhook is gone
    fails for good."""
    from router.channels.base import DeliveryError
    from router.delivery.fanout import Notes, event_body, fan_out, job_event
    from tests.support.delivery import issue_event, notify, slack_target

    event = issue_event(7)
    inbound = Inbound(new_id(), NOW, event.resource, "req-7", event.received_at, event.body_sha256, event_body(event),
                      Notes().encode(notify(slack_target("a"), slack_target("b")).notifications, 0.0))
    assert store.accept("k7", 60, inbound, NOW)
    ids = fan_out(store, 3600, inbound.webhook_id)
    jobs = [store.get(i) for i in ids]
    assert len(jobs) == 2 and all(j is not None and "event" not in j.payload for j in jobs)
    expected = {**event.to_dict(), "request_id": "req-7"}
    assert [job_event(store, j).to_dict() for j in jobs if j is not None] == [expected, expected]
    old = job(payload={"event": expected, "template": None})
    assert job_event(store, old).to_dict() == expected
    with pytest.raises(DeliveryError, match="no longer stored") as gone:
        job_event(store, job(webhook_id="gone", payload={"template": None}))
    assert not gone.value.retryable


def test_expire_keeps_the_webhook_row_of_a_replayed_job(store: Store) -> None:
    """A dead letter replayed just before the retention runs out keeps its webhook's row (its event is read from
    it) until it is finished; then the row goes like any other."""
    old = webhook(1, at=NOW - 10_000)
    j = job(NOW - 10_000, webhook_id=old.id)
    fan(store, old, [j])
    assert store.claim(j.id, "w1", 30, NOW) and store.record(j.id, "w1", DEAD, NOW, error="gone")
    assert store.requeue(j.id, NOW, 3600)
    store.expire(NOW, 5_000)
    assert store.webhook(old.id) is not None
    assert store.claim(j.id, "w1", 30, NOW) and store.record(j.id, "w1", SENT, NOW)
    store.expire(NOW + 1, 5_000)
    assert store.webhook(old.id) is None
