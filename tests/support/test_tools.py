"""A missing external tool (redis-server, chromium) skips a test locally and fails it under CI."""

from __future__ import annotations

import pytest

from tests.support.tools import missing_tool, under_ci


@pytest.mark.parametrize(("value", "expected"), [
    (None, False), ("", False), ("0", False), ("false", False), ("no", False),
    ("1", True), ("true", True), ("True", True), ("yes", True),
])
def test_which_ci_values_mean_ci(monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool) -> None:
    """CI=1 and CI=true (GitHub Actions) count as CI; unset, empty, 0 and false do not."""
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert under_ci() is expected


@pytest.mark.parametrize(("value", "outcome"), [(None, pytest.skip.Exception), ("1", pytest.fail.Exception),
                                                ("true", pytest.fail.Exception)])
def test_a_missing_tool_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str | None,
                                                         outcome: type[BaseException]) -> None:
    """missing_tool skips with its message outside CI and fails with it (and the hint to install) under CI."""
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(outcome, match="redis-server is not installed"):
        missing_tool("redis-server is not installed")
