"""Durable delivery: the facade ingest calls (accept), over the store (ledger, dedup, throttle) and queue."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from router.delivery.policy import RetryPolicy
from router.delivery.queue import Queue
from router.delivery.store import DEAD, FAILED, Job, Store, StoreUnavailable, new_id, open_store
from router.masking import without_secrets
from router.rules.model import MatchResult, Notification, Target
from router.sentry import SentryEvent
from router.settings import Settings

__all__ = ["Accepted", "Delivery", "Job", "StoreUnavailable"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """The answer to one accepted webhook: its id, whether it was a duplicate, the jobs written."""

    webhook_id: str
    duplicate: bool
    jobs: tuple[str, ...] = ()


def throttle_subject(event: SentryEvent) -> str:
    """What a throttle counts per: the Sentry issue when there is one, else the webhook's subject id."""
    issue = event.shortcuts.get("issue_id")
    return f"issue:{issue}" if issue not in (None, "") else f"{event.resource}:{event.subject_id}"


class Delivery:
    """Ingest side of delivery: durable accept + enqueue, health, depth; shared by web and CLI."""

    def __init__(self, settings: Settings, store: Store, queue: Queue) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue
        self.policy = RetryPolicy.from_settings(settings)
        self._masked: dict[int, tuple[Target, Any, bool]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Delivery:
        """Open (lazily) the store and queue the settings name."""
        return cls(settings, open_store(settings), Queue.from_settings(settings))

    def _job(self, webhook_id: str, event: dict[str, Any], subject: str, note: Notification,
             default_throttle: float, now: float) -> Job:
        target, rule = note.target, note.rule
        throttle = rule.throttle if rule.throttle is not None else default_throttle
        # No secret is stored: URL credentials are masked; the worker sends with the target as the rules define it now
        options, masked = self._masked_options(target)
        payload = {"event": event, "template": rule.template, "throttle": throttle or 0.0,
                   "subject": subject, "options": options, "masked": masked}
        return Job(id=new_id(), webhook_id=webhook_id, rule=rule.name, target=target.name,
                   target_type=target.type, created_at=now, updated_at=now, next_at=now,
                   deadline_at=now + self.policy.deadline, payload=payload)

    def _masked_options(self, target: Target) -> tuple[Any, bool]:
        """without_secrets(target.options), computed once per target object (rules are immutable once loaded)."""
        hit = self._masked.get(id(target))
        if hit is None or hit[0] is not target:
            if len(self._masked) > 1024:  # old rulesets' targets after many reloads
                self._masked.clear()
            hit = self._masked[id(target)] = (target, *without_secrets(target.options))
        return hit[1], hit[2]

    def accept(self, event: SentryEvent, result: MatchResult, dedup_window: float,
               default_throttle: float) -> Accepted:
        """Claim the dedup key and durably write one job per notification, then queue them."""
        now = time.time()
        webhook_id = new_id()
        ev, subject = event.to_dict(), throttle_subject(event)  # once per webhook, not per job
        jobs = [self._job(webhook_id, ev, subject, n, default_throttle, now) for n in result.notifications]
        ids = tuple(j.id for j in jobs)
        # on SQLite the queue's tasks go into the ledger's transaction: one commit per webhook
        tasks = self.queue.task_writer(ids, getattr(self.store, "path", None)) if ids else None
        if not self.store.accept(event.dedup_key, dedup_window, jobs, now, tasks, webhook_id):
            return Accepted(self.store.original(event.dedup_key) or webhook_id, True)
        if tasks is None and ids:
            try:
                self.queue.enqueue(ids)
            except Exception as exc:  # the jobs are in the ledger: the worker's sweep queues them again
                log.warning("webhook %s: queueing failed (%s); the worker sweep will deliver its %d job(s)",
                            webhook_id, type(exc).__name__, len(jobs))
        return Accepted(webhook_id, False, ids)

    def ping(self) -> None:
        """Raise StoreUnavailable with the reason when the store cannot be used (for /-/ready)."""
        self.store.ping()

    def queue_depth(self) -> int:
        """Jobs waiting in the queue now."""
        try:
            return self.queue.depth()
        except Exception as exc:
            raise StoreUnavailable(f"queue: {type(exc).__name__}: {exc}") from None

    def scrape_gauges(self) -> list[tuple[str, str, float]]:
        """Store-backed gauges for /metrics, read at scrape time: queue depth and dead letters."""
        return [("router_queue_depth", "Notifications waiting in the queue", float(self.queue_depth())),
                ("router_dead_letters", "Notifications that failed for good (`sentry-router deliveries --failed`)",
                 float(self.store.count(DEAD)))]

    def deliveries(self, limit: int = 50, failed: bool = False) -> list[Job]:
        """The newest ledger rows; only retrying and dead ones with `failed`."""
        return self.store.jobs(limit, FAILED if failed else ())

    def replay(self, job_id: str) -> bool:
        """Send a dead letter again (fresh attempts and deadline); False unless `job_id` is dead."""
        if not self.store.requeue(job_id, time.time(), self.policy.deadline):
            return False
        self.queue.enqueue([job_id])
        return True
