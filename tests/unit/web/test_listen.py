"""The default listen address (router/web/listen.py): private on a laptop, every interface on a platform or in a
container."""

from __future__ import annotations

import pytest

from router.settings import Settings
from router.web.listen import default_host, listen_host


@pytest.mark.parametrize("environ, files, expected", [
    ({}, set(), "127.0.0.1"),
    ({"DYNO": "web.1"}, set(), "0.0.0.0"),
    ({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, set(), "0.0.0.0"),
    ({"K_SERVICE": "router"}, set(), "0.0.0.0"),
    ({"DYNO": ""}, set(), "127.0.0.1"),
    ({}, {"/.dockerenv"}, "0.0.0.0"),
    ({}, {"/run/.containerenv"}, "0.0.0.0"),
])
def test_default_host(environ: dict[str, str], files: set[str], expected: str) -> None:
    """Loopback unless a platform variable is set or a container marker file exists."""
    assert default_host(environ, files.__contains__) == expected


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1", "::"])
def test_router_host_wins(host: str) -> None:
    """ROUTER_HOST, when set, is used as given wherever the router runs."""
    assert listen_host(Settings(host=host), {"DYNO": "web.1"}, lambda _: True) == host
    assert listen_host(Settings(host=host), {}, lambda _: False) == host


def test_unset_router_host_is_the_default() -> None:
    """An empty ROUTER_HOST means: choose the default."""
    assert listen_host(Settings.from_env({}), {}, lambda _: False) == "127.0.0.1"
