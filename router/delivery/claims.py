"""The jobs one worker holds the claim of: taking them (the soonest due, or one by id), renewing the leases of
the ones still being sent, and giving back those a store outage left in doubt."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from router.store import RETRYING, Job, Store, StoreUnavailable

log = logging.getLogger(__name__)


class Claims:
    """One worker's (`owner`) claims, leased for `lease` seconds; thread-safe."""

    def __init__(self, store: Store, owner: str, lease: float) -> None:
        self.store, self.owner, self.lease = store, owner, lease
        self._lock = threading.Lock()
        self._carried = threading.local()   # per thread: the batch members its send under way claimed
        self._unsettled: set[str] = set()   # jobs a store outage left claimed (or maybe claimed) by us
        self._sending: set[str] = set()     # jobs a thread of ours holds the claim of right now
        self._claiming = 0                  # next() calls under way (their jobs are not in _sending yet)
        self._claim_lost = False            # a next() failed: it may have claimed a job we never heard of

    def next(self) -> Job | None:
        """Claim the soonest due job (the ledger is the queue), or None when none is due."""
        with self._lock:
            self._claiming += 1
        jobs: list[Job] = []
        try:
            jobs = self.store.claim_next(self.owner, self.lease, time.time(), 1)
        except StoreUnavailable:   # the claim may have happened with its answer lost: settle() gives it back
            with self._lock:
                self._claim_lost = True
            raise
        finally:
            with self._lock:   # one step with the count: settle() never sees a claimed job as unknown
                self._claiming -= 1
                self._sending.update(j.id for j in jobs)
        return jobs[0] if jobs else None

    def take(self, job_id: str) -> Job | None:
        """Claim one job by id if it is ours to send (not sent, leased or not yet due); else None."""
        with self._lock:
            self._claiming += 1
        job = None
        try:
            job = self.store.claim(job_id, self.owner, self.lease, time.time())
        except StoreUnavailable as exc:  # the claim may have happened with its answer lost: settle it later
            log.error("job %s: store unavailable at claim: %s", job_id, exc)
            self._unsettled.add(job_id)
        finally:
            with self._lock:
                self._claiming -= 1
                if job is not None:
                    self._sending.add(job.id)
        return job

    def batch(self, batch: str, now: float, limit: int) -> list[Job]:
        """Claim what waits in `batch` for the send under way in this thread: held like it (renewed, never given
        back) until that send ends."""
        with self._lock:
            self._claiming += 1
        jobs: list[Job] = []
        try:
            jobs = self.store.claim_batch(batch, self.owner, self.lease, now, limit)
        except StoreUnavailable:   # the claim may have happened with its answer lost: settle() gives it back
            with self._lock:
                self._claim_lost = True
            raise
        finally:
            with self._lock:
                self._claiming -= 1
                self._sending.update(j.id for j in jobs)
                carried = getattr(self._carried, "ids", None)
                if carried is not None:
                    carried.extend(j.id for j in jobs)
        return jobs

    @contextmanager
    def sending(self, job: Job) -> Iterator[list[str]]:
        """While the block runs, the job (and the batch members it carries: the list yielded) are our live sends
        (renewed, never given back)."""
        carried: list[str] = []
        with self._lock:
            self._sending.add(job.id)
        self._carried.ids = carried
        try:
            yield carried
        finally:
            self._carried.ids = None
            with self._lock:
                self._sending.discard(job.id)
                self._sending.difference_update(carried)

    def doubt(self, *job_ids: str) -> None:
        """The store failed mid-send: the claims are ours until settle() gives back those still unrecorded."""
        self._unsettled.update(job_ids)

    def renew(self) -> int:
        """Extend the lease of every job a thread of ours is still sending, so no other worker claims it while
        this one lives (the sweeper calls it every few seconds); how many were renewed."""
        with self._lock:
            ids = sorted(self._sending)
        return len(self.store.renew(ids, self.owner, time.time() + self.lease)) if ids else 0

    def settle(self) -> int:
        """Give back claims a store outage left in doubt: due again now; how many (the sweeper calls it)."""
        settled = 0
        for job_id in list(self._unsettled):
            try:
                if self.store.record(job_id, self.owner, RETRYING, time.time(),
                                     error="store was unavailable mid-delivery"):
                    settled += 1
            except StoreUnavailable:
                return settled   # still down: next sweep
            self._unsettled.discard(job_id)
        return settled + self._release_lost()

    def _release_lost(self) -> int:
        """After a failed next(), give back what we hold but do not know of (none of our live sends)."""
        with self._lock:
            if not self._claim_lost or self._claiming:
                return 0
            keep = sorted(self._sending)
        try:
            released = self.store.release(self.owner, keep, time.time())
        except StoreUnavailable:
            return 0   # still down: next sweep
        with self._lock:
            self._claim_lost = False
        return len(released)
