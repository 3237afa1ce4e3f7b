"""`sentry-router serve`: the web half (gunicorn) and the delivery worker as two supervised children."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)
STOP_TIMEOUT = 28.0  # both children stop gracefully well inside Heroku's 30 s
PR_SET_PDEATHSIG = 1


def _own_group_dying_with_parent() -> None:  # runs in the child between fork and exec
    os.setsid()  # Ctrl-C reaches only us; we forward a graceful SIGTERM
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the worker also watches its parent pid
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _remove_dead_dirs(parent: Path) -> None:
    """Drop metrics-<pid> folders left by earlier `serve` runs whose process is gone."""
    for old in parent.glob("metrics-*"):
        pid = old.name.removeprefix("metrics-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and Path("/proc/self").exists():
            shutil.rmtree(old, ignore_errors=True)


def multiproc_dir(db_path: str) -> str:
    """PROMETHEUS_MULTIPROC_DIR for every child (fresh folder beside the store unless already set)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        _remove_dead_dirs(Path(db_path).resolve().parent)
        folder = Path(db_path).resolve().parent / f"metrics-{os.getpid()}"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        path = str(folder)
    Path(path).mkdir(parents=True, exist_ok=True)
    return path


def _stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("pid %d did not stop in %.0f s; killing it", p.pid, STOP_TIMEOUT)
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def serve_both(web_argv: Sequence[str], env: Mapping[str, str], db_path: str) -> int:
    """Run gunicorn and `sentry-router worker` until SIGINT/SIGTERM (exit 0) or one of them dies (exit 1)."""
    env = dict(env, ROUTER_PARENT_PID=str(os.getpid()), PROMETHEUS_MULTIPROC_DIR=multiproc_dir(db_path))
    signals: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: signals.append(signum))
    worker = subprocess.Popen([sys.executable, "-m", "router", "worker"], env=env,
                              preexec_fn=_own_group_dying_with_parent)
    web = subprocess.Popen(list(web_argv), env=env, preexec_fn=_own_group_dying_with_parent)
    procs = [web, worker]
    while not signals and all(p.poll() is None for p in procs):
        time.sleep(0.1)
    if signals:
        log.info("received %s: stopping web and worker gracefully", signal.Signals(signals[0]).name)
        _stop(procs)
        return 0
    dead = next(p for p in procs if p.poll() is not None)
    log.error("%s exited with %s; stopping the other half", "web" if dead is web else "worker", dead.returncode)
    _stop(procs)
    return 1
