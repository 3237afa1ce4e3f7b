"""The record stage: a job's outcome into the ledger — sent, suppressed, retrying at its next due time, or
dead — counted in the metrics, with every secret masked out of the reason."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from router.channels.base import DeliveryError, Receipt
from router.delivery.policy import RetryPolicy
from router.masking import mask, strings_in, url_secrets
from router.rules.model import Target
from router.settings import Settings
from router.store import DEAD, RETRYING, SENT, SUPPRESSED, Job, Store, StoreUnavailable

log = logging.getLogger(__name__)


def count(target_type: str, outcome: str, seconds: float | None = None) -> None:
    """One notification outcome in the metrics (and, when sent, how long after its webhook)."""
    try:
        from router import metrics  # not at import: PROMETHEUS_MULTIPROC_DIR must be set before (metrics.py)

        metrics.NOTIFICATIONS.labels(target_type=target_type, outcome=outcome).inc()
        if seconds is not None:
            metrics.DELIVERY_SECONDS.labels(target_type=target_type).observe(seconds)
    except Exception:  # metrics never break a delivery
        log.debug("metrics update failed", exc_info=True)


def plain_receipt(receipt: Receipt | None) -> dict[str, Any]:
    """The JSON-able scalars of a channel's receipt."""
    return {str(k): v for k, v in (receipt or {}).items() if isinstance(v, (str, int, float, bool, type(None)))}


class Outcomes:
    """Writes what became of the jobs a worker holds the claim of (`owner`)."""

    def __init__(self, settings: Settings, store: Store, owner: str,
                 targets: Callable[[], Mapping[str, Target]]) -> None:
        self.settings, self.store, self.owner, self.targets = settings, store, owner, targets
        self.policy = RetryPolicy.from_settings(settings)

    def sent(self, job: Job, receipt: Receipt | None, suppressed: int | None = None) -> None:
        """Sent: the receipt kept, the latency counted."""
        self.record(job, SENT, receipt=plain_receipt(receipt), suppressed=suppressed)
        count(job.target_type, "sent", time.time() - job.created_at)

    def suppressed(self, job: Job, why: str) -> None:
        """Held back (a silence, quiet hours, the throttle): not sent, and why."""
        self.record(job, SUPPRESSED, error=why)
        count(job.target_type, "suppressed")

    def failed(self, job: Job, exc: DeliveryError, suppressed: int | None = None) -> None:
        """A failed send: retrying at the policy's next due time, or dead when permanent or out of attempts."""
        now = time.time()
        reason = self._mask(job, exc.reason)
        at = self.policy.next_retry(job.attempts, now, job.deadline_at, exc.retry_after) if exc.retryable else None
        if at is None:
            why = reason if not exc.retryable else f"{reason} (gave up after {job.attempts} attempt(s))"
            self.record(job, DEAD, error=why, suppressed=suppressed)
            count(job.target_type, "dead")
            log.warning("job %s to %s is dead: %s", job.id, job.target, why)
            return
        self.record(job, RETRYING, error=reason, next_at=at, suppressed=suppressed)  # due again at `at`
        count(job.target_type, "retry")
        log.info("job %s to %s: attempt %d failed (%s); retry in %.1fs", job.id, job.target, job.attempts,
                 reason, at - now)

    def _mask(self, job: Job, text: str) -> str:
        secrets = list(self.settings.secret_values())
        current = self.targets().get(job.target)
        for value in strings_in(job.payload.get("options")) + strings_in(current.options if current else None):
            secrets.extend(url_secrets(value) if "://" in value else [])
        return mask(text, secrets)[:500]

    def record(self, job: Job, status: str, **fields: Any) -> None:
        """Write the outcome; a briefly unavailable store is retried so a done send is not sent again."""
        for attempt in range(6):
            try:
                if not self.store.record(job.id, self.owner, status, time.time(), **fields):
                    log.warning("job %s: claim lost before recording %s (recovered elsewhere)", job.id, status)
                return
            except StoreUnavailable:
                if attempt == 5:
                    raise
                time.sleep(0.2 * 2 ** attempt)
