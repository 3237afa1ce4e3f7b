"""`sentry-router silence add|list|expire`: silences in the shared store, from the command line (DESIGN 3.3)."""

from __future__ import annotations

import getpass
import time
from typing import Any

import click
import orjson

from router.cli.env import settings_from_env
from router.rules.conditions import plain
from router.rules.silence import SilenceError, new_silence, rfc3339
from router.rules.yamlio import YamlSyntaxError, parse_yaml
from router.store import StoreUnavailable, new_id, open_existing_store
from router.store.silences import Silences, silences_of


def _silences() -> Silences:
    return silences_of(open_existing_store(settings_from_env()))


def _condition(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` (VALUE in YAML, as in rules.yaml: `level={gte: error}`) → (key, plain value)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"{text!r}: expected KEY=VALUE, like project=api or 'level={{gte: error}}'",
                                 param_hint="--match")
    try:
        return key.strip(), plain(parse_yaml(value))
    except YamlSyntaxError as exc:
        raise click.BadParameter(f"{text!r}: the value is not YAML: {exc}", param_hint="--match") from None


@click.group()
def silence() -> None:
    """Silences: hold back notifications whose webhook matches, until an end (DESIGN 3.3)."""


@silence.command("add")
@click.option("-m", "--match", "conditions", multiple=True, metavar="KEY=VALUE",
              help="a condition as in a rule's match (repeat: all must hold), e.g. project=api, 'level={gte: error}'")
@click.option("--issue", default=None, metavar="ID", help="the Sentry issue id (same as --match issue_id=ID)")
@click.option("--for", "duration", default=None, metavar="DURATION", help="how long: 30m, 2h, 1d")
@click.option("--until", "ends_at", default=None, metavar="TIME", help="when it ends: RFC 3339, 2026-11-29T18:00:00Z")
@click.option("--until-resolved", is_flag=True, help="until the issue (--issue) is resolved")
@click.option("--reason", default="", help="why (shown in lists)")
@click.option("--by", "created_by", default=None, help="who (default: your user name)")
def add(conditions: tuple[str, ...], issue: str | None, duration: str | None, ends_at: str | None,
        until_resolved: bool, reason: str, created_by: str | None) -> None:
    """Add a silence; prints its id."""
    match = dict(_condition(c) for c in conditions)
    if issue:
        match["issue_id"] = issue
    spec = {"match": match, "duration": duration, "ends_at": ends_at, "until_resolved": until_resolved,
            "reason": reason, "created_by": created_by if created_by is not None else _user()}
    try:
        made = new_silence(spec, time.time(), new_id())
        _silences().add(made)
    except SilenceError as exc:
        raise click.ClickException("invalid silence:\n" + "\n".join(f"  {e}" for e in _cli_words(exc.errors))) from None
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    end = rfc3339(made.ends_at) or "the issue is resolved"
    if made.ends_at is not None and made.issue_id:
        end += " (or when the issue is resolved, if sooner)"
    click.echo(f"{made.id} silences {orjson.dumps(made.match).decode()} from {rfc3339(made.starts_at)}, until {end}")


@silence.command("list")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def list_(as_json: bool) -> None:
    """Active silences and those that ended in the last day, newest first."""
    now = time.time()
    try:
        found = _silences().listed(now)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        for s in found:
            click.echo(orjson.dumps(s.view(now)).decode())
        return
    if not found:
        click.echo("no silences")
        return
    for s in found:
        v = s.view(now)
        state = "active" if v["active"] else ("ended" if (f := s.finished_at()) and f <= now else "pending")
        end = v["ended_at"] or v["ends_at"] or "issue resolved"
        click.echo(f"{s.id}  {state:<7}  until {end:<20}  {orjson.dumps(s.match).decode()}"
                   f"{'  — ' + s.reason if s.reason else ''}{'  (' + s.created_by + ')' if s.created_by else ''}")


@silence.command("expire")
@click.argument("silence_id", metavar="ID")
def expire(silence_id: str) -> None:
    """End a silence now: the next matching webhook notifies again."""
    try:
        ended = _silences().end(silence_id, time.time(), "expired")
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if ended is None:
        raise click.ClickException(f"no active silence {silence_id} (see `sentry-router silence list`)")
    click.echo(f"{silence_id} expired")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _cli_words(errors: list[str]) -> list[str]:
    """The API's key names as this command's options."""
    names = {"duration:": "--for:", "ends_at:": "--until:", "until_resolved:": "--until-resolved:"}
    return [next((e.replace(k, v, 1) for k, v in names.items() if e.startswith(k)), e) for e in errors]
