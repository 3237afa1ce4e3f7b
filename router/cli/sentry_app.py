"""`sentry-router sentry-app-schema`: the Sentry app's UI-component schema, to paste into Sentry."""

from __future__ import annotations

import json

import click

from router.sentry_app.schema import ui_schema


@click.command("sentry-app-schema")
@click.option("--title", default="Notify with sentry-router", show_default=True,
              help="the action's name in Sentry's alert-rule editor")
def sentry_app_schema(title: str) -> None:
    """Print the UI-component schema to paste into your Sentry integration's Schema field."""
    click.echo(json.dumps(ui_schema(title), indent=2))
