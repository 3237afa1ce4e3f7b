"""Delivery channels behind one small protocol (see base.py); `build_channel` makes one for a target.

Slack lives in its own package (router/channels/slack/), its target options too: the rules loader finds
them through the `sentry_router.target_types` entry point (pyproject.toml).
"""

from __future__ import annotations

from router.channels.base import Channel, DeliveryError, Receipt
from router.rules.model import Target
from router.settings import Settings

__all__ = ["Channel", "DeliveryError", "Receipt", "build_channel"]


def build_channel(target: Target, settings: Settings) -> Channel:
    """The channel that delivers to `target`, configured from its options and the settings."""
    opts = target.options
    if target.type == "slack":
        # each client is imported when first built: slack-sdk costs ~150 ms, Apprise ~0.5 s, at every process start
        from router.channels.slack.client import SlackChannel
        from router.channels.slack.webhook import SlackWebhookChannel
        if opts.get("webhook_url"):
            return SlackWebhookChannel(str(opts["webhook_url"]))
        return SlackChannel(str(opts.get("channel") or ""), settings.slack_bot_token, settings.slack_api_url,
                            settings.thread_ttl)
    if target.type == "email":
        from router.channels.apprise import as_list
        from router.channels.email import EmailChannel
        return EmailChannel(as_list(opts.get("to")), settings.smtp_url, settings.email_from,
                            str(opts.get("subject_prefix") or ""))
    if target.type == "apprise":
        from router.channels.apprise import AppriseChannel, as_list
        return AppriseChannel(as_list(opts.get("urls") or opts.get("url")))
    if target.type == "console":
        from router.channels.console import ConsoleChannel
        return ConsoleChannel(target.name)
    raise ValueError(f"target {target.name!r}: unknown type {target.type!r}")
