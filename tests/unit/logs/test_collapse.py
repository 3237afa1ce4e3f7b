"""Repeated warnings and errors collapse into one line and a count per window; INFO lines never do."""

from __future__ import annotations

import io
import logging

from router.logs.collapse import Collapse


def _logger(clock: list[float]) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(Collapse(window=10.0, clock=lambda: clock[0]))
    logger = logging.getLogger(f"test-collapse-{id(out)}")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler)
    return logger, out


def test_an_outage_logs_one_traceback_and_a_count() -> None:
    """500 identical errors with tracebacks within the window give one line and one traceback; the next one
    after the window says how many were held back."""
    clock = [100.0]
    logger, out = _logger(clock)
    for i in range(500):
        try:
            raise ConnectionError("redis down")
        except ConnectionError:
            logger.exception("job %s: store unavailable", i)
    clock[0] += 11
    logger.error("job %s: store unavailable", "last")
    text = out.getvalue()
    assert text.count("Traceback") == 1
    assert text.count("store unavailable") == 2
    assert "job last: store unavailable (and 499 more like this in 11 s, not shown)" in text


def test_different_messages_and_info_lines_all_pass() -> None:
    """Different templates are separate; INFO lines (one per webhook) are never held back."""
    logger, out = _logger([0.0])
    for i in range(50):
        logger.info("webhook %s accepted", i)
        logger.warning("a %s", i)
        logger.warning("b %s", i)
    lines = out.getvalue().splitlines()
    assert sum("accepted" in line for line in lines) == 50
    assert len(lines) == 52
