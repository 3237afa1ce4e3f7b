"""The delivery store, table-driven over SQLite and a real redis-server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.store import (
    DEAD,
    QUEUED,
    RETRYING,
    SENDING,
    SENT,
    SUPPRESSED,
    Inbound,
    Job,
    Store,
    StoreUnavailable,
    new_id,
)
from router.store.redis import RedisStore
from router.store.sqlite import SqliteStore
from tests.fakes.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)

NOW = 1_700_000_000.0


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        yield SqliteStore(str(tmp_path / "var" / "router.sqlite3"))
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        yield RedisStore(server.url)


def job(now: float = NOW, **kw: object) -> Job:
    """A queued job due at `now`."""
    base = dict(id=new_id(), webhook_id="w1", rule="r", target="t", target_type="console", created_at=now,
                updated_at=now, next_at=now, deadline_at=now + 3600, payload={"event": {"x": "é"}, "n": 1})
    base.update(kw)
    return Job(**base)


def inbound(webhook_id: str = "w1", created_at: float = NOW) -> Inbound:
    """An accepted webhook with a body that is not UTF-8 text (bytes are kept as they are) and one note."""
    return Inbound(webhook_id, created_at, "issue", "req-1", created_at, "ab" * 32, b'{"action":"created"}\xff',
                   '[{"rule":"r","target":"t"}]')


def put(store: Store, jobs: list[Job]) -> None:
    """Write jobs the way ingest and the worker do: accept an inbound webhook, then fan it out into `jobs`."""
    wid = new_id()
    assert store.accept(new_id(), 60, inbound(wid), NOW)
    assert store.fan_out(wid, jobs)


def test_accept_writes_the_inbound_webhook_and_refuses_duplicates(store: Store) -> None:
    """A dedup key is claimed once per window; the duplicate writes nothing; no notifications still claims."""
    assert store.accept("issue:created:1", 60, inbound("w1"), NOW)
    assert not store.accept("issue:created:1", 60, inbound("w2"), NOW + 1)
    assert store.inbound("w1") == inbound("w1") and store.inbound("w2") is None
    assert store.count_inbound() == 1
    assert store.accept("issue:created:2", 60, None, NOW, webhook_id="w3")  # no notifications still claims the key
    assert not store.accept("issue:created:2", 60, None, NOW)
    assert store.inbound("w3") is None and store.jobs(10) == []


def test_fan_out_replaces_the_webhook_by_its_jobs_once(store: Store) -> None:
    """Fan-out writes the jobs and removes the inbound webhook together; a second fan-out writes nothing."""
    a, b = job(), job()
    assert store.accept("issue:created:1", 60, inbound("w1"), NOW)
    assert store.fan_out("w1", [a, b])
    assert not store.fan_out("w1", [job()])
    assert store.inbound("w1") is None and store.count_inbound() == 0
    assert {j.id for j in store.jobs(10)} == {a.id, b.id}
    got = store.get(a.id)
    assert got is not None and got.status == QUEUED and got.payload == a.payload
    assert not store.fan_out("never-accepted", [job()]) and len(store.jobs(10)) == 2


def test_jobs_of_one_webhook(store: Store) -> None:
    """The ledger lists one webhook's jobs on request (`deliveries --webhook`)."""
    mine, other = job(webhook_id="mine"), job(webhook_id="other")
    put(store, [mine, other])
    assert [j.id for j in store.jobs(10, (), "mine")] == [mine.id]
    assert store.jobs(10, (SENT,), "mine") == []


def test_due_inbound_hands_out_each_webhook_once_per_lease_oldest_first(store: Store) -> None:
    """Accepted webhooks are due at once, oldest first; one handed out is due again only after its lease
    (its fan-out task was lost), and never once fanned out."""
    first, second = new_id(), new_id()
    assert store.accept("k1", 60, inbound(first), NOW) and store.accept("k2", 60, inbound(second), NOW)
    assert store.due_inbound(NOW, 30, 1) == [first]
    assert store.due_inbound(NOW, 30, 100) == [second]
    assert store.due_inbound(NOW + 29, 30, 100) == []
    assert store.fan_out(first, [])
    assert store.due_inbound(NOW + 31, 30, 100) == [second]


def test_a_webhook_that_keeps_failing_to_fan_out_is_retried_ever_more_slowly_never_dropped(store: Store) -> None:
    """Each further lease of a webhook that is never fanned out lasts twice as long (30 s, 60 s, 120 s…), up to
    2**MAX_LEASE_DOUBLINGS leases (about an hour between tries), and it stays in the store."""
    from router.store import MAX_LEASE_DOUBLINGS

    wid = new_id()
    assert store.accept("poison", 60, inbound(wid), NOW)
    at = NOW
    for n in range(MAX_LEASE_DOUBLINGS + 3):
        length = 30 * 2 ** min(n, MAX_LEASE_DOUBLINGS)
        assert store.due_inbound(at, 30, 10) == [wid], f"lease {n + 1}"
        assert store.due_inbound(at + length - 1, 30, 10) == [], f"lease {n + 1} lasts {length} s"
        at += length
    assert length == 30 * 128 and store.count_inbound() == 1 and store.inbound(wid) == inbound(wid)


def test_ids_sort_by_creation_time() -> None:
    """Webhook and job ids sort in the order they were made, to the microsecond (new rows append to each
    index), and never repeat."""
    import time

    spaced = []
    for _ in range(20):
        spaced.append(new_id())
        time.sleep(0.0005)
    assert spaced == sorted(spaced) and all(len(i) == 20 for i in spaced)
    assert len({new_id() for _ in range(100_000)}) == 100_000


def test_dedup_key_expires(store: Store) -> None:
    """After the window the same content is accepted again."""
    assert store.accept("k", 0.2, None, NOW)
    import time

    time.sleep(0.3)  # Redis expiry is wall-clock; SQLite compares `now`
    assert store.accept("k", 0.2, None, NOW + 1)


def test_claim_is_exclusive_and_counts_attempts(store: Store) -> None:
    """Only one claimer wins a job; a claimed, sent or future job is not claimed again."""
    j = job()
    put(store, [j])
    got = store.claim(j.id, "w-a", 30, NOW)
    assert got is not None and got.status == SENDING and got.attempts == 1
    assert store.claim(j.id, "w-b", 30, NOW) is None
    assert not store.record(j.id, "w-b", SENT, NOW)  # not the owner
    assert store.record(j.id, "w-a", SENT, NOW + 1, receipt={"ts": "1.2", "channel": "C1"}, suppressed=0)
    done = store.get(j.id)
    assert done is not None and done.status == SENT and done.receipt == {"ts": "1.2", "channel": "C1"}
    assert store.claim(j.id, "w-a", 30, NOW + 2) is None


def test_concurrent_claims_have_one_winner(store: Store) -> None:
    """Eight threads racing for each of 20 jobs: every job is claimed exactly once."""
    jobs = [job() for _ in range(20)]
    put(store, jobs)
    wins: list[str] = []
    lock = threading.Lock()

    def race(owner: str) -> None:
        for j in jobs:
            if store.claim(j.id, owner, 30, NOW):
                with lock:
                    wins.append(j.id)

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == sorted(j.id for j in jobs)


def test_retrying_job_waits_for_its_time(store: Store) -> None:
    """A retrying job cannot be claimed before next_at; afterwards it can, with attempts 2."""
    j = job()
    put(store, [j])
    store.claim(j.id, "w", 30, NOW)
    assert store.record(j.id, "w", RETRYING, NOW, error="HTTP 500", next_at=NOW + 10)
    assert store.claim(j.id, "w", 30, NOW + 5) is None
    again = store.claim(j.id, "w", 30, NOW + 10)
    assert again is not None and again.attempts == 2 and again.last_error == "HTTP 500"


def test_orphaned_sends_are_recovered(store: Store) -> None:
    """A sending job whose worker has no heartbeat (or whose lease ran out) is due again."""
    alive, dead, expired = job(), job(), job()
    put(store, [alive, dead, expired])
    store.kv_set("hb:alive", "1", 60)
    store.claim(alive.id, "alive", 300, NOW)
    store.claim(dead.id, "gone", 300, NOW)
    store.claim(expired.id, "alive", 1, NOW)
    assert sorted(store.recover_orphans(NOW + 2)) == sorted([dead.id, expired.id])
    assert store.recover_orphans(NOW + 2) == []
    j = store.get(dead.id)
    assert j is not None and j.status == RETRYING
    assert store.claim(dead.id, "alive", 30, NOW + 2) is not None


def test_a_renewed_lease_is_not_recovered_while_its_owner_sends(store: Store) -> None:
    """Renewing keeps a live send from being recovered (and claimed twice) past its first lease; only the
    owner can renew, and only while the job is sending."""
    live, other = job(), job()
    put(store, [live, other])
    store.kv_set("hb:w1", "1", 60)
    store.claim(live.id, "w1", 1, NOW)
    store.claim(other.id, "w1", 1, NOW)
    assert store.renew([live.id], "w2", NOW + 100) == []          # not w2's to renew
    assert store.renew([live.id, "nope"], "w1", NOW + 100) == [live.id]
    assert store.recover_orphans(NOW + 2) == [other.id]             # the one not renewed ran out
    assert store.claim(live.id, "w2", 30, NOW + 2) is None
    j = store.get(live.id)
    assert j is not None and (j.status, j.lease_until) == (SENDING, NOW + 100)
    assert store.record(live.id, "w1", SENT, NOW + 3)
    assert store.renew([live.id], "w1", NOW + 200) == [] and store.recover_orphans(NOW + 300) == []


def test_claim_next_takes_due_jobs_soonest_first_once(store: Store) -> None:
    """The ledger is the queue: claim_next leases due queued/retrying jobs soonest first, each once, never one
    not yet due; a retry is claimed again at its new due time, a replay at once."""
    late, soon, later = job(NOW + 5), job(NOW - 10), job(NOW + 100)
    put(store, [late, soon, later])
    assert store.count_due(NOW) == 1 and store.count_due(NOW + 5) == 2 and store.count_due(NOW + 5, 1) == 1
    assert [j.id for j in store.claim_next("w1", 30, NOW, 5)] == [soon.id]
    assert store.claim_next("w2", 30, NOW, 5) == []
    taken = store.claim_next("w1", 30, NOW + 6, 5)
    assert [(j.id, j.status, j.attempts, j.owner, j.lease_until) for j in taken] == \
        [(late.id, SENDING, 1, "w1", NOW + 36)]
    assert store.record(late.id, "w1", RETRYING, NOW + 7, error="x", next_at=NOW + 50)
    assert store.claim_next("w1", 30, NOW + 49, 5) == [] and store.count_due(NOW + 49) == 0
    assert [(j.id, j.attempts) for j in store.claim_next("w1", 30, NOW + 50, 5)] == [(late.id, 2)]
    assert store.record(soon.id, "w1", DEAD, NOW + 8, error="gone")
    assert store.requeue(soon.id, NOW + 9, 3600)
    assert [j.id for j in store.claim_next("w1", 30, NOW + 9, 5)] == [soon.id]
    store.wait_due(0.01)   # returns (a wake-up or the timeout); never blocks past it


def test_dead_letter_replay(store: Store) -> None:
    """Only a dead job can be requeued; it gets fresh attempts and counts as a dead letter until then."""
    j = job()
    put(store, [j])
    store.claim(j.id, "w", 30, NOW)
    assert not store.requeue(j.id, NOW, 3600)
    store.record(j.id, "w", DEAD, NOW, error="channel_not_found")
    assert store.count(DEAD) == 1
    assert [x.id for x in store.jobs(10, (DEAD, RETRYING))] == [j.id]
    assert store.requeue(j.id, NOW + 5, 3600)
    assert store.count(DEAD) == 0
    got = store.claim(j.id, "w", 30, NOW + 5)
    assert got is not None and got.attempts == 1


def test_throttle_counts_suppressed_and_is_idempotent(store: Store) -> None:
    """One per window; suppressed ones are counted and reported to the next one let through."""
    assert store.throttle_hit("r|t|1", 10, "a", NOW) == (True, 0)
    assert store.throttle_hit("r|t|1", 10, "a", NOW + 1) == (True, 0)  # same job asking again
    assert store.throttle_hit("r|t|1", 10, "b", NOW + 1) == (False, 1)
    assert store.throttle_hit("r|t|1", 10, "c", NOW + 2) == (False, 2)
    assert store.throttle_hit("r|t|2", 10, "d", NOW + 2) == (True, 0)
    assert store.throttle_hit("r|t|1", 10, "e", NOW + 11) == (True, 2)
    assert store.throttle_hit("r|t|1", 10, "f", NOW + 12) == (False, 1)


def test_expire_drops_old_finished_rows_only(store: Store) -> None:
    """Retention drops old sent rows and keeps anything still in flight."""
    old_sent, old_queued = job(NOW - 1000), job(NOW - 1000)
    put(store, [old_sent, old_queued])
    store.claim(old_sent.id, "w", 30, NOW)
    store.record(old_sent.id, "w", SUPPRESSED, NOW)
    assert store.expire(NOW, 500) == 1
    assert store.get(old_sent.id) is None and store.get(old_queued.id) is not None


def test_kv(store: Store) -> None:
    """The small key-value: set, set-if-absent, delete."""
    assert store.kv_get("a") is None
    assert store.kv_set_nx("a", "1", 60)
    assert not store.kv_set_nx("a", "2", 60)
    store.kv_set("a", "3")
    assert store.kv_get("a") == "3"
    store.kv_delete("a")
    assert store.kv_get("a") is None


def test_unreachable_store_raises_store_unavailable(tmp_path: Path) -> None:
    """A store that cannot be reached says so with StoreUnavailable (the web answers 503)."""
    from tests.fakes.redis_server import free_port

    with pytest.raises(StoreUnavailable, match="redis") as err:
        RedisStore(f"redis://:hunter22@127.0.0.1:{free_port()}/0").ping()
    assert "hunter22" not in str(err.value)
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreUnavailable, match="sqlite"):
        SqliteStore(str(tmp_path / "dir.sqlite3")).ping()


def test_a_duplicate_finds_the_original_webhook(store) -> None:
    """The dedup key remembers which webhook claimed it, so a duplicate can answer with the original id."""
    assert store.accept("issue:created:77", 60, None, NOW, webhook_id="first")
    assert not store.accept("issue:created:77", 60, None, NOW + 1, webhook_id="second")
    assert store.original("issue:created:77") == "first"
    assert store.original("issue:created:never") is None


def test_a_store_file_from_before_webhook_ids_is_upgraded(tmp_path: Path) -> None:
    """A SQLite file whose dedup table predates webhook ids gets the column; its old claims still count."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("create table router_dedup (key text primary key, expires_at real not null)")
        conn.execute("insert into router_dedup values ('issue:created:1', ?)", (NOW + 60,))
    store = SqliteStore(str(path))
    assert not store.accept("issue:created:1", 60, None, NOW, webhook_id="new")
    assert store.original("issue:created:1") is None
    assert store.accept("issue:created:2", 60, None, NOW, webhook_id="w2") and store.original("issue:created:2") == "w2"


def test_an_inbound_table_from_before_lease_counts_is_upgraded(tmp_path: Path) -> None:
    """A SQLite file whose inbound table predates lease counts (2026-11-26, WITHOUT ROWID) gets the column: the
    webhooks waiting in it are handed out, leased and fanned out as usual."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("""create table router_inbound (id text primary key, created_at real not null,
            due_at real not null, resource text not null, request_id text not null, received_at real not null,
            body_sha256 text not null, body blob not null, notes text not null) without rowid""")
        i = inbound("waiting")
        conn.execute("insert into router_inbound values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (i.webhook_id, i.created_at, i.created_at, i.resource, i.request_id, i.received_at,
                      i.body_sha256, i.body, i.notes))
    store = SqliteStore(str(path))
    assert store.due_inbound(NOW, 30, 10) == ["waiting"] and store.due_inbound(NOW + 29, 30, 10) == []
    assert SqliteStore(str(path)).count_inbound() == 1  # another process opening the upgraded file: no error
    assert store.due_inbound(NOW + 30, 30, 10) == ["waiting"] and store.due_inbound(NOW + 89, 30, 10) == []
    assert store.inbound("waiting") == i and store.fan_out("waiting", [job()]) and store.count_inbound() == 0


def test_a_forked_child_knows_its_pid_and_draws_other_ids() -> None:
    """A forked child (a gunicorn worker) sees its own pid in the cached `sqlite_tuning.pid()` that per-process state
    (connections, lock descriptors) is checked against, and draws ids from a reseeded generator: parent and
    child never make the same random parts."""
    import os

    from router.store import sqlite_tuning

    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report through the pipe, never return into pytest
        try:
            ids = " ".join(new_id()[13:] for _ in range(50))
            os.write(write_end, f"{int(sqlite_tuning.pid() == os.getpid())} {ids}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        same_pid, *child_ids = pipe.read().decode().split()
    os.waitpid(child, 0)
    assert same_pid == "1" and sqlite_tuning.pid() == os.getpid()
    assert set(child_ids).isdisjoint(new_id()[13:] for _ in range(50))  # 28 random bits each


def test_a_large_job_payload_is_stored_compressed_and_read_back_exactly(store: Store) -> None:
    """A 2 MiB event (a big error) round-trips unchanged, and the stored row is a fraction of its size."""
    from router.store import PACK_FROM, pack_payload

    event = {"data": {"error": {"frames": [{"vars": {"row": "x" * 64, "n": i, "big": 2**70}} for i in range(16000)],
                                "message": "é \u2028 😀"}}}
    big = job(payload={"event": event, "subject": "issue:1"})
    put(store, [big])
    assert store.get(big.id).payload == {"event": event, "subject": "issue:1"}
    stored = pack_payload(big.payload)
    assert stored.startswith("z:") and len(stored) < len(str(event)) / 5
    small = {"event": {"x": "y" * (PACK_FROM // 2)}}
    assert pack_payload(small).startswith("{")  # small payloads stay plain JSON text


def test_release_gives_back_an_owners_unknown_claims(store: Store) -> None:
    """release() makes every job an owner holds, except the ones it names, due again now (retrying); another
    owner's claims and finished jobs stay as they are."""
    live, lost, other = job(), job(), job()
    put(store, [live, lost, other])
    for j, owner in ((live, "w1"), (lost, "w1"), (other, "w2")):
        assert store.claim(j.id, owner, 300, NOW)
    assert store.release("w1", [live.id], NOW + 1) == [lost.id]
    got = {j.id: store.get(j.id) for j in (live, lost, other)}
    assert [(got[j.id].status, got[j.id].owner) for j in (live, other)] == [(SENDING, "w1"), (SENDING, "w2")]
    assert (got[lost.id].status, got[lost.id].next_at, got[lost.id].lease_until) == (RETRYING, NOW + 1, 0)
    assert [j.id for j in store.claim_next("w3", 30, NOW + 1, 5)] == [lost.id]
    assert store.release("w1", [], NOW + 2) == [live.id] and store.release("w1", [], NOW + 3) == []
