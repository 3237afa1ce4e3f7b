"""The inbox poller thread: fans accepted webhooks out into jobs as they arrive (ingest writes only the webhook)."""

from __future__ import annotations

import logging
import threading
import time

from router.delivery import Outbox
from router.store import StoreUnavailable

log = logging.getLogger(__name__)
POLL = 0.02         # seconds between looks for accepted webhooks when none were waiting
POLL_LIMIT = 200    # webhooks handed out per look
QUEUE_HIGH = 1000   # no more fan-outs while this many jobs are due and waiting for a sender


class InboxPoller(threading.Thread):
    """Fans out accepted webhooks as they arrive (ingest writes only the webhook): their jobs, due now, are the
    queue. Each webhook is leased, so one whose fan-out was cut short is handed out again later."""

    def __init__(self, outbox: Outbox, lease: float, interval: float = POLL) -> None:
        super().__init__(name="inbox", daemon=True)
        self.outbox, self.lease, self.interval = outbox, lease, interval
        self.stopped = threading.Event()
        self._failing = False

    def poll(self) -> int:
        """Fan out each due webhook (oldest first, at most POLL_LIMIT); how many were handed out."""
        if self.outbox.store.count_due(time.time(), QUEUE_HIGH) >= QUEUE_HIGH:  # the backlog waits as webhooks
            return 0
        ids = self.outbox.store.due_inbound(time.time(), self.lease, POLL_LIMIT)
        for webhook_id in ids:
            if self.stopped.is_set():  # the rest are handed out again when their lease runs out
                break
            try:
                self.outbox.fan_out(webhook_id)
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
