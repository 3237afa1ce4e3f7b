"""sentry-router: a rules-based notification router for Sentry webhooks.

The rooms, each importing only those below it: cli/ (every command) → web/ (app, views, ingest, gunicorn
worker and config, api/, console/) and worker/ (the delivery process) → delivery/ → sentry_app/ (tokens,
enrichment) and store/ (the storage engines) → channels/ → render/ → rules/ → sentry/ (Sentry's JSON and
signature) → logs/ → settings.py; masking.py and metrics.py are leaves any room may use. The layers
contract in pyproject.toml checks this.
"""

__version__ = "0.1.0"
