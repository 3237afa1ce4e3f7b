"""Small server-rendered charts for the status page: counts per bucket → one SVG path (no JS, no assets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """An area chart: its SVG path (`d`), peak and total, and its size in SVG units."""

    title: str
    path: str
    peak: int
    total: int
    width: int
    height: int = 100


def area_chart(title: str, counts: Iterable[tuple[int, int]], buckets: int, height: int = 100) -> Chart:
    """One closed path over `buckets` buckets (x = bucket, y = count scaled to the peak); missing ones are 0.

    One element however many buckets: 1,440 minutes cost one attribute, not 1,440 nodes."""
    values = [0] * buckets
    for b, n in counts:
        if 0 <= b < buckets:
            values[b] += n
    peak = max(values)
    scale = height / (peak or 1)
    points = " ".join(f"L{i} {height - v * scale:.1f}L{i + 1} {height - v * scale:.1f}" for i, v in enumerate(values)
                      if v or (i and values[i - 1]))
    path = f"M0 {height}{' ' + points if points else ''} L{buckets} {height}Z"
    return Chart(title=title, path=path, peak=peak, total=sum(values), width=buckets, height=height)
