"""A corrupt SQLite store is refused with a hint (503s, not a crash); readiness writes; the WAL is bounded."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from router.settings import Settings
from router.store.sqlite import SqliteStore
from router.store.sqlite_tuning import WAL_LIMIT, truncate
from tests.conftest import SECRET, signed_headers
from tests.fakes.redis_server import RedisServer

HINT = "move the file and its -wal and -shm files aside"
BODY = b'{"action": "created", "data": {"issue": {"id": "1"}}}'


def _corrupt(path: Path) -> None:
    path.write_bytes(b"this is not a database" + os.urandom(8000))


def test_a_corrupt_store_answers_503_with_a_hint(settings: Settings, tmp_path: Path, caplog) -> None:
    """The app starts on a file that is no database; /-/ready and webhooks answer 503 saying what to do."""
    from router.web.app import create_app

    _corrupt(Path(settings.db_path))
    client = create_app(settings).test_client()
    ready = client.get("/-/ready")
    assert ready.status_code == 503 and HINT in ready.get_data(as_text=True)
    answer = client.post("/sentry/webhook", data=BODY, headers=signed_headers("issue", BODY))
    assert answer.status_code == 503 and answer.headers["Retry-After"] and HINT in answer.get_data(as_text=True)
    assert not any(r.exc_info for r in caplog.records)


def test_the_worker_refuses_a_corrupt_store_in_one_line(tmp_path: Path) -> None:
    """`sentry-router worker` on a corrupt file exits 1 with one line naming the fix, no traceback."""
    db = tmp_path / "r.sqlite3"
    _corrupt(db)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_", "REDIS_"))}
    env.update(SENTRY_CLIENT_SECRET=SECRET, ROUTER_DB=str(db), ROUTER_RULES=str(tmp_path / "none.yaml"))
    out = subprocess.run([sys.executable, "-m", "router", "worker"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and HINT in out.stderr


def test_a_malformed_page_names_the_fix(tmp_path: Path) -> None:
    """A store whose pages are damaged (the header intact) reports the same hint when used."""
    from router.store.health import unavailable

    exc = unavailable(str(tmp_path / "r.sqlite3"), sqlite3.DatabaseError("database disk image is malformed"))
    assert HINT in str(exc)


def test_ready_fails_when_writes_fail(tmp_path: Path, settings: Settings) -> None:
    """A Redis that answers PING but refuses writes (out of memory) makes /-/ready answer 503."""
    import redis

    from router.web.app import create_app

    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis")
    try:
        client = create_app(settings.replace(redis_url=server.url)).test_client()
        assert client.get("/-/ready").status_code == 200
        r = redis.Redis.from_url(server.url)
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("maxmemory", 1)
        assert r.ping()
        ready = client.get("/-/ready")
        assert ready.status_code == 503, ready.get_data(as_text=True)
    finally:
        server.stop()


def test_the_wal_is_bounded_and_cut_to_nothing_when_idle(tmp_path: Path) -> None:
    """Connections cap the WAL kept on disk after a reset; an idle checkpoint cuts it to zero bytes."""
    path = str(tmp_path / "r.sqlite3")
    store = SqliteStore(path)
    for i in range(300):
        store.kv_set(f"k{i}", "v" * 2000, 60)
    conn = store._conn()
    assert conn.execute("pragma journal_size_limit").fetchone()[0] == WAL_LIMIT
    assert os.path.getsize(path + "-wal") > 0
    checkpoint_conn = sqlite3.connect(path, isolation_level=None)
    truncate(checkpoint_conn, path)
    assert os.path.getsize(path + "-wal") == 0
