"""The router as a Sentry app (DESIGN 3.5): the alert-rule action and its select (views.py), the UI-component
schema (schema.py), installation tokens (tokens.py), the Sentry API (api.py) and enrichment in the worker
(enrich.py). Sentry's JSON itself is read by router/sentry/app.py."""
