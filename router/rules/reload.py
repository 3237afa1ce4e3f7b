"""Hot reload: every process keeps the live RuleSet and re-reads the rules file when it changes.

`maybe_reload()` is cheap enough to call on every request: it looks at the file at most once per
interval and compares inode, size and mtime (so editors and config maps that replace the file
by rename are seen). `watch()` also calls it from a background thread, so every process (each web
worker and the delivery worker) takes a change within one interval, whether it gets requests or not.
An invalid new file is refused: the old rules keep routing, the errors are logged and kept in
`last_error`, and `last_load_ok` turns False until a good file is loaded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from router.rules.lastgood import LastGood
from router.rules.load import RulesError, load_default_rules, load_rules_text, read_rules_file
from router.rules.model import RuleSet
from router.settings import Settings

log = logging.getLogger(__name__)

Signature = tuple[int, int, int, int] | None    # (device, inode, size, mtime_ns); None: no file


@dataclass(frozen=True)
class RulesStatus:
    """What metrics and /-/ready need to know about the live rules."""

    ok: bool                 # the last load attempt succeeded
    digest: str              # sha256 of the active rules file
    hash_value: int          # the first 52 bits of the digest, exact in a float gauge
    error: str | None        # why the last attempt was refused, if it was
    source: str
    rules: int
    targets: int


def file_signature(path: str) -> Signature:
    """What changes when the file (or, through symlinks, the file it points to) is replaced or edited."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class RulesHolder:
    """The live rules of one process; raises RulesError at construction if the file is invalid."""

    def __init__(self, path: str, interval_seconds: float = 2.0, environ: Mapping[str, str] | None = None,
                 on_change: Callable[[RulesHolder], None] | None = None, shared: LastGood | None = None) -> None:
        self.path, self.interval, self.environ, self.on_change = path, interval_seconds, environ, on_change
        self.shared, self._mtime = shared, 0    # _mtime: modification time of the file the live rules came from
        self._signature = file_signature(path)
        if self._signature is None:
            log.warning("rules file %s does not exist: routing with the built-in default (everything to the console) "
                        "until it appears", path)
            self.current: RuleSet = load_default_rules()
        else:
            self.current = self._compile(read_rules_file(path), self._signature)
        self.last_error: str | None = None
        self.last_load_ok = True
        self._next_check = time.monotonic() + interval_seconds
        self._lock = threading.Lock()
        self._watching = 0    # pid of the process whose watcher thread runs

    def watch(self) -> None:
        """Check the file every interval from a daemon thread of this process (once per process: forks start anew)."""
        with self._lock:
            if self._watching == os.getpid():
                return
            self._watching = os.getpid()
        threading.Thread(target=self._watch, name="rules-watcher", daemon=True).start()

    def _watch(self) -> None:
        pid = os.getpid()
        while self._watching == pid:
            time.sleep(max(0.05, self._next_check - time.monotonic()))
            try:
                self.maybe_reload()
            except Exception:   # never let the watcher die: the next interval tries again
                log.exception("rules watcher: checking %s failed", self.path)

    def maybe_reload(self) -> bool:
        """Reload if the interval has passed and the file changed; True if new rules are now active."""
        now = time.monotonic()
        if now < self._next_check or not self._lock.acquire(blocking=False):
            return False
        try:
            self._next_check = now + self.interval
            signature = file_signature(self.path)
            if signature == self._signature:
                return False
            self._signature = signature
            if signature is None:
                log.warning("rules file %s disappeared: still routing with the rules loaded from %s",
                            self.path, self.current.source)
                return False
            return self._load()
        finally:
            self._lock.release()

    def reload(self) -> bool:
        """Load the file now, whatever its signature; True if new rules are now active."""
        with self._lock:
            self._signature = file_signature(self.path)
            return self._load()

    def _compile(self, text: str, signature: Signature) -> RuleSet:
        """Compile the file's text (RulesError if invalid); a valid one is shared with this machine's processes."""
        ruleset = load_rules_text(text, self.path, self.environ)
        if signature is not None:
            self._mtime = signature[3]
            if self.shared is not None:
                self.shared.save(signature[3], text)
        return ruleset

    def _load(self) -> bool:
        try:
            ruleset = self._compile(read_rules_file(self.path), self._signature)
        except RulesError as exc:
            self.last_error, self.last_load_ok = str(exc), False
            log.error("rules file %s is invalid; still routing with the previous rules (%s):\n%s",
                      self.path, self.current.digest[:12], exc)
            self._adopt_shared()
            self._notify()
            return False
        changed = ruleset.digest != self.current.digest
        self.current, self.last_error, self.last_load_ok = ruleset, None, True
        log.info("rules %s %s: %d rules, %d targets (sha256 %s)", self.path, "reloaded" if changed else "unchanged",
                 len(ruleset.rules), len(ruleset.targets), ruleset.digest[:12])
        self._notify()
        return True

    def _adopt_shared(self) -> None:
        """After a refused file: route with the valid text a sibling process loaded since ours, if there is one."""
        found = self.shared.read() if self.shared is not None else None
        if found is None or found[0] <= self._mtime:
            return
        try:
            ruleset = load_rules_text(found[1], self.path, self.environ)
        except RulesError:
            return
        self._mtime = found[0]
        if ruleset.digest != self.current.digest:
            self.current = ruleset
            log.warning("routing with the newer valid rules (sha256 %s) another process loaded from %s before it "
                        "became invalid", ruleset.digest[:12], self.path)

    def _notify(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self)
            except Exception:  # a metrics hook must never break routing
                log.exception("rules on_change hook failed")

    def failure(self) -> str | None:
        """Why the last reload was refused (file, line, rule, pattern), or None: for the log and the admin API only,
        never for unauthenticated answers."""
        return self.last_error

    def status(self) -> RulesStatus:
        """The live rules' status, for metrics and readiness."""
        cur = self.current
        return RulesStatus(ok=self.last_load_ok, digest=cur.digest, hash_value=int(cur.digest[:13] or "0", 16),
                           error=self.last_error, source=cur.source, rules=len(cur.rules), targets=len(cur.targets))


def shared_rules(settings: Settings) -> LastGood:
    """Where this machine's processes share the newest valid rules: beside the SQLite store (also with Redis)."""
    return LastGood(os.path.dirname(os.path.abspath(settings.db_path)))
