"""The `worker` process: huey's consumer (threads) plus a sweeper that keeps the ledger and queue in step."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from huey.consumer import Consumer

from router.delivery import Delivery
from router.delivery.queue import set_handler
from router.delivery.store import HEARTBEAT_PREFIX, StoreUnavailable, new_id
from router.delivery.worker import Deliverer
from router.settings import Settings

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 20.0   # Heroku kills 30 s after SIGTERM; in-flight sends get 20 of them
SWEEP_LIMIT = 500
EXPIRE_EVERY = 600.0


class GracefulConsumer(Consumer):
    """huey's consumer with SIGINT and SIGTERM both graceful (stop dequeuing, finish in-flight sends)."""

    def _set_signal_handlers(self) -> None:
        self._signal_actions = {signal.SIGINT: (False, True), signal.SIGTERM: (False, True)}
        super()._set_signal_handlers()


class Sweeper(threading.Thread):
    """Heartbeat, then re-queue what the queue lost: orphaned sends, overdue jobs, webhooks never fanned out;
    expire old rows."""

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
        """One pass; returns how many jobs and webhooks were queued again."""
        store, queue, now = self.delivery.store, self.delivery.queue, time.time()
        if self.deliverer is not None:
            self.deliverer.settle()
        ids = store.recover_orphans(now)
        inbound: list[str] = []
        if queue.depth() < SWEEP_LIMIT:  # with a backlog, overdue tasks are just waiting their turn
            ids += store.stale(now, 3 * self.heartbeat, SWEEP_LIMIT)
            inbound = store.waiting(now, 3 * self.heartbeat, SWEEP_LIMIT)
        if ids:
            log.warning("re-queueing %d job(s) whose queue task was lost or whose worker died", len(ids))
            queue.enqueue(ids)
        if inbound:
            log.warning("re-queueing the fan-out of %d accepted webhook(s) whose queue task was lost", len(inbound))
            queue.enqueue(inbound, "fan_out")
        if now >= self._next_expire:
            self._next_expire = now + EXPIRE_EVERY
            dropped = store.expire(now, self.retention)
            if dropped:
                log.info("ledger: dropped %d finished entries older than the retention", dropped)
        return len(ids) + len(inbound)

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


def make_consumer(delivery: Delivery, threads: int) -> GracefulConsumer:
    """huey's consumer tuned for low latency: a polling worker waits at most 0.1 s (Redis blocks instead)."""
    return GracefulConsumer(delivery.queue.huey, workers=threads, periodic=False, initial_delay=0.02,
                            backoff=1.5, max_delay=0.1, scheduler_interval=1, worker_type="thread",
                            check_worker_health=True, health_check_interval=5, shutdown_timeout=SHUTDOWN_TIMEOUT)


def run_worker(settings: Settings) -> int:
    """Consume the queue until SIGINT/SIGTERM; in-flight sends finish (or stay recoverable); exit 0."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{new_id()[:6]}"
    delivery = Delivery.from_settings(settings)
    deliverer = Deliverer(settings, delivery.store, delivery.queue, owner=owner)
    sweeper = Sweeper(delivery, owner, settings.worker_heartbeat, settings.ledger_retention, deliverer)
    sweeper.beat()  # before the first claim: a claim without a heartbeat looks orphaned
    set_handler(deliverer)
    recovered = sweeper.sweep()
    log.info("worker %s: %d threads, store %s; %d job(s) recovered at start", owner, settings.worker_threads,
             "redis" if settings.redis_url else settings.db_path, recovered)
    sweeper.start()
    consumer = make_consumer(delivery, settings.worker_threads)
    try:
        consumer.run()
    finally:
        sweeper.stop()
        set_handler(None)
    log.info("worker %s stopped", owner)
    return 0
