"""The status page's charts: counts per bucket become one SVG path scaled to the peak."""

from __future__ import annotations

import pytest

from router.web.console.charts import area_chart


@pytest.mark.parametrize("counts, peak, total, has", [
    ([], 0, 0, "M0 100 L4 100Z"),
    ([(1, 2)], 2, 2, "L1 0.0L2 0.0"),
    ([(0, 1), (0, 1), (3, 4), (9, 5)], 4, 6, "L0 50.0L1 50.0"),   # repeated buckets add; out of range ignored
])
def test_area_chart(counts: list, peak: int, total: int, has: str) -> None:
    """Peak and total are counted over the buckets, and each non-empty bucket is a step at its height."""
    chart = area_chart("t", counts, 4)
    assert (chart.peak, chart.total) == (peak, total) and has in chart.path
    assert chart.path.startswith("M0 100") and chart.path.endswith("L4 100Z")
