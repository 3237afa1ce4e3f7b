"""A plain `gunicorn router.web.wsgi:app` picks this file up by default: the router's gunicorn settings."""

from router.web.gunicorn_conf import *  # noqa: F401,F403
