"""This process's id without a system call per check: per-process state (connections, lock descriptors) is
checked against it on every write, and os.getpid() is a system call (glibc stopped caching it)."""

from __future__ import annotations

import os

_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


def pid() -> int:
    """os.getpid(), cached and refreshed in every forked child."""
    return _pid
