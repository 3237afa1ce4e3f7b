"""Repeated warnings collapsed: during an outage every thread and loop reports the same failure many times a second.

A warning or error whose logger and message template were already logged within the window is held back and
counted; the first one after the window passes with the count of those held back. Only the first of a run
keeps its traceback. INFO and below (one line per webhook) always pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

WINDOW = 10.0   # seconds


class Collapse(logging.Filter):
    """A handler filter: one line per (logger, level, message template) per WINDOW seconds, plus a count."""

    def __init__(self, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window, self.clock = window, clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}   # key -> (passed at, held back since)
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        """False to hold a repeat back; the record that passes after a held-back run says how many there were."""
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self._lock:
            passed_at, held = self._seen.get(key, (-self.window, 0))
            if now - passed_at < self.window:
                self._seen[key] = (passed_at, held + 1)
                return False
            if len(self._seen) > 1024:   # templates are few; messages built without one must not grow this
                self._seen.clear()
            self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.getMessage()} (and {held} more like this in {now - passed_at:.0f} s, not shown)"
            record.args = None
        return True
