"""Hot reload: valid changes take effect, invalid ones are refused while the old rules keep routing."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from router.rules.load import RulesError
from router.rules.match import match
from router.rules.reload import RulesHolder
from router.sentry import build

FIXTURES = Path(__file__).parents[2] / "fixtures"
RULES = """\
version: 1
targets: {{log: {{type: console}}}}
rules:
  - {{name: {name}, match: {{resource: issue}}, notify: [log]}}
"""


def issue_created():
    """The issue.created fixture as an event."""
    return build("issue", json.loads((FIXTURES / "issue.created.json").read_text("utf-8")))


def write(path: Path, text: str, *, by_rename: bool = False) -> None:
    """Write the rules file in place, or the way vim and config maps do: a new file renamed over it."""
    if by_rename:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        path.write_text(text)
    st = path.stat()  # filesystems with coarse mtimes: make each write visibly newer
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def matched(holder: RulesHolder) -> tuple[str, ...]:
    """The rule names the holder's current rules match for issue.created."""
    return match(holder.current, issue_created()).matched


@pytest.mark.parametrize("by_rename", [False, True], ids=["in-place", "rename"])
def test_valid_change_takes_effect(tmp_path: Path, by_rename: bool) -> None:
    """A changed valid file is loaded on the next check, whether written in place or renamed over."""
    path = tmp_path / "rules.yaml"
    write(path, RULES.format(name="old"))
    changes: list[bool] = []
    holder = RulesHolder(str(path), 0, environ={}, on_change=lambda h: changes.append(h.last_load_ok))
    assert matched(holder) == ("old",)
    write(path, RULES.format(name="new"), by_rename=by_rename)
    assert holder.maybe_reload() is True
    assert matched(holder) == ("new",) and holder.last_load_ok and holder.last_error is None
    assert changes == [True]


def test_invalid_change_is_refused_and_old_rules_keep_working(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An invalid new file is refused, logged and reported; the old rules route until a valid file comes."""
    path = tmp_path / "rules.yaml"
    write(path, RULES.format(name="old"))
    holder = RulesHolder(str(path), 0, environ={})
    old_digest = holder.current.digest
    write(path, RULES.format(name="old").replace("resource: issue", "resource: {eqq: issue}"))
    with caplog.at_level(logging.ERROR, logger="router.rules.reload"):
        assert holder.maybe_reload() is False
    assert matched(holder) == ("old",)
    assert not holder.last_load_ok and 'unknown operator "eqq"' in (holder.last_error or "")
    assert any('unknown operator "eqq"' in r.getMessage() for r in caplog.records)
    status = holder.status()
    assert (status.ok, status.digest, status.hash_value) == (False, old_digest, int(old_digest[:13], 16))
    write(path, RULES.format(name="fixed"))
    assert holder.maybe_reload() is True
    assert matched(holder) == ("fixed",) and holder.last_load_ok and holder.last_error is None


def test_checks_at_most_once_per_interval(tmp_path: Path) -> None:
    """Within the interval a changed file is not even looked at (maybe_reload is cheap per request)."""
    path = tmp_path / "rules.yaml"
    write(path, RULES.format(name="old"))
    holder = RulesHolder(str(path), 3600, environ={})
    write(path, RULES.format(name="new"))
    assert holder.maybe_reload() is False and matched(holder) == ("old",)
    assert holder.reload() is True and matched(holder) == ("new",)


def test_unchanged_file_is_not_reloaded(tmp_path: Path) -> None:
    """When inode, size and mtime are unchanged nothing is re-read."""
    path = tmp_path / "rules.yaml"
    write(path, RULES.format(name="old"))
    holder = RulesHolder(str(path), 0, environ={})
    current = holder.current
    assert holder.maybe_reload() is False and holder.current is current


def test_invalid_file_at_start_raises(tmp_path: Path) -> None:
    """A process does not start on an invalid rules file: RulesError with every problem."""
    path = tmp_path / "rules.yaml"
    write(path, "version: 2\nrules: []\n")
    with pytest.raises(RulesError) as info:
        RulesHolder(str(path), 0, environ={})
    assert info.value.errors == [f"{path}:1: version: unsupported version 2 (expected version: 1)"]


def test_missing_file_uses_default_until_it_appears(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Without a rules file the packaged default routes (with a WARNING); the file is picked up when created."""
    path = tmp_path / "rules.yaml"
    with caplog.at_level(logging.WARNING, logger="router.rules.reload"):
        holder = RulesHolder(str(path), 0, environ={})
    assert matched(holder) == ("everything-to-console",)
    assert any(str(path) in r.getMessage() for r in caplog.records)
    write(path, RULES.format(name="mine"))
    assert holder.maybe_reload() is True and matched(holder) == ("mine",)


def test_file_disappearing_keeps_the_rules(tmp_path: Path) -> None:
    """A rules file that vanishes (mid-rename, deleted) leaves the current rules routing."""
    path = tmp_path / "rules.yaml"
    write(path, RULES.format(name="old"))
    holder = RulesHolder(str(path), 0, environ={})
    path.unlink()
    assert holder.maybe_reload() is False and matched(holder) == ("old",) and holder.last_load_ok
    write(path, RULES.format(name="back"))
    assert holder.maybe_reload() is True and matched(holder) == ("back",)


def test_symlink_swap_like_a_config_map(tmp_path: Path) -> None:
    """A Kubernetes config map swaps a `..data` symlink; the change behind the symlink is seen."""
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    (tmp_path / "v1" / "rules.yaml").write_text(RULES.format(name="v1"))
    (tmp_path / "v2" / "rules.yaml").write_text(RULES.format(name="v2"))
    os.symlink("v1", tmp_path / "..data")
    os.symlink("..data/rules.yaml", tmp_path / "rules.yaml")
    holder = RulesHolder(str(tmp_path / "rules.yaml"), 0, environ={})
    assert matched(holder) == ("v1",)
    os.symlink("v2", tmp_path / "..data_tmp")
    os.replace(tmp_path / "..data_tmp", tmp_path / "..data")
    assert holder.maybe_reload() is True and matched(holder) == ("v2",)
