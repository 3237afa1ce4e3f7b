"""The outbox: ingest's durable accept, the worker's fan-out and the CLI's replay all write the ledger here (the
transactional outbox — the ledger is the queue); depth, gauges and deliveries read it back."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

from router.delivery.fanout import Notes, event_body, fan_out
from router.delivery.policy import RetryPolicy
from router.rules.model import MatchResult
from router.sentry import SentryEvent
from router.settings import Settings
from router.store import (
    DEAD,
    FAILED,
    Inbound,
    Job,
    Store,
    StoreUnavailable,
    new_id,
    open_existing_store,
    open_store,
    to_json,
)
from router.store.health import Refused, sqlite_problem
from router.store.history import record_of

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Accepted:
    """The answer to one accepted webhook: its id (the original's, for a duplicate) and whether it was one."""

    webhook_id: str
    duplicate: bool


class Outbox:
    """What puts notifications in the ledger (the queue): durable accept, fan-out, replay; and what reads it back
    (depth, gauges, deliveries, health); shared by web, worker and CLI."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.policy = RetryPolicy.from_settings(settings)
        self.notes = Notes()

    @classmethod
    def from_settings(cls, settings: Settings, existing: bool = False) -> Outbox:
        """Open (lazily) the store the settings name; `existing`: refuse a store not yet created. A SQLite
        file that is no database is refused: every use raises StoreUnavailable with a hint (503s), not a crash."""
        problem = None if settings.redis_url else sqlite_problem(settings.db_path)
        if problem:
            log.error("store refused: %s (%s)", problem, settings.db_path)
            return cls(settings, Refused(problem))
        return cls(settings, open_existing_store(settings) if existing else open_store(settings))

    def accept(self, event: SentryEvent, result: MatchResult, dedup_window: float, default_throttle: float,
               body: bytes | None = None) -> Accepted:
        """Claim the dedup key and durably write the webhook with its notifications (the worker polls for it and
        fans it out). `body` is the request body `event` was parsed from (else it is encoded from the event)."""
        now = time.time()
        webhook_id = new_id()
        # every webhook, matched or not, goes through the worker, which writes it into the history
        inbound = Inbound(webhook_id, now, event.resource, event.request_id, event.received_at,
                          event.body_sha256, event_body(event) if body is None else body,
                          self.notes.encode(result.notifications, default_throttle, result.rules),
                          to_json(list(result.matched)))
        if not self.store.accept(event.dedup_key, dedup_window, inbound, now, webhook_id):
            original = self.store.original(event.dedup_key) or webhook_id
            self._remember_duplicate(event, inbound, original)
            return Accepted(original, True)
        return Accepted(webhook_id, False)

    def _remember_duplicate(self, event: SentryEvent, inbound: Inbound, original: str) -> None:
        """Keep Sentry's re-send in the history, pointing at the original; never fails the answer."""
        with contextlib.suppress(StoreUnavailable):  # the original is stored; only the note of a re-send is lost
            self.store.record_webhook(record_of(event, inbound.webhook_id, inbound.created_at, (), inbound.body,
                                                duplicate_of=original))

    def fan_out(self, webhook_id: str) -> tuple[str, ...]:
        """Turn an accepted webhook into its queued jobs now (the worker does it by itself); their ids."""
        return tuple(fan_out(self.store, self.policy.deadline, webhook_id))

    def ping(self) -> None:
        """Raise StoreUnavailable with the reason when the store cannot be used (for /-/ready)."""
        self.store.ping()

    def queue_depth(self) -> int:
        """Jobs due now and waiting for a sender (scheduled retries not included)."""
        return self.store.count_due(time.time())

    def scrape_gauges(self) -> list[tuple[str, str, float]]:
        """Store-backed gauges for /metrics, read at scrape time: queue depth, webhooks waiting, dead letters."""
        return [("router_queue_depth", "Notifications waiting in the queue", float(self.queue_depth())),
                ("router_inbound_waiting", "Accepted webhooks a worker has not yet turned into notifications "
                 "(grows while no worker runs)", float(self.store.count_inbound())),
                ("router_dead_letters", "Notifications that failed for good (`sentry-router deliveries --failed`)",
                 float(self.store.count(DEAD)))]

    def deliveries(self, limit: int = 50, failed: bool = False, webhook_id: str = "") -> list[Job]:
        """The newest ledger rows; only retrying and dead ones with `failed`; only one webhook's with its id."""
        return self.store.jobs(limit, FAILED if failed else (), webhook_id)

    def replay(self, job_id: str, statuses: tuple[str, ...] = (DEAD,)) -> bool:
        """Send a dead letter (or a job in one of `statuses`) again, with fresh attempts and deadline; False
        unless `job_id` is in one of them."""
        return self.store.requeue(job_id, time.time(), self.policy.deadline, statuses)
