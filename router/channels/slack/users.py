"""Slack users by email (`users.lookupByEmail`, scope users:read.email), for real `<@U…>` mentions."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from router.channels.slack.client import RETRYABLE_CODES


def user_lookup(token: str, api_url: str, timeout: float) -> Callable[[str], str | None]:
    """A function from an email to the Slack user id; None when Slack has no such user or won't say (a bot
    without the users:read.email scope: asking again will not help); raises when Slack is briefly failing."""
    client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                       timeout=max(1, round(timeout)), retry_handlers=[])

    def lookup(email: str) -> str | None:
        try:
            resp = client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if exc.response.status_code == 429 or exc.response.status_code >= 500 or code in RETRYABLE_CODES:
                raise RuntimeError(f"users.lookupByEmail: {code or exc.response.status_code}") from None
            return None
        user = resp.get("user")
        return str(user.get("id")) if isinstance(user, dict) and user.get("id") else None
    return lookup
