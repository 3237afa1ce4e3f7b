"""The `worker` process: sender threads that claim due jobs from the ledger (the queue) and deliver them, the
inbox poller (inbox.py) that fans accepted webhooks out into jobs, and the sweeper (sweeper.py)."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time

from router.delivery import Outbox
from router.delivery.deliverer import Deliverer
from router.settings import Settings
from router.worker.inbox import InboxPoller
from router.worker.sweeper import Sweeper

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 20.0   # Heroku kills 30 s after SIGTERM; in-flight sends get 20 of them
IDLE = 1.0          # seconds an idle sender waits for a wake-up at most (the store may return sooner)
DOWN_PAUSE = 0.5    # seconds a sender pauses after the store failed it


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
                job = self.deliverer.claims.next()
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
                 outbox: Outbox | None = None) -> None:
        self.owner = owner
        self.outbox = outbox or Outbox.from_settings(settings)
        self.deliverer = Deliverer(settings, self.outbox.store, owner=owner)
        self.sweeper = Sweeper(self.outbox, owner, settings.worker_heartbeat, settings.ledger_retention,
                               self.deliverer) if sweep else None
        self.inbox = InboxPoller(self.outbox, 3 * settings.worker_heartbeat)
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
