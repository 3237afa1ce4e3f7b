"""Masking: which parts of a target URL count as secrets, so that logs, errors and the ledger never show them."""

from __future__ import annotations

import pytest

from router.masking import mask, mask_url, url_secrets

CASES = [  # url, the secrets it holds, what stays readable
    ("json://bot:pw-1234@127.0.0.1:9/hook", ["pw-1234"], ["bot", "127.0.0.1:9/hook"]),
    ("json://127.0.0.1/hook?token=abcdef1234567890", ["abcdef1234567890"], ["127.0.0.1/hook?token="]),
    ("json://127.0.0.1/hook?+X-Api-Key=hdr-secret-1&format=text", ["hdr-secret-1"], ["+X-Api-Key=", "format=text"]),
    ("json://h/x?%2BAuthorization=Bearer%20abc123456789", ["Bearer%20abc123456789", "Bearer abc123456789"], ["json://h/x"]),
    ("form://127.0.0.1/hook?:apikey=secret987654321", ["secret987654321"], [":apikey="]),
    ("mailtos://user:pw12345@example.com?to=ops@example.com", ["pw12345"], ["user", "to=ops@example.com"]),
    ("pover://userkey1234567890@apptoken1234567890", ["userkey1234567890", "apptoken1234567890"], ["pover://"]),
    ("tgram://123456789:ABCdefGHIjklMNOpqr/123456", ["123456789", "ABCdefGHIjklMNOpqr"], ["/123456"]),
    ("slack://TokenA12345/TokenB12345/TokenC12345678/#chan", ["TokenA12345", "TokenB12345", "TokenC12345678"],
     ["#chan"]),
    ("discord://1234567890/webhooktoken1234567890", ["1234567890", "webhooktoken1234567890"], ["discord://"]),
    ("https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXX", ["XXXXXXXXXXXXXXXX"],
     ["hooks.slack.com/services/"]),
    ("http://example.com/a?format=json&to=x", [], ["http://example.com/a?format=json&to=x"]),
    ("redis://:pw-42@localhost:6379/0", ["pw-42"], ["localhost:6379/0"]),
    ("json://h/x?format=text;+X-Api-Key=semisecret99", ["semisecret99"], ["format=text;+X-Api-Key="]),
    ("discord://1234567890/tok%2Den1234567890", ["tok%2Den1234567890", "tok-en1234567890"], ["discord://"]),
    ("https://discord.com/api/webhooks/123456789012345678/AbCdEf1234567890GhIjKl", ["AbCdEf1234567890GhIjKl"],
     ["https://discord.com/api/webhooks/"]),
    ("https://api.telegram.org/bot123456789:ABCdefGHIjklMNOpqr/sendMessage", ["ABCdefGHIjklMNOpqr"],
     ["api.telegram.org/", "/sendMessage"]),
    # nothing secret: options, plain headers and words that merely contain "key" or "auth" stay readable
    ("json://h/hook?+Accept=application/json&+Content-Type=application/json&keyword=truetrue", [],
     ["+Accept=application/json", "+Content-Type=application/json", "keyword=truetrue"]),
    ("ntfys://user:pw123456@ntfy.example.com/topic?auth=token&format=markdown", ["pw123456"],
     ["auth=token", "format=markdown", "/topic"]),
]


@pytest.mark.parametrize(("url", "hidden", "shown"), CASES)
def test_url_secrets_hide_credentials_and_keep_the_rest(url: str, hidden: list[str], shown: list[str]) -> None:
    """Every credential a URL carries is found (password, credential-named query values, Apprise's HTTP headers,
    tokens in the address of token-in-URL services), and the masked URL still shows where it points."""
    masked = mask_url(url)
    for secret in hidden:
        assert secret not in masked and secret not in mask(f"error posting to {url}: {secret}", url_secrets(url))
    for part in shown:
        assert part in masked
