"""`sentry-router check` and `sentry-router test` (DESIGN 1.1): the rules, templates and targets, tried offline."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from router.channels import DeliveryError, build_channel
from router.channels.readiness import undeliverable
from router.cli.env import settings_from_env
from router.delivery.quiet import verdicts
from router.masking import mask
from router.render import Renderer, check_templates
from router.rules import lint
from router.rules.expect import CasesError, load_cases, report, run_case
from router.rules.load import RulesError, load_default_rules, load_rules
from router.rules.match import explain, format_explanations, match
from router.rules.model import MatchResult, Notification, RuleSet
from router.rules.silence import parse_time, rfc3339
from router.sentry import KNOWN_RESOURCES, BadPayload, SentryEvent, parse
from router.settings import Settings
from router.store import StoreUnavailable, open_store
from router.store.silences import silences_of


@click.command()
@click.argument("rules_arg", metavar="[RULES]", required=False)
@click.option("--rules", default=None, help="rules file (default $ROUTER_RULES or rules/rules.yaml)")
@click.option("--templates", default=None, help="template folder (default $ROUTER_TEMPLATES or templates)")
@click.option("--strict", is_flag=True, help="exit 1 on warnings too (a target without credentials, an unknown "
              "resource or action)")
def check(rules_arg: str | None, rules: str | None, templates: str | None, strict: bool) -> None:
    """Validate rules, targets and templates; print every problem and exit 1, or print OK (warnings: exit 0)."""
    settings = settings_from_env()
    path = rules_arg or rules or settings.rules_path
    errors: list[str] = []
    ruleset: RuleSet | None = None
    try:
        ruleset = load_rules(path)
    except RulesError as exc:
        errors.extend(exc.errors)
    errors.extend(templates_problems(settings.replace(templates_path=templates or settings.templates_path), ruleset))
    if errors:
        for line in errors:
            click.echo(line, err=True)
        click.echo(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found", err=True)
        sys.exit(1)
    assert ruleset is not None
    warnings = lint.warnings(ruleset) + undeliverable(ruleset, settings)
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    if strict and warnings:
        click.echo(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} (--strict)", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(ruleset.rules)} rules, {len(ruleset.targets)} targets")


def templates_problems(settings: Settings, ruleset: RuleSet | None) -> list[str]:
    """The templates' own check (router.render), given the loaded rules for their `template:` names."""
    return check_templates(settings.templates_path, settings.sentry_url, ruleset, Renderer.from_settings(settings))


def infer_resource(payload: str) -> str | None:
    """The resource a payload file's name says (`issue.created.json` → issue), if it names a known one."""
    head = Path(payload).name.split(".")[0]
    return head if head in KNOWN_RESOURCES else None


def rules_for_test(path: str) -> RuleSet:
    """The rules `serve` would route with: the file, or the built-in default when it does not exist."""
    if not Path(path).exists():
        click.echo(f"note: {path} does not exist; using the built-in default rules (everything to the console)",
                   err=True)
        return load_default_rules()
    try:
        return load_rules(path)
    except RulesError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        raise click.ClickException("the rules file is invalid (see above)") from None


@click.command("test")
@click.argument("payload", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--expect", "cases", default=None, type=click.Path(exists=True, dir_okay=False), metavar="CASES.yaml",
              help="run routing tests: each case's payload must and must not reach the rules and targets it names")
@click.option("--resource", default=None,
              help="the Sentry-Hook-Resource (default: from the file name, issue.created.json → issue)")
@click.option("--rules", default=None, help="rules file (default $ROUTER_RULES or rules/rules.yaml)")
@click.option("--templates", default=None, help="template folder (default $ROUTER_TEMPLATES or templates)")
@click.option("--send", is_flag=True, help="really deliver the notifications (default: only show them)")
@click.option("--at", "at", default=None, metavar="TIME",
              help="show what silences and quiet hours decide at this moment (RFC 3339; default now)")
def test(payload: str | None, cases: str | None, resource: str | None, rules: str | None, templates: str | None,
         send: bool, at: str | None) -> None:
    """Show which rules match a payload, why (each condition), and the message each target would get.

    With --expect CASES.yaml instead: run routing tests and exit 1, with a diff, if any fails."""
    settings = settings_from_env()
    if bool(payload) == bool(cases):
        raise click.UsageError("give a PAYLOAD.json to explain, or --expect CASES.yaml to run routing tests")
    if cases:
        run_expectations(cases, rules_for_test(rules or settings.rules_path))
        return
    assert payload is not None
    resource = resource or infer_resource(payload)
    if not resource:
        raise click.UsageError(f"cannot tell the resource from the file name {Path(payload).name!r}: pass --resource")
    try:
        event = parse(Path(payload).read_bytes(), resource)
    except BadPayload as exc:
        raise click.ClickException(f"{payload}: {exc}") from None
    ruleset = rules_for_test(rules or settings.rules_path)
    click.echo(f"{event.resource}.{event.action} (subject {event.subject_id}) against {ruleset.source}:\n")
    click.echo(format_explanations(explain(ruleset, event)))
    result = match(ruleset, event)
    click.echo(f"\nmatched: {', '.join(result.matched) if result.matched else 'no rule'}")
    if not result.notifications:
        click.echo("nobody would be notified")
        return
    show_quiet(ruleset, event, result.notifications, at, settings)
    _show_and_send(event, result, settings.replace(templates_path=templates or settings.templates_path), send)


def show_quiet(ruleset: RuleSet, event: SentryEvent, notifications: tuple[Notification, ...], at: str | None,
               settings: Settings) -> None:
    """What silences and quiet hours decide for each notification at `at` (RFC 3339), else now."""
    moment = parse_time(at) if at else time.time()
    if moment is None:
        raise click.BadParameter(f"{at!r}: expected an RFC 3339 time with an offset, like 2026-11-29T23:00:00+01:00",
                                 param_hint="--at")
    has_store = bool(settings.redis_url) or os.path.exists(settings.db_path)  # `test` never creates a store
    silences = silences_of(open_store(settings)) if has_store else None
    try:
        lines = verdicts(ruleset, event, notifications, moment, silences)
    except StoreUnavailable as exc:
        click.echo(f"note: silences not consulted: {exc}", err=True)
        lines = verdicts(ruleset, event, notifications, moment, None)
    click.echo(f"\nat {rfc3339(moment)} (silences{'' if has_store else ': none, no store yet'}, quiet hours):")
    click.echo("\n".join(lines))


def run_expectations(cases_path: str, ruleset: RuleSet) -> None:
    """Run every case of a cases file against the rules; print the report; exit 1 if any case fails."""
    try:
        cases = load_cases(cases_path)
    except CasesError as exc:
        raise click.ClickException(f"{cases_path} is not a usable cases file:\n{exc}") from None
    outcomes = [run_case(ruleset, case) for case in cases]
    click.echo(f"{len(cases)} routing case{'s' if len(cases) != 1 else ''} against {ruleset.source}:")
    click.echo("\n".join(report(cases_path, outcomes)))
    if not all(o.passed for o in outcomes):
        sys.exit(1)


def _show_and_send(event: SentryEvent, result: MatchResult, settings: Settings, send: bool) -> None:
    """Render each notification as its target would receive it, and deliver it with --send."""
    renderer = Renderer.from_settings(settings)
    for n in result.notifications:
        message = renderer.render(event, n.target, n.rule)
        click.echo(f'\n→ {n.target.name} ({n.target.type}), from rule "{n.rule.name}", template {message.template}:')
        click.echo(f"  {message.title}")
        click.echo("\n".join(f"  | {line}" for line in message.text.splitlines()))
        if not send:
            continue
        try:
            receipt = build_channel(n.target, settings).send(message)
            click.echo(f"  sent: {dict(receipt)}")
        except DeliveryError as exc:
            click.echo(f"  NOT sent: {mask(exc.reason, settings.secret_values())}", err=True)
    if not send:
        click.echo("\n(not sent: add --send to deliver)")
