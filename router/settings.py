"""Every setting in one table, read from the environment (DESIGN 1.2)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.masking import url_secrets

MISSING_SECRET = ("SENTRY_CLIENT_SECRET is not set: copy the Client Secret of your Sentry integration into it "
                  "(several, comma-separated, are all accepted)")


class SettingsError(ValueError):
    """A setting in the environment has a value we cannot use."""


def _secrets(raw: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in raw.split(",") if s.strip())


def _int(raw: str) -> int:
    return int(raw.strip())


def _float(raw: str) -> float:
    return float(raw.strip())


def _str(raw: str) -> str:
    return raw


def _opt(raw: str) -> str | None:
    return raw.strip() or None


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ValueError(raw)
    return value in ("1", "true", "yes", "on")


# (field, environment variable, default, parser, help)
TABLE: tuple[tuple[str, str, str, Callable[[str], Any], str], ...] = (
    ("client_secrets", "SENTRY_CLIENT_SECRET", "", _secrets,
     "the integration's Client Secret; several, comma-separated, are all accepted (rotation)"),
    ("rules_path", "ROUTER_RULES", "rules/rules.yaml", _str, "rules file"),
    ("templates_path", "ROUTER_TEMPLATES", "templates", _str,
     "template folder; files here override the shipped defaults by name"),
    ("db_path", "ROUTER_DB", "var/router.sqlite3", _str,
     "embedded default store (queue, dedup, throttle, ledger)"),
    ("redis_url", "REDIS_URL", "", _opt, "when set, queue and state live in Redis"),
    ("slack_bot_token", "SLACK_BOT_TOKEN", "", _opt, "bot token for slack targets that name a channel"),
    ("slack_api_url", "SLACK_API_URL", "https://slack.com/api/", _str, "Slack Web API base URL"),
    ("smtp_url", "SMTP_URL", "", _opt, "smtp://[user:pass@]host[:port], smtps://… or starttls://…"),
    ("email_from", "EMAIL_FROM", "sentry-router@localhost", _str, "sender address for email targets"),
    ("host", "ROUTER_HOST", "", _str, "listen address of `serve`/`web`; unset: 127.0.0.1, or 0.0.0.0 on a "
     "platform (Heroku, Kubernetes…) or in a container (router/web/listen.py)"),
    ("port", "PORT", "8000", _int, "listen port"),
    ("web_concurrency", "WEB_CONCURRENCY", "2", _int, "gunicorn worker processes"),
    ("read_timeout", "ROUTER_READ_TIMEOUT", "10", _float,
     "seconds a client may take to send one request's headers and body; then its connection is closed"),
    ("sentry_url", "SENTRY_URL", "", _opt, "your organisation's Sentry address, for links"),
    ("max_body", "ROUTER_MAX_BODY", "10485760", _int, "largest accepted webhook body, bytes (10 MiB)"),
    ("reload_interval", "ROUTER_RELOAD_INTERVAL", "2", _float,
     "seconds between checks of the rules file for changes"),
    ("log_level", "ROUTER_LOG_LEVEL", "INFO", _str, "log level: DEBUG, INFO, WARNING, ERROR"),
    ("retry_attempts", "ROUTER_RETRY_ATTEMPTS", "8", _int, "delivery attempts per notification before it is dead"),
    ("retry_deadline", "ROUTER_RETRY_DEADLINE", "3600", _float,
     "seconds after acceptance past which a failing notification is dead; retries spread over it"),
    ("retry_base", "ROUTER_RETRY_BASE", "2", _float, "seconds before the first retry (later ones grow)"),
    ("ledger_retention", "ROUTER_LEDGER_RETENTION", "604800", _float,
     "seconds finished ledger entries are kept (default 7 days)"),
    ("worker_threads", "ROUTER_WORKER_THREADS", "8", _int, "concurrent sends per worker process"),
    ("worker_heartbeat", "ROUTER_WORKER_HEARTBEAT", "10", _float,
     "seconds of silence after which a worker is presumed dead and its in-flight sends are re-queued"),
    ("sentry_client_id", "SENTRY_CLIENT_ID", "", _opt,
     "a public integration's Client ID: exchange each installation's grant code for an API token"),
    ("sentry_api_token", "SENTRY_API_TOKEN", "", _opt, "an internal integration's API token (no grant exchange)"),
    ("sentry_api_url", "SENTRY_API_URL", "", _opt,
     "Sentry API base URL (default SENTRY_URL, else https://sentry.io)"),
    ("sentry_confirm_install", "SENTRY_CONFIRM_INSTALL", "0", _bool,
     "1: confirm each installation to Sentry (PUT status installed) after the grant exchange"),
    ("enrich_timeout", "ROUTER_ENRICH_TIMEOUT", "2", _float,
     "seconds one enrichment call (Sentry API, Slack users.lookupByEmail) may take"),
    ("enrich_ttl", "ROUTER_ENRICH_TTL", "600", _float,
     "seconds issue details and Slack users found by enrichment are cached"),
    ("admin_tokens", "ROUTER_ADMIN_TOKEN", "", _secrets,
     "turns on the admin API (/api/v1, Bearer) and console (/ui/, HTTP Basic password); several, comma-separated"),
    ("render_timeout", "ROUTER_RENDER_TIMEOUT", "2", _float,
     "seconds one template render may run; a template still running then fails (the `default` template is used)"),
    ("render_max_chars", "ROUTER_RENDER_MAX_CHARS", "2000000", _int,
     "characters one render may produce (each output counted, also text a loop or macro repeats); past it the "
     "template fails like a runaway one"),
    ("thread_ttl", "ROUTER_THREAD_TTL", "2592000", _float,
     "seconds a Slack issue card is remembered for threading (default 30 days); later notifications start a new card"),
    ("slack_rate", "ROUTER_SLACK_RATE", "0.9", _float,
     "messages per second each Slack channel is paced to (Slack allows about 1); a backlog is merged into "
     "digests; 0 turns pacing off"),
    ("slack_burst", "ROUTER_SLACK_BURST", "4", _int, "messages a Slack channel may get at once before pacing"),
    ("email_rate", "ROUTER_EMAIL_RATE", "0", _float,
     "emails per minute per email target (a backlog is merged into digests); 0 = no limit"),
    ("apprise_rate", "ROUTER_APPRISE_RATE", "0", _float,
     "messages per minute per Apprise target (a backlog is merged into digests); 0 = no limit"),
)


@dataclass(frozen=True)
class Settings:
    """The router's configuration; build it with `Settings.from_env()`."""

    client_secrets: tuple[str, ...] = ()
    rules_path: str = "rules/rules.yaml"
    templates_path: str = "templates"
    db_path: str = "var/router.sqlite3"
    redis_url: str | None = None
    slack_bot_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    smtp_url: str | None = None
    email_from: str = "sentry-router@localhost"
    host: str = ""
    port: int = 8000
    web_concurrency: int = 2
    read_timeout: float = 10.0
    sentry_url: str | None = None
    max_body: int = 10485760
    reload_interval: float = 2.0
    log_level: str = "INFO"
    retry_attempts: int = 8
    retry_deadline: float = 3600.0
    retry_base: float = 2.0
    ledger_retention: float = 604800.0
    worker_threads: int = 8
    worker_heartbeat: float = 10.0
    thread_ttl: float = 2592000.0
    sentry_client_id: str | None = None
    sentry_api_token: str | None = None
    sentry_api_url: str | None = None
    sentry_confirm_install: bool = False
    enrich_timeout: float = 2.0
    enrich_ttl: float = 600.0
    admin_tokens: tuple[str, ...] = ()
    slack_rate: float = 0.9
    slack_burst: int = 4
    email_rate: float = 0.0
    apprise_rate: float = 0.0
    render_timeout: float = 2.0
    render_max_chars: int = 2000000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting of TABLE from `environ` (default os.environ), then apply overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, var, default, parse, _help in TABLE:
            raw = env.get(var, default)
            try:
                values[field] = parse(raw)
            except ValueError:
                raise SettingsError(f"environment {var}={raw!r}: not a valid value ({_help})") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def sentry_api_base(self) -> str:
        """Where the Sentry API answers: SENTRY_API_URL, else SENTRY_URL, else sentry.io (no trailing slash)."""
        return (self.sentry_api_url or self.sentry_url or "https://sentry.io").rstrip("/")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def secret_values(self) -> tuple[str, ...]:
        """Every secret this configuration holds, for masking in output."""
        found = list(self.client_secrets) + list(self.admin_tokens)
        if self.sentry_api_token:
            found.append(self.sentry_api_token)
        if self.slack_bot_token:
            found.append(self.slack_bot_token)
        for url in (self.smtp_url, self.redis_url):
            if url:
                found.extend(url_secrets(url))
        return tuple(found)
