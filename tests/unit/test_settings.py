"""The settings table (router/settings.py): parsing, errors that name the variable, documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.settings import TABLE, Settings, SettingsError

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")


@pytest.mark.parametrize("var", [row[1] for row in TABLE])
def test_every_setting_is_documented(var: str) -> None:
    """Every environment variable the router reads is named in the README."""
    assert f"`{var}`" in README


def test_defaults_come_from_the_table() -> None:
    """An empty environment gives each field its table default (the dataclass defaults agree with the table)."""
    from_env, plain = Settings.from_env({}), Settings()
    assert from_env == plain


@pytest.mark.parametrize("env, field, value", [
    ({"SENTRY_CLIENT_SECRET": " new , old ,"}, "client_secrets", ("new", "old")),
    ({"PORT": "9000"}, "port", 9000),
    ({"REDIS_URL": ""}, "redis_url", None),
    ({"ROUTER_RETRY_DEADLINE": "60"}, "retry_deadline", 60.0),
])
def test_parsing(env: dict[str, str], field: str, value: object) -> None:
    """Values are parsed by type: comma-separated secrets, numbers, empty optional strings as unset."""
    assert getattr(Settings.from_env(env), field) == value


def test_a_bad_value_names_the_variable() -> None:
    """A value that cannot be parsed is an error naming the variable and what it is for."""
    with pytest.raises(SettingsError, match=r"environment PORT='eighty': not a valid value \(listen port\)"):
        Settings.from_env({"PORT": "eighty"})
