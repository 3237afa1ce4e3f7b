"""gunicorn settings for `sentry-router web`/`serve` and the Procfile: PORT, WEB_CONCURRENCY, no access log."""

import os
import tempfile

from router.settings import Settings
from router.web.listen import listen_host

_settings = Settings.from_env()
# Every web worker must write its metrics where /metrics (in any worker) reads them all.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="router-metrics-")

bind = f"{listen_host(_settings)}:{_settings.port}"
workers = _settings.web_concurrency
# One thread per process that buffers each request whole, with a read deadline: slow or idle clients hold
# a buffer, never the worker (router/web/serving.py)
worker_class = "router.web.serving.BufferingWorker"
# Per-request access logging cost ~25% of ingest throughput; the app logs one line per webhook instead.
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
# gunicorn >= 25 shares one control socket path between instances; we need none.
control_socket_disable = True
timeout = 30
graceful_timeout = 25  # Heroku sends SIGKILL 30 s after SIGTERM
keepalive = 5
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def child_exit(server: object, worker: object) -> None:
    """A web worker exited: drop its live metrics so gauges stay right (prometheus multiprocess)."""
    # imported here, not above: prometheus_client fixes its multiprocess mode when first imported, so the master
    # must set PROMETHEUS_MULTIPROC_DIR (above) before anything imports router.metrics
    from router.metrics import mark_dead

    mark_dead(worker.pid)  # type: ignore[attr-defined]  # gunicorn passes its Worker


def pre_exec(server: object) -> None:
    """SIGUSR2 handover: re-exec the new master as `python -m gunicorn`, as `web` started it.

    gunicorn re-executes `python <sys.argv>`; under `-m` that is gunicorn/__main__.py run as a script, which puts
    gunicorn's own folder first on sys.path, where its `http` package hides the standard library's."""
    args = server.START_CTX["args"]  # type: ignore[attr-defined]  # gunicorn passes its Arbiter
    if len(args) > 1 and args[1].endswith(os.path.join("gunicorn", "__main__.py")):
        server.START_CTX["args"] = [args[0], "-m", "gunicorn", *args[2:]]  # type: ignore[attr-defined]  # the Arbiter
