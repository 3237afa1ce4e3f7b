"""Commands that read the store refuse one that doesn't exist, naming the path they looked at
(router/delivery/store.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import main
from router.settings import Settings
from router.store import open_store

COMMANDS = [["deliveries"], ["deliveries", "--failed", "--json"], ["replay", "6616bb96b0c95b418a0d"],
            ["silence", "list"], ["silence", "expire", "6616bb96b0c95b418a0d"],
            ["silence", "add", "--issue", "1", "--for", "1h"]]


def _run(args: list[str]):
    env = {"ROUTER_DB": None, "REDIS_URL": "", "ROUTER_RULES": None, "SENTRY_URL": ""}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_missing_store_is_refused_and_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  args: list[str]) -> None:
    """Run from a folder without the router's store, a command says where it looked and creates nothing."""
    monkeypatch.chdir(tmp_path)
    result = _run(args)
    assert result.exit_code == 1
    expected = f"no store at {tmp_path / 'var' / 'router.sqlite3'} (ROUTER_DB=var/router.sqlite3, relative to " \
               f"the working directory {tmp_path})"
    assert expected in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_store_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the router's store exists, the same command reads it (an empty ledger here)."""
    monkeypatch.chdir(tmp_path)
    open_store(Settings(db_path="var/router.sqlite3")).ping()
    result = _run(["deliveries"])
    assert result.exit_code == 0, result.output
