"""The WSGI entry point gunicorn loads: `router.web.wsgi:app`, configured from the environment."""

from router.web.app import create_app

app = create_app()
