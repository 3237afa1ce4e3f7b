"""Logging set-up: one line per record, every known secret masked."""

from __future__ import annotations

import logging
import sys
import time

from router.logs.collapse import Collapse
from router.masking import mask_registered, register
from router.settings import Settings


class MaskingFormatter(logging.Formatter):
    """Formats a record, then masks every registered credential (the settings' secrets, given here, and each
    target's, registered as rules load), URL passwords and Slack tokens in it."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")
        register(secrets)
        self._stamp: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """logging's default time stamp, with the strftime part computed once per second (one line per webhook)."""
        if datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached = self._stamp
        if cached[0] != second:
            cached = self._stamp = (second, time.strftime(self.default_time_format, self.converter(second)))
        return (self.default_msec_format or "%s,%03d") % (cached[1], record.msecs)

    def format(self, record: logging.LogRecord) -> str:
        return mask_registered(super().format(record))


def configure_logging(settings: Settings) -> None:
    """Send the router's logs to stderr at ROUTER_LOG_LEVEL with secrets masked (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_router", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._router = True  # type: ignore[attr-defined]  # our mark, to find this handler when reconfiguring
    handler.setFormatter(MaskingFormatter(settings.secret_values()))
    handler.addFilter(Collapse())   # an outage's repeated warnings: one line and a count per 10 s
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # the logging HOWTO's "Optimization": skip what our format never shows (caller, thread, process name);
    # about a third of the cost of the INFO line logged per webhook
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    for name in CHATTY:   # their DEBUG lines are request dumps (headers, URLs with tokens): INFO at most
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))


CHATTY = ("apprise", "slack_sdk", "urllib3", "requests", "aiosmtpd", "mail.log")
