"""The Flask app factory: settings, rules, store and queue, blueprints."""

from __future__ import annotations

from flask import Flask

from router.logs import configure_logging
from router.settings import MISSING_SECRET, Settings
from router.web.api.views import bp as api_bp
from router.web.console.views import bp as console_bp
from router.web.runtime import Runtime
from router.web.sentry_app import bp as sentry_app_bp
from router.web.views import bp


class ConfigError(RuntimeError):
    """The router cannot start with this configuration; the message is one line."""


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app; raises ConfigError (no client secret) or RulesError (invalid rules)."""
    settings = settings or Settings.from_env()
    if not settings.client_secrets:
        raise ConfigError(MISSING_SECRET)
    configure_logging(settings)
    app = Flask("router")
    app.extensions["router"] = Runtime.start(settings)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)        # both answer 404 while ROUTER_ADMIN_TOKEN is unset
    app.register_blueprint(console_bp)
    app.register_blueprint(sentry_app_bp)
    return app
