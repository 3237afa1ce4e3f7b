"""`sentry-router deliveries` and `replay`: the ledger as a table (or JSON lines), and a dead letter sent again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

import click

from router.cli.env import settings_from_env
from router.delivery import Outbox
from router.store import Job, StoreUnavailable

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
    lines = ("  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip() for r in all_rows)
    return "\n".join(lines)


def json_lines(jobs: Iterable[Job]) -> str:
    """One JSON object per job (no payload)."""
    return "\n".join(json.dumps(j.summary(), ensure_ascii=False) for j in jobs)


@click.command()
@click.option("--failed", is_flag=True, help="only notifications that are retrying or dead")
@click.option("--limit", type=int, default=50, show_default=True, help="how many, newest first")
@click.option("--webhook", "webhook_id", default="", metavar="ID", help="only the notifications of one webhook "
              "(the id of its 202 answer and log line)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def deliveries(failed: bool, limit: int, webhook_id: str, as_json: bool) -> None:
    """List the delivery ledger: what was sent where, status, attempts, last error, receipt."""
    try:
        jobs = Outbox.from_settings(settings_from_env(), existing=True).deliveries(limit, failed, webhook_id)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json_lines(jobs) if as_json else table(jobs))


@click.command()
@click.argument("job_id", metavar="ID")
def replay(job_id: str) -> None:
    """Send a dead letter again (fresh attempts); ID is from `sentry-router deliveries --failed`."""
    try:
        delivery = Outbox.from_settings(settings_from_env(), existing=True)
        if delivery.replay(job_id):
            click.echo(f"{job_id} queued again")
            return
        job = delivery.store.get(job_id)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    why = f"it is {job.status}" if job else "no such delivery"
    raise click.ClickException(f"cannot replay {job_id}: only dead letters can be replayed ({why})")
