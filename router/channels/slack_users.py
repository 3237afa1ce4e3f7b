"""Slack users by email (`users.lookupByEmail`, scope users:read.email), for real `<@U…>` mentions."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


def user_lookup(token: str, api_url: str, timeout: float) -> Callable[[str], str | None]:
    """A function from an email to the Slack user id (None: no such user); raises when Slack fails."""
    client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                       timeout=max(1, round(timeout)), retry_handlers=[])

    def lookup(email: str) -> str | None:
        try:
            resp = client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise RuntimeError(f"users.lookupByEmail: {exc.response.get('error') or exc.response.status_code}") \
                from None
        user = resp.get("user")
        return str(user.get("id")) if isinstance(user, dict) and user.get("id") else None
    return lookup
