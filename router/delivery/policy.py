"""Retry policy: exponential backoff with jitter, spread so the attempts span the deadline."""

from __future__ import annotations

import random
from dataclasses import dataclass

from router.settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` sends at most, none after `deadline` seconds; the first retry waits about `base` seconds."""

    attempts: int = 8
    deadline: float = 3600.0
    base: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy the ROUTER_RETRY_* settings describe."""
        return cls(max(1, settings.retry_attempts), settings.retry_deadline, settings.retry_base)

    def factor(self) -> float:
        """Growth per retry chosen so that the nominal delays add up to the deadline (kept within 2..4)."""
        retries = self.attempts - 1
        if retries <= 1 or self.base <= 0 or self.base * retries >= self.deadline:
            return 2.0
        lo, hi = 1.0001, 4.0
        for _ in range(60):  # bisection on base * (f**retries - 1) / (f - 1) == deadline
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if self.base * (mid ** retries - 1) / (mid - 1) < self.deadline else (lo, mid)
        return min(4.0, max(2.0, lo))

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): 50–100 % of the nominal delay."""
        nominal = self.base * self.factor() ** (attempt - 1)
        jittered = nominal * (0.5 + 0.5 * (rng or random).random())
        return max(jittered, retry_after or 0.0)

    def next_retry(self, attempt: int, now: float, deadline_at: float,
                   retry_after: float | None = None) -> float | None:
        """When to try again after a retryable failure, or None when attempts or time are used up."""
        if attempt >= self.attempts:
            return None
        at = now + self.delay(attempt, retry_after)
        return at if at <= deadline_at else None
