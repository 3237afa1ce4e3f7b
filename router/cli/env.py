"""Settings for a command: from the environment and its path options, or one clear error instead of a traceback."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from router.settings import Settings, SettingsError

Decorated = Callable[..., Any]


def settings_from_env(**overrides: Any) -> Settings:
    """Settings.from_env, or a click error that prints the reason and exits 1."""
    try:
        return Settings.from_env(**overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def apply_paths(rules: str | None, templates: str | None) -> Settings:
    """Settings with --rules / --templates in place of ROUTER_RULES / ROUTER_TEMPLATES (for child processes too)."""
    if rules:
        os.environ["ROUTER_RULES"] = rules
    if templates:
        os.environ["ROUTER_TEMPLATES"] = templates
    return settings_from_env()


def server_options(f: Decorated) -> Decorated:
    """--host, --port, --workers, --rules and --templates, for the commands that run the web half."""
    f = click.option("--host", default=None, help="listen address (default $ROUTER_HOST, else 127.0.0.1, or "
                     "0.0.0.0 on a platform or in a container)")(f)
    f = click.option("--port", type=int, default=None, help="listen port (default $PORT or 8000)")(f)
    f = click.option("--workers", type=int, default=None, help="gunicorn workers (default $WEB_CONCURRENCY or 2)")(f)
    f = click.option("--rules", default=None, help="rules file (default $ROUTER_RULES)")(f)
    return click.option("--templates", default=None, help="template folder (default $ROUTER_TEMPLATES)")(f)
