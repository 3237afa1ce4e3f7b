"""The history (history.py) on Redis: a hash per webhook, lex-sorted id indexes per filter value, attempt lists
and per-minute counters (router:stat:<minute>), all written by the Lua scripts in redis_lua.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from router.store.base import DEAD, Inbound, Job
from router.store.history import Attempt, WebhookQuery, WebhookRecord, activity_of

P = "router:"
_FIELDS = ("created_at", "resource", "action", "title", "project", "issue_id", "matched", "duplicate_of",
           "request_id")
_INDEXED = ("issue_id", "rule", "project", "action", "resource")   # most selective first


def index_key(key: str, value: str) -> str:
    """The lex-sorted set of webhook ids with this filter value."""
    return f"{P}whx:{key}:{value}"


def id_at(ts: float) -> str:
    """The smallest webhook id made at `ts` (store.new_id: 13 hex digits of µs first)."""
    return f"{int(ts * 1_000_000):013x}"


def history_json(rec: WebhookRecord) -> str:
    """What the Lua `history` function takes (the body travels separately)."""
    indexes = [index_key(k, str(getattr(rec, k))) for k in ("resource", "action", "project", "issue_id")
               if getattr(rec, k)] + [index_key("rule", r) for r in rec.matched]
    return orjson.dumps({"id": rec.id, "created_at": repr(rec.created_at), "resource": rec.resource,
                         "action": rec.action, "title": rec.title, "project": rec.project, "issue_id": rec.issue_id,
                         "matched": orjson.dumps(list(rec.matched)).decode(), "duplicate_of": rec.duplicate_of,
                         "request_id": rec.request_id, "received_at": repr(rec.received_at),
                         "body_sha256": rec.body_sha256, "indexes": indexes}).decode()


def _record(webhook_id: str, values: Sequence[Any], body: bytes = b"") -> WebhookRecord | None:
    if values[0] is None:
        return None  # expired since the index was read
    d = dict(zip(_FIELDS, (v.decode() for v in values), strict=False))
    return WebhookRecord(id=webhook_id, created_at=float(d["created_at"]), resource=d["resource"],
                         action=d["action"], title=d["title"], project=d["project"], issue_id=d["issue_id"],
                         matched=tuple(orjson.loads(d["matched"])), duplicate_of=d["duplicate_of"],
                         request_id=d["request_id"], body=body)


class RedisHistory:
    """History reads and the one history write ingest makes (a duplicate); mixed into RedisStore."""

    r: Any
    _call: Any
    _do: Any
    inbound: Callable[[str], Inbound | None]

    def record_webhook(self, rec: WebhookRecord) -> None:
        """Add one webhook to the history (a duplicate Sentry sent again; others come with fan_out)."""
        self._call("history", history_json(rec), rec.body)

    def webhooks(self, query: WebhookQuery) -> list[WebhookRecord]:
        """A newest-first page of the history (without bodies): walk the most selective index, check the rest."""
        key = next((index_key(k, query.filters[k]) for k in _INDEXED if k in query.filters), P + "webhooks")
        out: list[WebhookRecord] = []
        upper = f"({query.before}" if query.before else "+"
        page = max(query.limit, 100)
        while len(out) < query.limit:
            ids = [i.decode() for i in self._do(self.r.zrevrangebylex, key, upper, "-", 0, page)]
            if not ids:
                break
            pipe = self.r.pipeline(transaction=False)
            for i in ids:
                pipe.hmget(P + "wh:" + i, *_FIELDS)
            for webhook_id, values in zip(ids, self._do(pipe.execute), strict=False):
                rec = _record(webhook_id, values)
                if rec is not None and query.accepts(rec) and len(out) < query.limit:
                    out.append(rec)
            upper = f"({ids[-1]}"
        return out

    def webhook(self, webhook_id: str) -> WebhookRecord | None:
        """One webhook of the history, with its body."""
        values = self._do(self.r.hmget, P + "wh:" + webhook_id, *_FIELDS, "body", "received_at", "body_sha256")
        rec = _record(webhook_id, values[:-3], values[-3] or b"")
        if rec is None:
            return None
        return dataclasses.replace(rec, received_at=float(values[-2] or 0), body_sha256=(values[-1] or b"").decode())

    def pending(self, limit: int, before: str = "") -> list[Inbound]:
        """Accepted webhooks no worker has fanned out yet, newest first."""
        # scored by when each is due, roughly oldest first: the last 1,000 hold the newest (a backlog's
        # older ones are listed once a worker has written them into the history)
        ids = sorted((i.decode() for i in self._do(self.r.zrange, P + "inbound", -1000, -1)), reverse=True)
        found = [self.inbound(i) for i in ids if not before or i < before][:limit]
        return [i for i in found if i is not None]

    def job_counts(self, webhook_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per webhook, how many of its notifications are in each status."""
        pipe = self.r.pipeline(transaction=False)
        for w in webhook_ids:
            pipe.smembers(P + "whjobs:" + w)
        members = self._do(pipe.execute) if webhook_ids else []
        pipe = self.r.pipeline(transaction=False)
        pairs = [(w, j.decode()) for w, jobs in zip(webhook_ids, members, strict=False) for j in jobs]
        for _w, j in pairs:
            pipe.hget(P + "job:" + j, "status")
        out: dict[str, dict[str, int]] = {}
        for (w, _j), status in zip(pairs, self._do(pipe.execute) if pairs else [], strict=False):
            if status is not None:
                counts = out.setdefault(w, {})
                counts[status.decode()] = counts.get(status.decode(), 0) + 1
        return out

    def attempts(self, job_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        """Every recorded attempt of each job, oldest first."""
        pipe = self.r.pipeline(transaction=False)
        for j in job_ids:
            pipe.lrange(P + "att:" + j, 0, -1)
        lists = self._do(pipe.execute) if job_ids else []
        return {j: [Attempt(float(a["at"]), a["outcome"], a["error"]) for a in map(orjson.loads, raw)]
                for j, raw in zip(job_ids, lists, strict=False)}

    def webhook_jobs(self, webhook_id: str) -> list[Job]:
        """One webhook's notifications, in the order they were made."""
        from router.store.redis import _job

        ids = sorted(j.decode() for j in self._do(self.r.smembers, P + "whjobs:" + webhook_id))
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(P + "job:" + i)
        return [_job(raw) for raw in (self._do(pipe.execute) if ids else []) if raw]

    def notifications(self, statuses: Sequence[str], limit: int, before: str = "") -> list[Job]:
        """Ledger rows with one of `statuses` (any when empty), newest first, ids below `before`."""
        from router.store.redis import _job

        key = P + "dead" if tuple(statuses) == (DEAD,) else P + "jobs"   # dead letters have their own index
        out: list[Job] = []
        start, page = 0, max(limit, 200)
        while len(out) < limit:
            ids = [i.decode() for i in self._do(self.r.zrevrange, key, start, start + page - 1)]
            if not ids:
                break
            pipe = self.r.pipeline(transaction=False)
            for i in ids:
                pipe.hgetall(P + "job:" + i)
            for raw in self._do(pipe.execute):
                job = _job(raw) if raw else None
                if job and (not statuses or job.status in statuses) and (not before or job.id < before) \
                        and len(out) < limit:
                    out.append(job)
            start += page
        return out

    def activity(self, since: float, bucket: float) -> dict[str, Any]:
        """Counts since `since` per `bucket` seconds (webhooks, sent, failed) and per target (sent, failed)."""
        first, last = int(since // 60), int((since + 86400 * 2) // 60)
        pipe = self.r.pipeline(transaction=False)
        minutes = list(range(first, min(last, first + 1441) + 1))
        for m in minutes:
            pipe.hgetall(f"{P}stat:{m}")
        rows = [(m, name.decode(), int(n)) for m, counts in zip(minutes, self._do(pipe.execute), strict=False)
                for name, n in counts.items()]
        return activity_of(rows, since, bucket)
