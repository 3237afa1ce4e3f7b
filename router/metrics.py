"""Prometheus metrics (names start `router_`); multiprocess-safe under gunicorn.

PROMETHEUS_MULTIPROC_DIR must be set before this module is first imported for
several processes to share counters; `serve`, `web` and gunicorn's config set it
(router.cli.supervise.multiproc_dir, router/web/gunicorn_conf.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

WEBHOOKS = Counter("router_webhooks", "Webhooks received", ["resource", "action", "outcome"])
INGEST_SECONDS = Histogram("router_ingest_seconds", "Time to verify, match and durably enqueue one webhook",
                           buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
NOTIFICATIONS = Counter("router_notifications", "Notifications by target type and outcome",
                        ["target_type", "outcome"])
DELIVERY_SECONDS = Histogram("router_delivery_seconds", "Webhook accepted → notification delivered",
                             ["target_type"],
                             buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600))
TEMPLATE_ERRORS = Counter("router_template_errors", "Template renders that failed and fell back to default",
                          ["template"])


def mark_dead(pid: int) -> None:
    """Tell the multiprocess collector a worker process has exited (gunicorn child_exit)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class _ScrapeTime(Collector):
    """Gauges read from the shared store at scrape time (right in any process)."""

    def __init__(self, read: Callable[[], Iterable[tuple[str, str, float]]]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        for name, help_text, value in self._read():
            yield GaugeMetricFamily(name, help_text, value=value)


def exposition(scrape_time: Callable[[], Iterable[tuple[str, str, float]]] | None = None) -> bytes:
    """The /metrics body: this process's (or all processes') metrics plus store-backed gauges."""
    base = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    body = generate_latest(base)
    if scrape_time is not None:
        extra = CollectorRegistry()
        extra.register(_ScrapeTime(scrape_time))
        body += generate_latest(extra)
    return body
