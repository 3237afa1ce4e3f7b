"""Installation tokens (DESIGN 3.5): the grant code of `installation.created` exchanged for a token, kept in the
store (SQLite or Redis, shared by every process), refreshed before it expires and after a 401, dropped on
`installation.deleted`. `SENTRY_API_TOKEN` serves internal integrations. Tokens never leave the store and the
Authorization header: not in a log line, an error, a ledger row, a metric or an API answer."""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from router.channels import DeliveryError
from router.masking import one_line
from router.sentry import BadPayload, SentryEvent
from router.sentry.app import Grant, installation, parse_grant
from router.sentry_app.api import ApiError, SentryApi
from router.settings import Settings

log = logging.getLogger(__name__)
PREFIX = "sentry-app:installation:"
REFRESH_MARGIN = 600.0   # refresh a token with less than 10 minutes left (they live 8 hours)
LOCK_TTL = 30.0          # one refresh at a time per installation: a refresh token works once


class KV(Protocol):
    """The store's small-value interface (router.store.Store)."""

    def kv_get(self, key: str) -> str | None: ...
    def kv_set(self, key: str, value: str, ttl: float | None = None) -> None: ...
    def kv_set_nx(self, key: str, value: str, ttl: float | None = None) -> bool: ...
    def kv_delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Credential:
    """A token to call the API with, and the organization it belongs to when known."""

    token: str
    org: str | None
    installation: str | None    # None for SENTRY_API_TOKEN


@dataclass(frozen=True)
class _Record:
    org: str | None
    token: str
    refresh_token: str
    expires_at: float


def _authorizations(uuid: str) -> str:
    return f"/api/0/sentry-app-installations/{uuid}/authorizations/"


def _retryable(exc: ApiError) -> bool:
    return exc.status == 0 or exc.status == 429 or exc.status >= 500


class Tokens:
    """Grant exchange, storage, refresh and lookup of installation tokens; thread-safe (state is in the store)."""

    def __init__(self, settings: Settings, store: KV, api: SentryApi) -> None:
        self.settings, self.store, self.api = settings, store, api
        self._hidden = [s for s in (*settings.client_secrets, settings.sentry_client_id or "") if s]

    # -- installation webhooks (a job in the worker: retried like any delivery) --------------------
    def on_webhook(self, event: SentryEvent) -> dict[str, Any]:
        """Handle `installation.created` / `.deleted`; the receipt says what was done (never the token)."""
        inst = installation(event)
        if inst is None:
            raise DeliveryError("installation webhook without an installation uuid", retryable=False)
        if event.action == "deleted":
            self.store.kv_delete(PREFIX + inst.uuid)
            log.info("installation %s deleted: its token is dropped", one_line(inst.uuid))
            return {"installation": inst.uuid, "done": "token dropped"}
        if event.action != "created" or not self.settings.sentry_client_id:
            return {"installation": inst.uuid, "done": "nothing to do"}
        done = "token kept"
        record = self._load(inst.uuid)
        if record is None:  # a retry after a failed confirmation has its token already: the code works once
            if not inst.code:
                raise DeliveryError("installation.created carries no grant code to exchange", retryable=False)
            grant = self._grant(inst.uuid, {"grant_type": "authorization_code", "code": inst.code})
            record = self._save(inst.uuid, inst.org, grant)
            done = "token stored"
        if self.settings.sentry_confirm_install:
            self._confirm(inst.uuid, record.token)
            done += ", installation confirmed"
        log.info("installation %s (%s): %s", one_line(inst.uuid), one_line(inst.org or "?"), done)
        return {"installation": inst.uuid, "organization": inst.org, "done": done}

    def _confirm(self, uuid: str, token: str) -> None:
        try:
            self.api.call("PUT", f"/api/0/sentry-app-installations/{uuid}/", token, {"status": "installed"},
                          self._hidden)
        except ApiError as exc:
            raise DeliveryError(f"confirming the installation failed: {exc.reason}",
                                retryable=_retryable(exc)) from None

    def _grant(self, uuid: str, body: dict[str, str]) -> Grant:
        body = {**body, "client_id": self.settings.sentry_client_id or "",
                "client_secret": self.settings.client_secrets[0] if self.settings.client_secrets else ""}
        try:
            return parse_grant(self.api.call("POST", _authorizations(uuid), None, body,
                                             [*self._hidden, body.get("code", ""), body.get("refresh_token", "")]))
        except ApiError as exc:
            raise DeliveryError(f"token {body['grant_type']} failed: {exc.reason}", retryable=_retryable(exc)) from None
        except BadPayload as exc:
            raise DeliveryError(f"token {body['grant_type']} failed: {exc}", retryable=True) from None

    # -- the token store ---------------------------------------------------------------------------
    def _load(self, uuid: str) -> _Record | None:
        raw = self.store.kv_get(PREFIX + uuid)
        if raw is None:
            return None
        try:
            return _Record(**json.loads(raw))
        except (ValueError, TypeError):
            log.warning("installation %s: unreadable token record, ignored", one_line(uuid))
            return None

    def _save(self, uuid: str, org: str | None, grant: Grant) -> _Record:
        record = _Record(org, grant.token, grant.refresh_token, grant.expires_at)
        self.store.kv_set(PREFIX + uuid, json.dumps(asdict(record)))
        return record

    # -- tokens for API calls ----------------------------------------------------------------------
    def credential(self, uuid: str | None, org: str | None = None) -> Credential | None:
        """A token for installation `uuid` (refreshed when it is about to expire), else SENTRY_API_TOKEN; None
        when there is none (enrichment then adds nothing)."""
        record = self._load(uuid) if uuid else None
        if record is not None and uuid:
            if record.expires_at - time.time() < REFRESH_MARGIN:
                record = self._refresh(uuid, record)
            if record is not None:
                return Credential(record.token, record.org or org, uuid)
        if self.settings.sentry_api_token:
            return Credential(self.settings.sentry_api_token, org, None)
        return None

    def rejected(self, cred: Credential) -> Credential | None:
        """The API answered 401 to `cred`: a fresh token for its installation, or None."""
        if cred.installation is None:
            log.warning("Sentry API refused SENTRY_API_TOKEN (401): check the internal integration's token")
            return None
        record = self._load(cred.installation)
        if record is None:
            return None
        if record.token != cred.token:  # someone refreshed it meanwhile
            return Credential(record.token, record.org or cred.org, cred.installation)
        fresh = self._refresh(cred.installation, record)
        return Credential(fresh.token, fresh.org or cred.org, cred.installation) if fresh else None

    def _refresh(self, uuid: str, record: _Record) -> _Record | None:
        """Trade the refresh token for a new token (one process at a time); None when the installation is gone."""
        lock, mine = PREFIX + uuid + ":refreshing", secrets.token_hex(8)
        if not self.store.kv_set_nx(lock, mine, LOCK_TTL):   # another process is refreshing: use what it stores
            time.sleep(min(0.5, self.settings.enrich_timeout))
            current = self._load(uuid)
            return current if current and current.token != record.token else None
        try:
            grant = self._grant(uuid, {"grant_type": "refresh_token", "refresh_token": record.refresh_token})
        except DeliveryError as exc:
            if not exc.retryable:   # refused: the installation was revoked (or the refresh token used up)
                log.warning("installation %s: token refresh refused, token dropped: %s", one_line(uuid), exc.reason)
                self.store.kv_delete(PREFIX + uuid)
            else:
                log.warning("installation %s: token refresh failed: %s", one_line(uuid), exc.reason)
            return None
        finally:
            if self.store.kv_get(lock) == mine:
                self.store.kv_delete(lock)
        log.info("installation %s: token refreshed", one_line(uuid))
        return self._save(uuid, record.org, grant)
