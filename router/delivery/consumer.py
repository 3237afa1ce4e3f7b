"""The `worker` process: huey's consumer (threads), an inbox poller that fans accepted webhooks out into queued
jobs, and a sweeper that keeps the ledger and queue in step."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time

from huey.consumer import Consumer

from router.delivery import Delivery
from router.delivery.queue import set_handler
from router.delivery.store import HEARTBEAT_PREFIX, StoreUnavailable
from router.delivery.worker import Deliverer
from router.settings import Settings

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 20.0   # Heroku kills 30 s after SIGTERM; in-flight sends get 20 of them
SWEEP_LIMIT = 500
POLL = 0.02         # seconds between looks for accepted webhooks when none were waiting
POLL_LIMIT = 200    # webhooks handed out per look
QUEUE_HIGH = 1000   # no more fan-outs queued while this many tasks wait
EXPIRE_EVERY = 600.0


class GracefulConsumer(Consumer):
    """huey's consumer with SIGINT and SIGTERM both graceful (stop dequeuing, finish in-flight sends)."""

    def _set_signal_handlers(self) -> None:
        self._signal_actions = {signal.SIGINT: (False, True), signal.SIGTERM: (False, True)}
        super()._set_signal_handlers()


class Sweeper(threading.Thread):
    """Heartbeat, then re-queue what the queue lost: orphaned sends and overdue jobs; expire old rows."""

    def __init__(self, delivery: Delivery, owner: str, heartbeat: float, retention: float,
                 deliverer: Deliverer | None = None) -> None:
        super().__init__(name="sweeper", daemon=True)
        self.delivery, self.owner, self.heartbeat, self.retention = delivery, owner, heartbeat, retention
        self.deliverer = deliverer
        self.interval = max(0.2, min(2.0, heartbeat / 3))
        self.stopped = threading.Event()
        self._next_expire = 0.0
        self._parent = int(os.environ.get("ROUTER_PARENT_PID") or 0)

    def beat(self) -> None:
        """Tell every process this worker is alive (its leased jobs are not orphans)."""
        self.delivery.store.kv_set(HEARTBEAT_PREFIX + self.owner, str(os.getpid()), self.heartbeat)

    def sweep(self) -> int:
        """One pass; returns how many jobs were queued again."""
        store, queue, now = self.delivery.store, self.delivery.queue, time.time()
        if self.deliverer is not None:
            self.deliverer.settle()
            self.deliverer.renew()   # before looking for orphans: our own live sends are not theirs to take
        ids = store.recover_orphans(now)
        if queue.depth() < SWEEP_LIMIT:  # with a backlog, overdue jobs are just waiting their turn
            ids += store.stale(now, 3 * self.heartbeat, SWEEP_LIMIT)
        if ids:
            log.warning("re-queueing %d job(s) whose queue task was lost or whose worker died", len(ids))
            queue.enqueue(ids)
        if now >= self._next_expire:
            self._next_expire = now + EXPIRE_EVERY
            dropped = store.expire(now, self.retention)
            if dropped:
                log.info("ledger: dropped %d finished entries older than the retention", dropped)
        return len(ids)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            if self._parent and os.getppid() != self._parent:
                log.warning("parent process %d is gone; stopping", self._parent)
                os.kill(os.getpid(), signal.SIGTERM)
                self._parent = 0
            try:
                self.beat()
                self.sweep()
            except StoreUnavailable as exc:
                log.error("sweep: store unavailable: %s", exc)
            except Exception:
                log.exception("sweep failed")

    def stop(self) -> None:
        """Stop sweeping and retract the heartbeat so others recover anything left in flight at once."""
        self.stopped.set()
        try:
            self.delivery.store.kv_delete(HEARTBEAT_PREFIX + self.owner)
        except StoreUnavailable as exc:
            log.warning("could not retract the heartbeat: %s", exc)


class InboxPoller(threading.Thread):
    """Fans out accepted webhooks as they arrive (ingest writes no queue task, only the webhook): their jobs go
    into the queue. Each webhook is leased, so one whose fan-out was cut short is handed out again later."""

    def __init__(self, delivery: Delivery, lease: float, interval: float = POLL) -> None:
        super().__init__(name="inbox", daemon=True)
        self.delivery, self.lease, self.interval = delivery, lease, interval
        self.stopped = threading.Event()
        self._failing = False

    def poll(self) -> int:
        """Fan out each due webhook (oldest first, at most POLL_LIMIT); how many were handed out."""
        if self.delivery.queue.depth() >= QUEUE_HIGH:  # the backlog waits in the store, not in the queue
            return 0
        ids = self.delivery.store.due_inbound(time.time(), self.lease, POLL_LIMIT)
        for webhook_id in ids:
            if self.stopped.is_set():  # the rest are handed out again when their lease runs out
                break
            try:
                self.delivery.fan_out(webhook_id)
            except StoreUnavailable:
                raise
            except Exception:  # a bug must not hold up the others; this one is handed out again after its lease
                # (twice as long each time: store.MAX_LEASE_DOUBLINGS)
                log.exception("webhook %s: fan-out failed", webhook_id)
        return len(ids)

    def run(self) -> None:
        while not self.stopped.is_set():
            found = 0
            try:
                found = self.poll()
                self._failing = False
            except Exception as exc:  # the store or queue is down: webhooks wait in the store (leased: retried)
                if not self._failing:
                    log.error("inbox poll failed (%s: %s); accepted webhooks wait until it works again",
                              type(exc).__name__, exc)
                self._failing = True
            if found < POLL_LIMIT:
                self.stopped.wait(self.interval)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling; a fan-out under way finishes (waited for up to `timeout` seconds)."""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout)


def make_consumer(delivery: Delivery, threads: int) -> GracefulConsumer:
    """huey's consumer tuned for low latency: a polling worker waits at most 0.1 s (Redis blocks instead)."""
    return GracefulConsumer(delivery.queue.huey, workers=threads, periodic=False, initial_delay=0.02,
                            backoff=1.5, max_delay=0.1, scheduler_interval=1, worker_type="thread",
                            check_worker_health=True, health_check_interval=5, shutdown_timeout=SHUTDOWN_TIMEOUT)


def run_worker(settings: Settings) -> int:
    """Consume the queue until SIGINT/SIGTERM; in-flight sends finish (or stay recoverable); exit 0."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"  # pid 1 in every container
    delivery = Delivery.from_settings(settings)
    deliverer = Deliverer(settings, delivery.store, delivery.queue, owner=owner)
    sweeper = Sweeper(delivery, owner, settings.worker_heartbeat, settings.ledger_retention, deliverer)
    sweeper.beat()  # before the first claim: a claim without a heartbeat looks orphaned
    set_handler(deliverer)
    recovered = sweeper.sweep()
    log.info("worker %s: %d threads, store %s; %d job(s) recovered at start", owner, settings.worker_threads,
             "redis" if settings.redis_url else settings.db_path, recovered)
    sweeper.start()
    inbox = InboxPoller(delivery, 3 * settings.worker_heartbeat)
    inbox.start()
    consumer = make_consumer(delivery, settings.worker_threads)
    try:
        consumer.run()
    finally:
        inbox.stop()
        sweeper.stop()
        set_handler(None)
    log.info("worker %s stopped", owner)
    return 0
