"""External tools the suite drives (redis-server, chromium): a missing one skips locally and fails under CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

CI_TRUE = {"1", "true", "yes", "on"}


def under_ci() -> bool:
    """True when CI is set to a true value (CI=1, CI=true as GitHub Actions sets it); CI=0/false is not CI."""
    return os.environ.get("CI", "").strip().lower() in CI_TRUE


def missing_tool(message: str) -> NoReturn:
    """Skip the test with `message`, or fail it under CI, where every tool must be installed and every test run."""
    if under_ci():
        pytest.fail(f"{message} (CI runs every test: install it, see .ci/run)", pytrace=False)
    pytest.skip(message)
