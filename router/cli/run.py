"""`sentry-router web`, `worker` and `serve`: the two halves alone, or both under one supervisor."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from router.channels.readiness import undeliverable
from router.cli.env import apply_paths, server_options
from router.cli.supervise import multiproc_dir, serve_both
from router.logs import configure_logging
from router.rules.load import RulesError, load_rules_or_default
from router.rules.model import RuleSet
from router.settings import MISSING_SECRET, Settings
from router.store import StoreUnavailable
from router.worker import run_worker

WSGI_APP = "router.web.wsgi:app"
GUNICORN_CONFIG = "python:router.web.gunicorn_conf"


def preflight(settings: Settings) -> None:
    """Refuse to start web serving without a client secret or with invalid rules: one clear error, exit 1."""
    if not settings.client_secrets:
        raise click.ClickException(MISSING_SECRET)
    if not os.path.exists(settings.rules_path):
        click.echo(f"warning: rules file {settings.rules_path} does not exist: routing everything to the console "
                   "(the built-in default)", err=True)
    try:
        ruleset = load_rules_or_default(settings.rules_path)
    except RulesError as exc:
        raise click.ClickException(f"the rules file is invalid, not starting:\n{exc}") from None
    warn_undeliverable(ruleset, settings)


def warn_undeliverable(ruleset: RuleSet, settings: Settings) -> None:
    """Say at start, as `check` does, which targets cannot deliver (a missing SLACK_BOT_TOKEN or SMTP_URL)."""
    for line in undeliverable(ruleset, settings):
        click.echo(f"warning: {line}", err=True)


def gunicorn_argv(host: str | None, port: int | None, workers: int | None) -> tuple[list[str], dict[str, str]]:
    """The gunicorn command line and environment for the web half."""
    env = dict(os.environ)
    if host:
        env["ROUTER_HOST"] = host
    if port is not None:
        env["PORT"] = str(port)
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    # web threads each get a glibc malloc arena, which keeps a large body's memory once freed; bodies past
    # 1 MiB are mmapped and handed back instead (RSS stays flat after 10 MiB bodies on several threads)
    env.setdefault("MALLOC_ARENA_MAX", "2")
    env.setdefault("MALLOC_MMAP_THRESHOLD_", "1048576")
    argv = [sys.executable, "-m", "gunicorn", "--no-control-socket", "--config", GUNICORN_CONFIG, WSGI_APP]
    return argv, env


@click.command()
@server_options
def web(host: str | None, port: int | None, workers: int | None, rules: str | None, templates: str | None) -> None:
    """Run the web half alone (gunicorn): verify, match and queue webhooks."""
    settings = apply_paths(rules, templates)
    preflight(settings)
    argv, env = gunicorn_argv(host, port, workers)
    # all gunicorn workers write here, so /metrics in any of them counts for the whole server
    env["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir(settings.db_path)
    os.execve(sys.executable, argv, env)


@click.command()
@server_options
def serve(host: str | None, port: int | None, workers: int | None, rules: str | None, templates: str | None) -> None:
    """Run the web server and the delivery worker together on the embedded default."""
    settings = apply_paths(rules, templates)
    preflight(settings)
    argv, env = gunicorn_argv(host, port, workers)
    configure_logging(settings)
    sys.exit(serve_both(argv, env, settings.db_path))


@click.command()
@click.option("--rules", default=None, help="rules file (default $ROUTER_RULES)")
@click.option("--templates", default=None, help="template folder (default $ROUTER_TEMPLATES)")
def worker(rules: str | None, templates: str | None) -> None:
    """Run the delivery worker alone: consume the queue, send, retry, keep the ledger."""
    settings = apply_paths(rules, templates)
    # the worker starts anyway on bad rules (it reads the rules when it sends); `check` lists the errors
    with contextlib.suppress(RulesError):
        warn_undeliverable(load_rules_or_default(settings.rules_path), settings)
    configure_logging(settings)
    try:
        code = run_worker(settings)
    except StoreUnavailable as exc:   # a corrupt store: one line saying what to do, not a traceback
        raise click.ClickException(f"store unavailable: {exc}") from None
    sys.exit(code)
