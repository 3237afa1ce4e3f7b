"""Pacing (DESIGN 3.4): every Slack channel, and every rated email or Apprise target, keeps within its rate.

A budget per destination (`slack:#oncall`) lives in the shared store, so every worker thread and process of
either store draws on the same one (GCRA: a short burst, then one send per interval; Store.pace). A 429's
Retry-After closes the budget for the whole channel, not just for the notification that met it.

A notification that finds no free slot does not wait on its own: it joins a **batch** — its Slack card's
thread (`card:thread:#oncall:123`) or the destination's top level (`top:slack:#oncall`). The first to wait
becomes the batch's *carrier*: it reserves the next slot and is queued for then; the others are queued a
little later (GRACE, in case the carrier's worker dies). At its slot the carrier claims everything that
waits in its batch and its channel sends it as one message (`deliver_batch`: a digest, or one reply in the
card's thread), and each notification's ledger entry names the message that carried it. So a backlog costs
one message per card and slot instead of one per notification, and nothing is dropped: a batch that fails is
retried like any notification.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from router.channels.base import DeliveryError
from router.delivery.claims import Claims
from router.rules.model import Target
from router.settings import Settings
from router.store import Job, Store

log = logging.getLogger(__name__)

GRACE = 5.0          # seconds a batch member waits past its carrier's slot before it carries the batch itself
SOON = 0.05          # a slot this close is now
BATCH_LIMIT = 200    # notifications one message carries at most (the rest wait for the next slot)
NOTIFY_BURST = 3     # emails or Apprise messages a rated target may get at once
CARRIER = "carrier:"
LAST = "group-sent:"


@dataclass(frozen=True)
class Budget:
    """A destination's rate: `burst` sends at once, then one per `interval` seconds, shared by all processes."""

    key: str
    interval: float
    burst: int


def budget_for(target: Target, settings: Settings) -> Budget | None:
    """The rate budget a target sends under: per Slack channel (or incoming webhook), per rated email/Apprise
    target; None when it is not paced."""
    opts = target.options
    if target.type == "slack":
        if settings.slack_rate <= 0:
            return None
        where = f"slack:{opts['channel']}" if opts.get("channel") and not opts.get("webhook_url") \
            else f"slack-webhook:{target.name}"
        return Budget(where, 1.0 / settings.slack_rate, max(1, settings.slack_burst))
    per_minute = {"email": settings.email_rate, "apprise": settings.apprise_rate}.get(target.type, 0.0)
    if per_minute <= 0:
        return None
    return Budget(f"{target.type}:{target.name}", 60.0 / per_minute, NOTIFY_BURST)


def batch_for(thread: str | None, budget: Budget) -> str:
    """The batch a waiting notification joins: its thread (a Slack card's, as the channel names it), else its
    destination's top level."""
    return "card:" + thread if thread else "top:" + budget.key


class Pacer:
    """Decides, for a claimed job, whether it goes now (with what waits in its batch) or waits for a slot."""

    def __init__(self, store: Store, claims: Claims) -> None:
        self.store, self.claims, self.owner = store, claims, claims.owner

    def admit(self, job: Job, budget: Budget, batch: str) -> list[Job] | None:
        """The jobs to send now (this one first, then those that waited in its batch), or None when this job
        was given back to wait for its batch's slot."""
        now = time.time()
        carrier, slot = self._carrier(batch)
        if carrier == job.id:                       # our reserved slot has come
            self.store.kv_delete(CARRIER + batch)
            return self.gather(job, batch, now)
        if carrier and now < slot + GRACE:          # a carrier holds a slot for this batch: go with it
            self._wait(job, now, slot + GRACE, batch)
            return None
        slot = self.store.pace(budget.key, budget.interval, budget.burst, now)
        if slot <= now + SOON:
            return self.gather(job, batch, now)
        if not self.store.kv_set_nx(CARRIER + batch, f"{job.id}|{slot!r}", slot - now + GRACE):
            other, other_slot = self._carrier(batch)   # another job became the carrier meanwhile
            if other and other_slot <= slot:
                self._wait(job, now, other_slot + GRACE, batch)
                return None
        self._wait(job, now, slot, batch)
        return None

    def admit_group(self, job: Job, batch: str, wait: float, interval: float) -> tuple[list[Job] | None, bool]:
        """For a grouped rule (Alertmanager's group_wait / group_interval): (the jobs to send now, whether a
        rate slot is reserved for them already), or (None, False) when this job waits for its group's time."""
        now = time.time()
        carrier, slot, reserved = self._carrier(batch, with_reservation=True)
        if carrier == job.id:
            self.store.kv_delete(CARRIER + batch)
            return self.gather(job, batch, now), reserved
        if carrier and now < slot + GRACE:
            self._wait(job, now, slot + GRACE, batch)
            return None, False
        try:
            last = float(self.store.kv_get(LAST + batch) or "-inf")
        except ValueError:
            last = float("-inf")
        slot = max(now + wait, last + interval)
        if slot <= now + SOON:
            return self.gather(job, batch, now), False
        if not self.store.kv_set_nx(CARRIER + batch, f"{job.id}|{slot!r}", slot - now + GRACE):
            other, other_slot = self._carrier(batch)
            if other:
                self._wait(job, now, other_slot + GRACE, batch)
                return None, False
        self._wait(job, now, slot, batch)
        return None, False

    def sent_group(self, batch: str, interval: float) -> None:
        """Remember when a group last went out: the next one waits `interval` from now."""
        self.store.kv_set(LAST + batch, repr(time.time()), interval + 60.0)

    def gather(self, job: Job, batch: str, now: float) -> list[Job]:
        """This job and every job waiting in its batch, claimed for sending, oldest first."""
        others = self.claims.batch(batch, now, BATCH_LIMIT - 1)   # held with this job: renewed, never given back
        return sorted([job, *others], key=lambda j: (j.created_at, j.id))

    def later(self, jobs: list[Job], budget: Budget, batch: str) -> bool:
        """Jobs claimed but not sent (a card took the slot): send them now if the budget allows (True), else
        hand them back with the first as their carrier at the next slot."""
        now = time.time()
        slot = self.store.pace(budget.key, budget.interval, budget.burst, now)
        if slot <= now + SOON:
            return True
        self.store.kv_set(CARRIER + batch, f"{jobs[0].id}|{slot!r}|reserved", slot - now + GRACE)
        for k, job in enumerate(jobs):
            self._wait(job, now, slot if k == 0 else slot + GRACE, batch)
        return False

    def hold(self, budget: Budget | None, exc: DeliveryError) -> None:
        """A 429 (or Retry-After on any failure) closes the destination's budget for that long, for everyone."""
        if budget is None or not exc.retry_after or not exc.retryable:
            return
        self.store.pace(budget.key, budget.interval, budget.burst, time.time(), hold=exc.retry_after)
        log.info("%s: rate limited; no sends for %.1fs", budget.key, exc.retry_after)

    def _wait(self, job: Job, now: float, at: float, batch: str) -> None:
        self.store.defer(job.id, self.owner, now, at, batch)   # due at `at`: a sender claims it then

    def _carrier(self, batch: str, with_reservation: bool = False) -> Any:
        """The batch's carrier and its slot (and, asked, whether that slot is a reserved rate slot)."""
        raw = self.store.kv_get(CARRIER + batch) or ""
        carrier, _, rest = raw.partition("|")
        slot, _, reserved = rest.partition("|")
        try:
            found = (carrier, float(slot))
        except ValueError:
            found = ("", 0.0)
        return (*found, reserved == "reserved") if with_reservation else found
