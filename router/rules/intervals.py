"""Quiet hours: named `time_intervals`, compiled once and evaluated at a moment (Alertmanager's semantics).

An interval holds at a moment when any of its entries does; an entry holds when every field it gives does
(`times`, `weekdays`, `days_of_month`, `months`, `years`), read in its `location` (default UTC). Times are
`HH:MM`, start inclusive, end exclusive, `24:00` allowed as an end; ranges are `start:end`, inclusive.
Reading them from rules.yaml, with every problem at its line and key path: `interval_load.py`.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Entry:
    """One entry of a time interval: every field given must hold (an absent field always holds)."""

    times: Ranges = ()           # minutes of the day, [start, end)
    weekdays: Ranges = ()        # 0 = sunday
    days_of_month: Ranges = ()   # 1..31, or -1 (last day) .. -31
    months: Ranges = ()          # 1..12
    years: Ranges = ()
    location: Any = UTC

    def holds(self, moment: datetime) -> bool:
        """Whether `moment` (timezone-aware) falls in this entry, read in its location."""
        t = moment.astimezone(self.location)
        minute, weekday = t.hour * 60 + t.minute, (t.weekday() + 1) % 7
        return (_within(self.times, minute, end_open=True) and _within(self.weekdays, weekday)
                and _days_hold(self.days_of_month, t) and _within(self.months, t.month)
                and _within(self.years, t.year))


@dataclass(frozen=True)
class TimeInterval:
    """A named list of entries, from `time_intervals:`; holds when any entry does."""

    name: str
    entries: tuple[Entry, ...]
    line: int = 0

    def holds(self, moment: datetime) -> bool:
        """Whether `moment` falls in the interval (an interval with no entries never holds)."""
        return any(e.holds(moment) for e in self.entries)


def _within(ranges: Ranges, value: int, end_open: bool = False) -> bool:
    if not ranges:
        return True
    return any(lo <= value < hi if end_open else lo <= value <= hi for lo, hi in ranges)


def _days_hold(ranges: Ranges, t: datetime) -> bool:
    if not ranges:
        return True
    days = calendar.monthrange(t.year, t.month)[1]
    for lo, hi in ranges:
        begin, end = (days + lo + 1 if lo < 0 else lo), (days + hi + 1 if hi < 0 else hi)
        if begin <= days and begin <= t.day <= min(end, days):   # "29:31" does nothing in a 28-day month
            return True
    return False


def muted(names: tuple[str, ...], active: tuple[str, ...], intervals: Mapping[str, TimeInterval],
          moment: datetime) -> str | None:
    """Why a notification is held back at `moment` by its rule's quiet hours (a reason), or None to send.

    Inside any of `names` (mute_time_intervals) → `mute_time_interval:<name>`; outside every one of `active`
    (active_time_intervals) → `active_time_intervals:<a,b>`. Names no longer defined are ignored."""
    for name in names:
        interval = intervals.get(name)
        if interval is not None and interval.holds(moment):
            return f"mute_time_interval:{name}"
    known = [intervals[n] for n in active if n in intervals]
    if known and not any(i.holds(moment) for i in known):
        return "active_time_intervals:" + ",".join(i.name for i in known)
    return None
