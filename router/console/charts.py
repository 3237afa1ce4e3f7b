"""Small server-rendered charts for the status page: counts per bucket → SVG bar geometry (no JS, no assets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One bar: position, height (in the chart's units) and its label (bucket start and count)."""

    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Chart:
    """A bar chart: the bars, its peak value and its size."""

    title: str
    bars: tuple[Bar, ...]
    peak: int
    total: int
    width: int = 720
    height: int = 120


def bar_chart(title: str, counts: Iterable[tuple[int, int]], buckets: int, labels: list[str],
              width: int = 720, height: int = 120) -> Chart:
    """Bars for `buckets` buckets from (bucket, count) pairs; missing buckets are zero."""
    values = [0] * buckets
    for b, n in counts:
        if 0 <= b < buckets:
            values[b] += n
    peak = max(values) or 1
    w = width / buckets
    bars = tuple(Bar(x=round(i * w, 2), y=round(height - v / peak * height, 2), width=round(max(w - 0.5, 3.0), 2),
                     height=round(v / peak * height, 2), label=f"{labels[i]}: {v}")
                 for i, v in enumerate(values) if v)
    return Chart(title=title, bars=bars, peak=max(values), total=sum(values), width=width, height=height)
