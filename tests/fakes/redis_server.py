"""A real redis-server on a free 127.0.0.1 port for tests (no persistence unless asked); skipped if not installed
(a failure under CI=1)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tools import missing_tool


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process; `url` points at it, `flush()` empties it, `restart()` starts it again.

    `persistent=True` keeps an append-only file fsynced on every write (`appendfsync always`), so a
    restart — even after SIGKILL — comes back with every acknowledged write.
    """

    def __init__(self, workdir: Path, persistent: bool = False) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            missing_tool("redis-server is not installed: `apt-get install redis-server` to run the Redis tests")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else ["--appendonly", "no"]
        self.argv = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *aof,
                     "--dir", str(workdir), "--protected-mode", "no"]
        self.proc = self._spawn()
        self._wait()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def restart(self) -> None:
        """Start the (stopped) server again on the same port and directory."""
        self.stop()
        self.proc = self._spawn()
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def flush(self) -> None:
        """Delete every key."""
        import redis

        redis.Redis.from_url(self.url).flushall()

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server for the whole test session (one per xdist worker)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
