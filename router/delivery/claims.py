"""The jobs one worker holds the claim of: taking them (the soonest due, or one by id), renewing the leases of
the ones still being sent, and giving back those a store outage left in doubt."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from router.store import RETRYING, Job, Store, StoreUnavailable

log = logging.getLogger(__name__)


class Claims:
    """One worker's (`owner`) claims, leased for `lease` seconds; thread-safe.

    Every thread of a worker claims as the same owner, so giving a claim back must never meet a claim being
    taken: `_gate` makes them take turns, and a job is in `_sending` from the moment its claim returns."""

    def __init__(self, store: Store, owner: str, lease: float) -> None:
        self.store, self.owner, self.lease = store, owner, lease
        self._lock = threading.Lock()        # guards the sets below
        self._gate = threading.Lock()        # claims taken vs claims given back (settle)
        self._carried = threading.local()    # per thread: the batch members its send under way claimed
        self._unsettled: set[str] = set()    # jobs a store outage left claimed (or maybe claimed) by us
        self._sending: set[str] = set()      # jobs a thread of ours holds the claim of right now
        self._claim_lost = False             # a claim failed: it may have claimed a job we never heard of

    def next(self) -> Job | None:
        """Claim the soonest due job (the ledger is the queue), or None when none is due."""
        jobs = self._claim(lambda: self.store.claim_next(self.owner, self.lease, time.time(), 1))
        return jobs[0] if jobs else None

    def take(self, job_id: str) -> Job | None:
        """Claim one job by id if it is ours to send (not sent, leased or not yet due); else None."""
        def claim() -> list[Job]:
            job = self.store.claim(job_id, self.owner, self.lease, time.time())
            return [job] if job is not None else []

        try:
            jobs = self._claim(claim)
        except StoreUnavailable as exc:  # the claim may have happened with its answer lost: settle it later
            log.error("job %s: store unavailable at claim: %s", job_id, exc)
            self.doubt(job_id)
            return None
        return jobs[0] if jobs else None

    def batch(self, batch: str, now: float, limit: int) -> list[Job]:
        """Claim what waits in `batch` for the send under way in this thread: held like it (renewed, never given
        back) until that send ends."""
        jobs = self._claim(lambda: self.store.claim_batch(batch, self.owner, self.lease, now, limit))
        carried = getattr(self._carried, "ids", None)
        if carried is not None:
            carried.extend(j.id for j in jobs)
        return jobs

    def _claim(self, claim: Callable[[], list[Job]]) -> list[Job]:
        with self._gate:
            try:
                jobs = claim()
            except StoreUnavailable:   # the claim may have happened with its answer lost: settle() gives it back
                self._claim_lost = True
                raise
            with self._lock:
                self._sending.update(j.id for j in jobs)
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
        with self._lock:
            self._unsettled.update(job_ids)

    def renew(self) -> int:
        """Extend the lease of every job a thread of ours is still sending, so no other worker claims it while
        this one lives (the sweeper calls it every few seconds); how many were renewed."""
        with self._lock:
            ids = sorted(self._sending)
        return len(self.store.renew(ids, self.owner, time.time() + self.lease)) if ids else 0

    def settle(self) -> int:
        """Give back claims a store outage left in doubt (due again now), never one of our live sends — a doubted
        job may have been claimed again by another thread of ours; how many (the sweeper calls it)."""
        settled = 0
        with self._gate:   # no claim is being taken meanwhile: _sending is every claim we know of
            with self._lock:
                doubted, live = sorted(self._unsettled), set(self._sending)
            for job_id in doubted:
                try:
                    if job_id not in live and self.store.record(job_id, self.owner, RETRYING, time.time(),
                                                                error="store was unavailable mid-delivery"):
                        settled += 1
                except StoreUnavailable:
                    return settled   # still down: next sweep
                with self._lock:
                    self._unsettled.discard(job_id)
            if self._claim_lost:
                try:
                    settled += len(self.store.release(self.owner, sorted(live), time.time()))
                except StoreUnavailable:
                    return settled   # still down: next sweep
                self._claim_lost = False
        return settled
