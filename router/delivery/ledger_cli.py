"""What `sentry-router deliveries` prints: the ledger as a table (or JSON lines)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from router.delivery.store import Job

HEADER = ("ID", "ACCEPTED", "STATUS", "TRIES", "RULE → TARGET", "RESULT")


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _result(job: Job) -> str:
    if job.status == "sent":
        receipt = ", ".join(f"{k}={v}" for k, v in job.receipt.items())
        return receipt or "ok"
    if job.status == "retrying":
        return f"next try {_when(job.next_at)}: {job.last_error}"
    return job.last_error


def rows(jobs: Iterable[Job]) -> list[tuple[str, ...]]:
    """One printable row per job."""
    return [(j.id, _when(j.created_at), j.status, str(j.attempts), f"{j.rule} → {j.target}", _result(j))
            for j in jobs]


def table(jobs: Iterable[Job]) -> str:
    """An aligned text table with a header (the last column is not padded)."""
    body = rows(jobs)
    if not body:
        return "no deliveries"
    all_rows = [HEADER, *body]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(HEADER) - 1)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]).rstrip() for r in all_rows)


def json_lines(jobs: Iterable[Job]) -> str:
    """One JSON object per job (no payload)."""
    return "\n".join(json.dumps(j.summary(), ensure_ascii=False) for j in jobs)
