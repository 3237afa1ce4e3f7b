"""`time_intervals:` from rules.yaml, validated (every problem at its line and key path) and compiled into
the frozen intervals of `intervals.py`; and a rule's `mute_time_intervals` / `active_time_intervals`."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from router.rules.conditions import kind
from router.rules.intervals import Entry, Ranges, TimeInterval
from router.rules.targets import unknown_keys
from router.rules.yamlio import LList, LMap, Path, Report

KEYS = ("times", "weekdays", "days_of_month", "months", "years", "location")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")  # Alertmanager: sunday=0
MONTHS = tuple(m.lower() for m in calendar.month_name[1:])
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class IntervalCompiler:
    """Validates and compiles the top-level `time_intervals:` list, reporting through `report`."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def block(self, spec: Any, line: int) -> dict[str, TimeInterval]:
        """`time_intervals: [{name, time_intervals: [entry, …]}, …]` → intervals by name."""
        if spec is None:
            return {}
        if not isinstance(spec, LList):
            self.report(line, ("time_intervals",), "expected a list of {name:, time_intervals: [...]}, got "
                        + _kind(spec))
            return {}
        found: dict[str, TimeInterval] = {}
        for i, item in enumerate(spec):
            interval = self.interval(item, ("time_intervals", i), spec.item_lines[i])
            if interval is None:
                continue
            if interval.name in found:
                self.report(interval.line, ("time_intervals", i, "name"),
                            f'duplicate time interval name (first used on line {found[interval.name].line})')
                continue
            found[interval.name] = interval
        return found

    def interval(self, item: Any, path: Path, line: int) -> TimeInterval | None:
        """One named interval."""
        if not isinstance(item, LMap):
            self.report(line, path, f"expected a mapping with name: and time_intervals:, got {_kind(item)}")
            return None
        self._unknown(item, ("name", "time_intervals"), path)
        name, at = item.get("name"), item.value_lines.get("name", item.line)
        if not isinstance(name, str) or not name.strip():
            self.report(at, (*path, "name"), "missing (expected a name that rules use in mute_time_intervals: "
                        "or active_time_intervals:)" if "name" not in item else f"expected a name, got {_kind(name)}")
            return None
        entries = item.get("time_intervals")
        eline = item.value_lines.get("time_intervals", item.line)
        if not isinstance(entries, LList):
            got = "missing" if "time_intervals" not in item else f"got {_kind(entries)}"
            self.report(eline, (*path, "time_intervals"), f"{got} (expected a list of entries with times:, "
                        "weekdays:, days_of_month:, months:, years:, location:)")
            return None
        built = [self.entry(e, (*path, "time_intervals", j), entries.item_lines[j]) for j, e in enumerate(entries)]
        return TimeInterval(name, tuple(e for e in built if e is not None), at)

    def entry(self, spec: Any, path: Path, line: int) -> Entry | None:
        """One entry: every field optional; `{}` always holds."""
        if not isinstance(spec, LMap):
            self.report(line, path, f"expected a mapping of {', '.join(KEYS)}, got {_kind(spec)}")
            return None
        self._unknown(spec, KEYS, path)
        def at(key: str) -> int:
            return spec.value_lines.get(key, spec.line)

        fields: dict[str, Any] = {}
        if "times" in spec:
            fields["times"] = self.times(spec["times"], (*path, "times"), at("times"))
        for key, parse in (("weekdays", _weekday), ("days_of_month", _day), ("months", _month), ("years", _year)):
            if key in spec:
                fields[key] = self.ranges(spec[key], parse, (*path, key), at(key))
        if "location" in spec:
            fields["location"] = self.location(spec["location"], (*path, "location"), at("location"))
        return Entry(**{k: v for k, v in fields.items() if v is not None})

    def times(self, spec: Any, path: Path, line: int) -> Ranges | None:
        """`times: [{start_time: "HH:MM", end_time: "HH:MM"}, …]`."""
        if not isinstance(spec, LList) or not spec:
            self.report(line, path,
                        f"expected a list of {{start_time: HH:MM, end_time: HH:MM}}, got {_kind(spec)}")
            return None
        out = []
        for i, item in enumerate(spec):
            where, iline = (*path, i), spec.item_lines[i]
            if not isinstance(item, LMap):
                self.report(iline, where, f"expected {{start_time: HH:MM, end_time: HH:MM}}, got {_kind(item)}")
                return None
            self._unknown(item, ("start_time", "end_time"), where)
            ends = [self.clock(item.get(k), (*where, k), item.value_lines.get(k, item.line), k in item)
                    for k in ("start_time", "end_time")]
            start, end = ends
            if start is None or end is None:
                return None
            if start >= end:
                self.report(iline, where, f"start_time {_hhmm(start)} is not before end_time {_hhmm(end)} "
                            "(an interval over midnight is two: 22:00-24:00 and 00:00-06:00)")
                return None
            out.append((start, end))
        return tuple(out)

    def clock(self, value: Any, path: Path, line: int, present: bool) -> int | None:
        """Minutes of the day from `HH:MM` (00:00 to 24:00)."""
        m = _TIME.match(value) if isinstance(value, str) else None
        if m is None or int(m[2]) > 59 or int(m[1]) * 60 + int(m[2]) > 24 * 60:
            got = "missing" if not present else f"got {_kind(value)}"
            self.report(line, path, f"{got} (expected a time of day HH:MM, 00:00 to 24:00, quoted)")
            return None
        return int(m[1]) * 60 + int(m[2])

    def ranges(self, spec: Any, parse: Any, path: Path, line: int) -> Ranges | None:
        """A list of values or `start:end` ranges, each parsed by `parse` (value or error text)."""
        if not isinstance(spec, LList) or not spec:
            self.report(line, path, f"expected a list of values or start:end ranges, got {_kind(spec)}")
            return None
        out = []
        for i, item in enumerate(spec):
            text = str(item) if isinstance(item, (str, int)) and not isinstance(item, bool) else None
            parts = text.split(":") if text is not None else []
            values: list[Any] = ["expected a value or start:end"]
            if 1 <= len(parts) <= 2:
                values = [parse(p.strip()) for p in parts]
            problem = next((v for v in values if isinstance(v, str)), None) or _order(path[-1], values)
            if problem:
                self.report(spec.item_lines[i], (*path, i), f"{_kind(item)}: {problem}")
                return None
            out.append((values[0], values[-1]))
        return tuple(out)

    def location(self, value: Any, path: Path, line: int) -> Any:
        """An IANA time zone name (Europe/Berlin), or UTC."""
        if isinstance(value, str) and value.strip():
            if value.strip().upper() == "UTC":
                return UTC
            try:
                return ZoneInfo(value.strip())
            except (ZoneInfoNotFoundError, ValueError):
                pass
        self.report(line, path, f"unknown time zone {_kind(value)} (expected an IANA name like "
                                "Europe/Berlin or America/New_York, or UTC)")
        return None

    def _unknown(self, mapping: LMap, allowed: tuple[str, ...], path: Path) -> None:
        unknown_keys(mapping, allowed, path, self.report)


def _named(names: tuple[str, ...], what: str, text: str, numbers: range) -> int | str:
    low = text.lower()
    if low in names:
        return names.index(low) + (1 if what == "month" else 0)
    if what == "month" and low.isdigit() and int(low) in numbers:
        return int(low)
    return f"unknown {what} (expected {', '.join(names)}" + (" or 1-12)" if what == "month" else ")")


def _weekday(text: str) -> int | str:
    return _named(WEEKDAYS, "weekday", text, range(0))


def _month(text: str) -> int | str:
    return _named(MONTHS, "month", text, range(1, 13))


def _day(text: str) -> int | str:
    if re.fullmatch(r"-?\d+", text) and 1 <= abs(int(text)) <= 31:
        return int(text)
    return "expected a day of the month, 1 to 31, or -1 (the last day) to -31"


def _year(text: str) -> int | str:
    return int(text) if text.isdigit() and 1 <= int(text) <= 9999 else "expected a year like 2026"


def _order(field: Any, values: list[Any]) -> str:
    lo, hi = values[0], values[-1]
    if field == "days_of_month" and lo < 0 < hi:
        return "a range that starts counting from the end of the month must end so too (like -3:-1)"
    if lo > hi and (field != "days_of_month" or (lo > 0) == (hi > 0)):  # 1:-1 is the whole month
        hint = " (list both instead: [saturday, sunday])" if field == "weekdays" else ""
        return f"the start is after the end{hint}"
    return ""


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _kind(value: Any) -> str:
    return kind(value)


def interval_names(value: Any, path: Path, line: int, known: Mapping[str, TimeInterval] | None,
                   report: Report) -> tuple[str, ...]:
    """A rule's `mute_time_intervals:` / `active_time_intervals:`: a name or list of names defined above."""
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, LList) else None
    if not names or not all(isinstance(n, str) and n for n in names):
        report(line, path, f"expected a time interval name or a list of them, got {_kind(value)}")
        return ()
    for n in names:
        if known is not None and n not in known:
            choices = ", ".join(sorted(known)) or "none: add a time_intervals: block"
            report(line, path, f'unknown time interval "{n}" (expected one of {choices})')
    return tuple(dict.fromkeys(names))
