"""Hot reload: every process keeps the live RuleSet and re-reads the rules file when it changes.

`maybe_reload()` is cheap enough to call on every request: it looks at the file at most once per
interval and compares inode, size and mtime (so editors and config maps that replace the file
by rename are seen). An invalid new file is refused: the old rules keep routing, the errors are
logged and kept in `last_error`, and `last_load_ok` turns False until a good file is loaded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from router.rules.load import RulesError, load_default_rules, load_rules
from router.rules.model import RuleSet

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


def _initial(path: str, environ: Mapping[str, str] | None) -> RuleSet:
    if not os.path.exists(path):
        log.warning("rules file %s does not exist: routing with the built-in default (everything to the console) "
                    "until it appears", path)
        return load_default_rules()
    return load_rules(path, environ)


class RulesHolder:
    """The live rules of one process; raises RulesError at construction if the file is invalid."""

    def __init__(self, path: str, interval_seconds: float = 2.0, environ: Mapping[str, str] | None = None,
                 on_change: Callable[[RulesHolder], None] | None = None) -> None:
        self.path, self.interval, self.environ, self.on_change = path, interval_seconds, environ, on_change
        self._signature = file_signature(path)
        self.current: RuleSet = _initial(path, environ)
        self.last_error: str | None = None
        self.last_load_ok = True
        self._next_check = time.monotonic() + interval_seconds
        self._lock = threading.Lock()

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

    def _load(self) -> bool:
        try:
            ruleset = load_rules(self.path, self.environ)
        except RulesError as exc:
            self.last_error, self.last_load_ok = str(exc), False
            log.error("rules file %s is invalid; still routing with the previous rules (%s):\n%s",
                      self.path, self.current.digest[:12], exc)
            self._notify()
            return False
        changed = ruleset.digest != self.current.digest
        self.current, self.last_error, self.last_load_ok = ruleset, None, True
        log.info("rules %s %s: %d rules, %d targets (sha256 %s)", self.path, "reloaded" if changed else "unchanged",
                 len(ruleset.rules), len(ruleset.targets), ruleset.digest[:12])
        self._notify()
        return True

    def _notify(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self)
            except Exception:  # a metrics hook must never break routing
                log.exception("rules on_change hook failed")

    def status(self) -> RulesStatus:
        """The live rules' status, for metrics and readiness."""
        cur = self.current
        return RulesStatus(ok=self.last_load_ok, digest=cur.digest, hash_value=int(cur.digest[:13] or "0", 16),
                           error=self.last_error, source=cur.source, rules=len(cur.rules), targets=len(cur.targets))
