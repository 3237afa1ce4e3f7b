"""The `sentry-router` command line (DESIGN 1.1): one click group, one module per command family."""

from __future__ import annotations

import click

from router.cli.ledger import deliveries, replay
from router.cli.rules import check, test
from router.cli.run import serve, web, worker
from router.cli.send_sample import send_sample
from router.cli.sentry_app import sentry_app_schema
from router.cli.silence import silence


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sentry-router")
def main() -> None:
    """Route Sentry webhooks to Slack, email and any Apprise target, by rules."""


for command in (web, serve, worker, deliveries, replay, check, test, send_sample, silence, sentry_app_schema):
    main.add_command(command)
