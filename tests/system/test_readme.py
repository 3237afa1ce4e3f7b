"""The README stays in the order users need it, with each table once and every link inside it resolving."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from router.settings import TABLE

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
ORDER = ["Quick start", "Connect Sentry", "Connect Slack", "Write rules", "Templates", "Deploy", "Operate",
         "Troubleshooting", "Reference", "Internals and performance"]


def _sections() -> list[str]:
    return re.findall(r"^## (.+)$", README, flags=re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _table_keys() -> list[str]:
    """The first cell of every table body row."""
    rows = [line for line in README.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [row.split(" | ")[0][2:].strip() for row in rows]


def test_sections_come_in_the_order_users_need() -> None:
    """The issue's order holds: quick start first, reference before internals, internals last."""
    found = [s for s in _sections() if s in ORDER]
    assert found == ORDER
    assert _sections()[-1] == "Internals and performance"


def test_every_anchor_resolves() -> None:
    """Each `(#anchor)` link names a heading of the README."""
    anchors = {_slug(h) for h in re.findall(r"^#{1,4} (.+)$", README, flags=re.M)}
    missing = sorted(set(re.findall(r"\]\(#([^)]+)\)", README)) - anchors)
    assert missing == []


@pytest.mark.parametrize("var", [row[1] for row in TABLE])
def test_each_setting_has_one_row(var: str) -> None:
    """Every setting is a row of exactly one table (the settings reference), never repeated in another."""
    assert _table_keys().count(f"`{var}`") == 1


def test_no_table_row_repeats() -> None:
    """No row key (a setting, metric, status, command…) appears in two tables."""
    keys = [k for k in _table_keys() if k.startswith("`")]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []
