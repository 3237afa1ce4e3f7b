"""gunicorn picks this file up by default (Heroku's `web` process): the router's settings."""

from router.gunicorn_conf import *  # noqa: F401,F403
