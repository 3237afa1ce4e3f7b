"""One rules version everywhere: a watcher thread per process, readiness that tells nothing, the version in the
ledger."""

from __future__ import annotations

from pathlib import Path

from router.rules.reload import RulesHolder
from tests.conftest import CONSOLE_RULES, sentry_body, signed_headers
from tests.support.delivery import fan_out_all, wait_for

V2 = CONSOLE_RULES.replace("name: everything", "name: version-two")
BROKEN = CONSOLE_RULES.replace("notify: [log]", "notify: [nowhere]") + "# secret-path-and-regex (x+x+)+y\n"


def _watching_v2(tmp_path: Path) -> tuple[Path, list[RulesHolder]]:
    """Two watching holders ("processes") of one file, once both route with the valid edit V2."""
    path = tmp_path / "rules.yaml"
    path.write_text(CONSOLE_RULES)
    holders = [RulesHolder(str(path), 0.1) for _ in range(2)]
    for h in holders:
        h.watch()
    path.write_text(V2)
    wait_for(lambda: all(h.current.rules[0].name == "version-two" for h in holders), timeout=20)
    return path, holders


def test_idle_processes_take_a_change_without_requests(tmp_path: Path) -> None:
    """Two processes' rules that see no request both route with a valid edit within a few intervals."""
    _watching_v2(tmp_path)


def test_a_broken_file_after_a_good_one_leaves_all_on_the_good_one(tmp_path: Path) -> None:
    """After a valid edit then a broken one, every watching process routes with the valid edit and says it failed."""
    path, holders = _watching_v2(tmp_path)
    path.write_text(BROKEN)
    wait_for(lambda: all(not h.last_load_ok for h in holders), timeout=20)
    assert {h.current.rules[0].name for h in holders} == {"version-two"}
    assert all('unknown target "nowhere"' in (h.failure() or "") for h in holders)


def test_watching_twice_starts_one_thread(tmp_path: Path) -> None:
    """watch() is idempotent within a process."""
    import threading

    path = tmp_path / "rules.yaml"
    path.write_text(CONSOLE_RULES)
    holder = RulesHolder(str(path), 0.1)
    before = sum(t.name == "rules-watcher" for t in threading.enumerate())
    holder.watch()
    holder.watch()
    assert sum(t.name == "rules-watcher" for t in threading.enumerate()) == before + 1


def test_ready_says_only_that_a_reload_failed(client, rules_file) -> None:
    """/-/ready (unauthenticated) names no path, target, address or pattern after a refused reload."""
    rules_file.write_text(BROKEN)
    rt = client.application.extensions["router"]
    rt.rules.reload()
    text = client.get("/-/ready").get_data(as_text=True)
    assert "reload failed" in text
    for secret in (str(rules_file), str(rules_file.parent), "nowhere", "(x+x+)+y", "yaml"):
        assert secret not in text
    assert "nowhere" in (rt.rules.failure() or "")


def test_the_ledger_names_the_rules_version_that_routed(client, rules_file) -> None:
    """Every job in the ledger carries the sha256 prefix of the rules file that routed its webhook."""
    rt = client.application.extensions["router"]
    first = rt.rules.current.digest[:12]
    body = sentry_body("issue.created")
    assert client.post("/sentry/webhook", data=body, headers=signed_headers("issue", body)).status_code == 202
    rules_file.write_text(V2)
    rt.rules.reload()
    body = sentry_body("comment.created")
    assert client.post("/sentry/webhook", data=body, headers=signed_headers("comment", body)).status_code == 202
    fan_out_all(rt.delivery)
    versions = sorted(j.summary()["rules"] for j in rt.delivery.store.jobs(100))
    assert versions == sorted([first, rt.rules.current.digest[:12]]) and first != rt.rules.current.digest[:12]


def test_a_process_that_only_saw_the_broken_file_takes_the_valid_edit_a_sibling_loaded(tmp_path: Path) -> None:
    """Valid edit, then a broken one before process B looked: B routes with the valid edit (shared per machine)."""
    import os

    from router.rules.lastgood import LastGood

    path = tmp_path / "rules.yaml"
    path.write_text(CONSOLE_RULES)
    a, b = (RulesHolder(str(path), 3600, shared=LastGood(str(tmp_path / "var"))) for _ in range(2))
    path.write_text(V2)
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    a.reload()                                   # A saw the valid edit
    path.write_text(BROKEN)
    os.utime(path, ns=(path.stat().st_mtime_ns + 2 * 10**9,) * 2)
    b.reload()                                   # B only ever sees the broken file
    assert a.current.rules[0].name == b.current.rules[0].name == "version-two"
    assert not b.last_load_ok and b.failure()
