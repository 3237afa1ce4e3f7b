"""sentry-router: a rules-based notification router for Sentry webhooks."""

__version__ = "0.1.0"
