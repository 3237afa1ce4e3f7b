"""The address `serve`/`web` listen on: private on a laptop, every interface where a platform routes traffic in."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from router.settings import Settings

# Set by platforms that route outside traffic to the process's port: Heroku, Kubernetes, Cloud Run, Fly.io, Render.
PLATFORM_VARIABLES = ("DYNO", "KUBERNETES_SERVICE_HOST", "K_SERVICE", "FLY_APP_NAME", "RENDER")
# Present inside Docker and Podman containers, whose port is only reachable when published.
CONTAINER_FILES = ("/.dockerenv", "/run/.containerenv")


def default_host(environ: Mapping[str, str], exists: Callable[[str], bool] = os.path.exists) -> str:
    """`0.0.0.0` on a platform or in a container, else `127.0.0.1` (a laptop or VM: nothing opened by surprise)."""
    if any(environ.get(name) for name in PLATFORM_VARIABLES) or any(exists(path) for path in CONTAINER_FILES):
        return "0.0.0.0"
    return "127.0.0.1"


def listen_host(settings: Settings, environ: Mapping[str, str] | None = None,
                exists: Callable[[str], bool] = os.path.exists) -> str:
    """ROUTER_HOST (or --host) when set, else the default for where the router runs."""
    return settings.host or default_host(os.environ if environ is None else environ, exists)
