"""`sentry-router send-sample`: sign a payload exactly as Sentry does and POST it to a running router."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import click

from router.cli.env import settings_from_env
from router.cli.rules import infer_resource
from router.sentry import encode_like_sentry
from router.sentry.payloads import load_sample, renew, sample_names
from router.sentry.verify import sign


def read_payload(name: str | None, file: str | None, resource: str | None) -> tuple[str, dict[str, Any]]:
    """The resource and payload to send: a bundled sample by name, or a JSON file (resource from its name)."""
    if bool(name) == bool(file):
        raise click.UsageError("give a sample name (RESOURCE.ACTION) or --file PAYLOAD.json, not both")
    if name:
        try:
            found, payload = load_sample(name)
        except KeyError as exc:
            raise click.BadParameter(exc.args[0], param_hint="RESOURCE.ACTION") from None
        return resource or found, payload
    assert file is not None
    resource = resource or infer_resource(file)
    if not resource:
        raise click.UsageError(f"cannot tell the resource from the file name {Path(file).name!r}: pass --resource "
                               "(the Sentry-Hook-Resource header: issue, error, metric_alert, …)")
    try:
        payload = json.loads(Path(file).read_text("utf-8"))
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{file}: not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise click.ClickException(f"{file}: a webhook body is a JSON object, this is a {type(payload).__name__}")
    return resource, payload


def post(target: str, resource: str, body: bytes, secret: str) -> tuple[int, str]:
    """POST a signed body as Sentry does; the answer's status and text."""
    req = urllib.request.Request(target, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "sentry-router send-sample",
        "Sentry-Hook-Resource": resource, "Sentry-Hook-Signature": sign(body, secret),
        "Sentry-Hook-Timestamp": str(int(time.time())), "Request-ID": uuid.uuid4().hex})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError) as exc:
        raise click.ClickException(f"could not reach {target}: {getattr(exc, 'reason', exc)}") from None


@click.command("send-sample")
@click.argument("name", metavar="[RESOURCE.ACTION]", required=False)
@click.option("--file", "file", default=None, metavar="PAYLOAD.json",
              help="send this webhook body (e.g. copied from Sentry's request log) instead of a bundled sample")
@click.option("--resource", default=None, help="the Sentry-Hook-Resource (default: the sample's, or from the file "
              "name, issue.created.json → issue)")
@click.option("--same", is_flag=True, help="send the payload as it is, so a second send within dedup_window is a "
              "duplicate (default: a new issue/event/incident id on every send)")
@click.option("--url", default=None, help="router address (default http://127.0.0.1:$PORT)")
@click.option("--secret", default=None, help="client secret to sign with (default: the first of $SENTRY_CLIENT_SECRET)")
def send_sample(name: str | None, file: str | None, resource: str | None, same: bool, url: str | None,
                secret: str | None) -> None:
    """Sign a bundled sample (or --file) exactly as Sentry does and POST it to a running router.

    Each send is about a new subject (issue, event, incident…) unless --same. Samples:
    """
    settings = settings_from_env()
    secret = secret or (settings.client_secrets[0] if settings.client_secrets else None)
    if not secret:
        raise click.ClickException("no secret to sign with: set SENTRY_CLIENT_SECRET or pass --secret")
    resource, payload = read_payload(name, file, resource)
    body = encode_like_sentry(payload if same else renew(resource, payload))
    base = (url or f"http://127.0.0.1:{settings.port}").rstrip("/")
    target = base if base.endswith("/sentry/webhook") else base + "/sentry/webhook"
    status, text = post(target, resource, body, secret)
    click.echo(f"{status} {text}")
    if status >= 300:
        sys.exit(1)


send_sample.help = (send_sample.help or "").rstrip() + " " + ", ".join(sample_names())
