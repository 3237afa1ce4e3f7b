"""The `worker` process: sender threads that claim due jobs from the ledger (the queue) and deliver them, an
inbox poller that fans accepted webhooks out into jobs, and a sweeper (heartbeat, orphaned sends, expiry)."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time

from router.delivery import Delivery
from router.delivery.store import HEARTBEAT_PREFIX, StoreUnavailable
from router.delivery.worker import Deliverer
from router.settings import Settings

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 20.0   # Heroku kills 30 s after SIGTERM; in-flight sends get 20 of them
POLL = 0.02         # seconds between looks for accepted webhooks when none were waiting
POLL_LIMIT = 200    # webhooks handed out per look
QUEUE_HIGH = 1000   # no more fan-outs while this many jobs are due and waiting for a sender
EXPIRE_EVERY = 600.0
IDLE = 1.0          # seconds an idle sender waits for a wake-up at most (the store may return sooner)
DOWN_PAUSE = 0.5    # seconds a sender pauses after the store failed it


class Sweeper(threading.Thread):
    """Heartbeat, then make orphaned sends due again (their worker died); expire old rows."""

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
        """One pass; returns how many orphaned sends were made due again."""
        store, now = self.delivery.store, time.time()
        if self.deliverer is not None:
            self.deliverer.settle()
            self.deliverer.renew()   # before looking for orphans: our own live sends are not theirs to take
        ids = store.recover_orphans(now)
        if ids:
            log.warning("%d job(s) whose worker died mid-send are due again", len(ids))
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
    """Fans out accepted webhooks as they arrive (ingest writes only the webhook): their jobs, due now, are the
    queue. Each webhook is leased, so one whose fan-out was cut short is handed out again later."""

    def __init__(self, delivery: Delivery, lease: float, interval: float = POLL) -> None:
        super().__init__(name="inbox", daemon=True)
        self.delivery, self.lease, self.interval = delivery, lease, interval
        self.stopped = threading.Event()
        self._failing = False

    def poll(self) -> int:
        """Fan out each due webhook (oldest first, at most POLL_LIMIT); how many were handed out."""
        if self.delivery.store.count_due(time.time(), QUEUE_HIGH) >= QUEUE_HIGH:  # the backlog waits as webhooks
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


class Senders:
    """`threads` sender threads, each a loop: claim the soonest due job → deliver it; idle, wait for a wake-up."""

    def __init__(self, deliverer: Deliverer, threads: int) -> None:
        self.deliverer, self.store = deliverer, deliverer.store
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, name=f"sender-{n}", daemon=True)
                        for n in range(max(1, threads))]
        self._failing = False

    def start(self) -> None:
        """Start every sender thread."""
        for thread in self.threads:
            thread.start()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                job = self.deliverer.claim_next()
                if job is None:
                    self.store.wait_due(IDLE)
                    continue
                self._failing = False
            except Exception as exc:   # the store is down: jobs wait in it (leased ones come back)
                if not self._failing:
                    log.error("claiming failed (%s: %s); due jobs wait until it works again",
                              type(exc).__name__, exc)
                self._failing = True
                self.stopping.wait(DOWN_PAUSE)
                continue
            self.deliverer.deliver(job)

    def stop(self, timeout: float = SHUTDOWN_TIMEOUT) -> bool:
        """Stop claiming; wait up to `timeout` seconds for the sends under way; True if all finished."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


class Worker:
    """One worker process's parts: sender threads, the inbox poller and (with `sweep`) the sweeper."""

    def __init__(self, settings: Settings, owner: str, threads: int, sweep: bool = True,
                 delivery: Delivery | None = None) -> None:
        self.owner = owner
        self.delivery = delivery or Delivery.from_settings(settings)
        self.deliverer = Deliverer(settings, self.delivery.store, owner=owner)
        self.sweeper = Sweeper(self.delivery, owner, settings.worker_heartbeat, settings.ledger_retention,
                               self.deliverer) if sweep else None
        self.inbox = InboxPoller(self.delivery, 3 * settings.worker_heartbeat)
        self.senders = Senders(self.deliverer, threads)

    def start(self) -> int:
        """Beat, recover what dead workers left, then start every thread; how many jobs were recovered."""
        recovered = 0
        if self.sweeper is not None:
            self.sweeper.beat()  # before the first claim: a claim without a heartbeat looks orphaned
            recovered = self.sweeper.sweep()
            self.sweeper.start()
        self.inbox.start()
        self.senders.start()
        return recovered

    def stop(self) -> None:
        """Stop fanning out and claiming; sends under way finish within SHUTDOWN_TIMEOUT; retract the heartbeat."""
        self.inbox.stop()
        if not self.senders.stop(SHUTDOWN_TIMEOUT):
            log.warning("worker %s: sends still under way after %.0fs; they are recovered as orphans",
                        self.owner, SHUTDOWN_TIMEOUT)
        if self.sweeper is not None:
            self.sweeper.stop()


def run_worker(settings: Settings) -> int:
    """Claim and deliver jobs until SIGINT/SIGTERM; in-flight sends finish (or stay recoverable); exit 0."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"  # pid 1 in every container
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):   # both graceful: stop claiming, finish in-flight sends
        signal.signal(signum, lambda *_: stop.set())
    worker = Worker(settings, owner, settings.worker_threads)
    recovered = worker.start()
    log.info("worker %s: %d threads, store %s; %d job(s) recovered at start", owner, settings.worker_threads,
             "redis" if settings.redis_url else settings.db_path, recovered)
    while not stop.wait(0.5):
        pass
    log.info("worker %s: stopping", owner)
    worker.stop()
    log.info("worker %s stopped", owner)
    return 0
