"""The sweeper thread: the worker's heartbeat, orphaned sends (their worker died) made due again, expiry."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from router.delivery import Outbox
from router.delivery.deliverer import Deliverer
from router.store import HEARTBEAT_PREFIX, StoreUnavailable

log = logging.getLogger(__name__)
EXPIRE_EVERY = 600.0


class Sweeper(threading.Thread):
    """Heartbeat, then make orphaned sends due again (their worker died); expire old rows."""

    def __init__(self, outbox: Outbox, owner: str, heartbeat: float, retention: float,
                 deliverer: Deliverer) -> None:
        super().__init__(name="sweeper", daemon=True)
        self.outbox, self.owner, self.heartbeat, self.retention = outbox, owner, heartbeat, retention
        self.deliverer = deliverer
        self.interval = max(0.2, min(2.0, heartbeat / 3))
        self.stopped = threading.Event()
        self._next_expire = 0.0
        self._parent = int(os.environ.get("ROUTER_PARENT_PID") or 0)

    def beat(self) -> None:
        """Tell every process this worker is alive (its leased jobs are not orphans)."""
        self.outbox.store.kv_set(HEARTBEAT_PREFIX + self.owner, str(os.getpid()), self.heartbeat)

    def sweep(self) -> int:
        """One pass; returns how many orphaned sends were made due again."""
        store, now = self.outbox.store, time.time()
        self.deliverer.claims.settle()
        self.deliverer.claims.renew()   # before looking for orphans: our live sends are not theirs to take
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
            self.outbox.store.kv_delete(HEARTBEAT_PREFIX + self.owner)
        except StoreUnavailable as exc:
            log.warning("could not retract the heartbeat: %s", exc)
