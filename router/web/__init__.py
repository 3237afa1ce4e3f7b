"""The web half (gunicorn): the app factory (app.py), the webhook and ops views (views.py), the ingest stages
(ingest.py), the serving worker class (serving.py), wsgi.py and gunicorn_conf.py, the admin API (api/), the
console (console/) and the Sentry app's HTTP views (sentry_app.py).

Nothing is imported here: gunicorn loads `router.web.gunicorn_conf` in its master, which must set
PROMETHEUS_MULTIPROC_DIR before anything imports prometheus_client."""
