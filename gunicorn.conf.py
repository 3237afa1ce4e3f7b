"""A plain `gunicorn router.wsgi:app` picks this file up by default: the router's gunicorn settings."""

from router.gunicorn_conf import *  # noqa: F401,F403
