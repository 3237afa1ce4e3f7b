"""Quiet hours: `time_intervals` evaluated at a moment (Alertmanager's semantics), edges, zones, midnight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from router.rules.intervals import muted
from router.rules.load import load_rules_text

RULES = """\
version: 1
targets:
  log: {type: console}
time_intervals:
  - name: night                      # over midnight: two ranges
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}, {start_time: "00:00", end_time: "07:00"}]
  - name: berlin-office
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "17:00"}]
        location: Europe/Berlin
  - name: month-end                  # the last three days of every month, and the 1st
    time_intervals:
      - days_of_month: ["-3:-1", "1"]
  - name: holidays
    time_intervals:
      - months: [december]
        days_of_month: ["24:26"]
      - months: ["1"]
        days_of_month: [1]
        years: ["2027:2028"]
  - name: whole-month
    time_intervals:
      - days_of_month: ["1:-1"]
  - name: weekend
    time_intervals:
      - weekdays: [Saturday, sunday]
rules:
  - name: all
    match: {}
    notify: log
"""
INTERVALS = load_rules_text(RULES, "rules.yaml", {}).time_intervals


def at(text: str) -> datetime:
    """An aware moment from ISO text (UTC unless it says otherwise)."""
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@pytest.mark.parametrize("name, moment, holds", [
    ("night", "2026-11-29T21:59:59", False),
    ("night", "2026-11-29T22:00:00", True),        # start inclusive
    ("night", "2026-11-29T23:59:59", True),
    ("night", "2026-11-30T00:00:00", True),        # midnight belongs to the next day's 00:00 range
    ("night", "2026-11-30T06:59:59", True),
    ("night", "2026-11-30T07:00:00", False),       # end exclusive
    # 09:00-17:00 Berlin = 08:00-16:00 UTC in winter (CET), 07:00-15:00 UTC in summer (CEST)
    ("berlin-office", "2026-11-30T07:59:00", False),
    ("berlin-office", "2026-11-30T08:00:00", True),
    ("berlin-office", "2026-11-30T15:59:00", True),
    ("berlin-office", "2026-11-30T16:00:00", False),
    ("berlin-office", "2026-07-06T07:00:00", True),
    ("berlin-office", "2026-07-06T15:00:00", False),
    ("berlin-office", "2026-11-29T10:00:00", False),   # a Sunday
    ("berlin-office", "2026-11-27T15:30:00", True),    # a Friday
    ("berlin-office", "2026-11-30T09:00:00-05:00", True),    # 14:00 UTC = 15:00 in Berlin
    ("berlin-office", "2026-11-30T12:00:00-05:00", False),   # 17:00 UTC = 18:00 CET
    ("month-end", "2026-02-26T12:00:00", True),    # a 28-day month: -3 is the 26th
    ("month-end", "2026-02-25T23:59:59", False),
    ("month-end", "2026-01-29T00:00:00", True),    # a 31-day month: -3 is the 29th
    ("month-end", "2026-01-28T23:59:59", False),
    ("month-end", "2026-03-01T00:00:00", True),
    ("month-end", "2026-03-02T00:00:00", False),
    ("holidays", "2026-12-25T08:00:00", True),
    ("holidays", "2026-12-27T08:00:00", False),
    ("holidays", "2027-01-01T08:00:00", True),
    ("holidays", "2026-01-01T08:00:00", False),    # years: 2027:2028 only
    ("whole-month", "2026-02-28T23:00:00", True),
    ("weekend", "2026-11-28T00:00:00", True),      # names are case-insensitive
    ("weekend", "2026-11-30T00:00:00", False),
])
def test_interval_holds_at_moment(name: str, moment: str, holds: bool) -> None:
    """Each interval holds exactly at the moments Alertmanager's semantics say (inclusive start, exclusive end)."""
    assert INTERVALS[name].holds(at(moment)) is holds


def test_location_moves_the_day_boundary() -> None:
    """A weekday is the weekday in the interval's location: Friday 23:30 UTC is already Saturday in Tokyo."""
    rules = RULES.replace("  - name: weekend\n", "  - name: weekend-tokyo\n    time_intervals:\n"
                          "      - weekdays: [saturday, sunday]\n        location: Asia/Tokyo\n  - name: weekend\n")
    tokyo = load_rules_text(rules, "rules.yaml", {}).time_intervals["weekend-tokyo"]
    assert tokyo.holds(at("2026-11-27T23:30:00")) and not INTERVALS["weekend"].holds(at("2026-11-27T23:30:00"))


@pytest.mark.parametrize("mute, active, moment, reason", [
    (("night",), (), "2026-11-30T23:00:00", "mute_time_interval:night"),
    (("night",), (), "2026-11-30T12:00:00", None),
    ((), ("berlin-office",), "2026-11-30T12:00:00", None),
    ((), ("berlin-office",), "2026-11-30T20:00:00", "active_time_intervals:berlin-office"),
    ((), ("berlin-office", "weekend"), "2026-11-29T20:00:00", None),   # active in any of them
    (("weekend",), ("berlin-office",), "2026-11-28T12:00:00", "mute_time_interval:weekend"),
    (("gone",), ("removed",), "2026-11-30T23:00:00", None),            # names no longer defined: ignored
])
def test_muted_reason(mute: tuple[str, ...], active: tuple[str, ...], moment: str, reason: str | None) -> None:
    """A rule's mute/active intervals give the suppression reason at a moment, or None to send."""
    assert muted(mute, active, INTERVALS, at(moment)) == reason


def test_rule_carries_its_intervals() -> None:
    """mute_time_intervals and active_time_intervals load onto the rule, a single name as a one-item list."""
    text = RULES.replace("    notify: log\n", "    notify: log\n    mute_time_intervals: night\n"
                         "    active_time_intervals: [berlin-office, weekend]\n")
    rule = load_rules_text(text, "rules.yaml", {}).rules[0]
    assert rule.mute_time_intervals == ("night",) and rule.active_time_intervals == ("berlin-office", "weekend")
