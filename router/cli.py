"""The `sentry-router` command line (DESIGN 1.1)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from router.settings import MISSING_SECRET, Settings, SettingsError

if TYPE_CHECKING:
    from router.rules.model import RuleSet


def _settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sentry-router")
def main() -> None:
    """Route Sentry webhooks to Slack, email and any Apprise target, by rules."""


def _preflight(settings: Settings) -> None:
    """Refuse to start web serving without a client secret or with invalid rules: one clear error, exit 1."""
    if not settings.client_secrets:
        raise click.ClickException(MISSING_SECRET)
    from router.rules.load import RulesError, load_rules_or_default

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
    from router.channels.readiness import undeliverable

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
    argv = [sys.executable, "-m", "gunicorn", "--no-control-socket", "--config", "python:router.gunicorn_conf",
            "router.wsgi:app"]
    return argv, env


def _server_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--host", default=None, help="listen address (default $ROUTER_HOST, else 127.0.0.1, or "
                     "0.0.0.0 on a platform or in a container)")(f)
    f = click.option("--port", type=int, default=None, help="listen port (default $PORT or 8000)")(f)
    f = click.option("--workers", type=int, default=None, help="gunicorn workers (default $WEB_CONCURRENCY or 2)")(f)
    f = click.option("--rules", default=None, help="rules file (default $ROUTER_RULES)")(f)
    return click.option("--templates", default=None, help="template folder (default $ROUTER_TEMPLATES)")(f)


def _apply_paths(rules: str | None, templates: str | None) -> Settings:
    if rules:
        os.environ["ROUTER_RULES"] = rules
    if templates:
        os.environ["ROUTER_TEMPLATES"] = templates
    return _settings()


@main.command()
@_server_options
def web(host: str | None, port: int | None, workers: int | None, rules: str | None, templates: str | None) -> None:
    """Run the web half alone (gunicorn): verify, match and queue webhooks."""
    settings = _apply_paths(rules, templates)
    _preflight(settings)
    argv, env = gunicorn_argv(host, port, workers)
    from router.delivery.supervise import multiproc_dir

    # all gunicorn workers write here, so /metrics in any of them counts for the whole server
    env["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir(settings.db_path)
    os.execve(sys.executable, argv, env)


@main.command()
@_server_options
def serve(host: str | None, port: int | None, workers: int | None, rules: str | None, templates: str | None) -> None:
    """Run the web server and the delivery worker together on the embedded default."""
    settings = _apply_paths(rules, templates)
    _preflight(settings)
    argv, env = gunicorn_argv(host, port, workers)
    from router.delivery.supervise import serve_both
    from router.logs import configure_logging

    configure_logging(settings)
    sys.exit(serve_both(argv, env, settings.db_path))


@main.command()
@click.option("--rules", default=None, help="rules file (default $ROUTER_RULES)")
@click.option("--templates", default=None, help="template folder (default $ROUTER_TEMPLATES)")
def worker(rules: str | None, templates: str | None) -> None:
    """Run the delivery worker alone: consume the queue, send, retry, keep the ledger."""
    settings = _apply_paths(rules, templates)
    from router.delivery.consumer import run_worker
    from router.logs import configure_logging
    from router.rules.load import RulesError, load_rules_or_default

    try:
        warn_undeliverable(load_rules_or_default(settings.rules_path), settings)
    except RulesError:
        pass  # the worker starts anyway (it reads the rules when it sends); `check` lists the errors

    from router.delivery import StoreUnavailable

    configure_logging(settings)
    try:
        code = run_worker(settings)
    except StoreUnavailable as exc:   # a corrupt store: one line saying what to do, not a traceback
        raise click.ClickException(f"store unavailable: {exc}") from None
    sys.exit(code)


@main.command()
@click.option("--failed", is_flag=True, help="only notifications that are retrying or dead")
@click.option("--limit", type=int, default=50, show_default=True, help="how many, newest first")
@click.option("--webhook", "webhook_id", default="", metavar="ID", help="only the notifications of one webhook "
              "(the id of its 202 answer and log line)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def deliveries(failed: bool, limit: int, webhook_id: str, as_json: bool) -> None:
    """List the delivery ledger: what was sent where, status, attempts, last error, receipt."""
    from router.delivery import Delivery, StoreUnavailable
    from router.delivery.ledger_cli import json_lines, table

    try:
        jobs = Delivery.from_settings(_settings(), existing=True).deliveries(limit, failed, webhook_id)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json_lines(jobs) if as_json else table(jobs))


@main.command()
@click.argument("job_id", metavar="ID")
def replay(job_id: str) -> None:
    """Send a dead letter again (fresh attempts); ID is from `sentry-router deliveries --failed`."""
    from router.delivery import Delivery, StoreUnavailable

    try:
        delivery = Delivery.from_settings(_settings(), existing=True)
        if delivery.replay(job_id):
            click.echo(f"{job_id} queued again")
            return
        job = delivery.store.get(job_id)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    why = f"it is {job.status}" if job else "no such delivery"
    raise click.ClickException(f"cannot replay {job_id}: only dead letters can be replayed ({why})")


# `check` and `test` live with the rules engine (router/rules/commands.py).
from router.rules.commands import check, test  # noqa: E402
from router.send_sample import send_sample  # noqa: E402

main.add_command(check)
main.add_command(test)
main.add_command(send_sample)

from router.silence_cli import silence  # noqa: E402

main.add_command(silence)

# `sentry-app-schema` lives with the Sentry app (router/sentry_app/commands.py).
from router.sentry_app.commands import sentry_app_schema  # noqa: E402

main.add_command(sentry_app_schema)
