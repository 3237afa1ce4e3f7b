"""gunicorn settings for `sentry-router web`/`serve` and the Procfile: PORT, WEB_CONCURRENCY, no access log."""

import os
import tempfile

# Every web worker must write its metrics where /metrics (in any worker) reads them all.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="router-metrics-"))

bind = f"{os.environ.get('ROUTER_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Per-request access logging cost ~25% of ingest throughput; the app logs one line per webhook instead.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("ROUTER_LOG_LEVEL", "info").lower()
# gunicorn >= 25 shares one control socket path between instances; we need none.
control_socket_disable = True
timeout = 30
graceful_timeout = 25  # Heroku sends SIGKILL 30 s after SIGTERM
keepalive = 5
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def child_exit(server: object, worker: object) -> None:
    """A web worker exited: drop its live metrics so gauges stay right (prometheus multiprocess)."""
    from router.metrics import mark_dead

    mark_dead(worker.pid)  # type: ignore[attr-defined]
