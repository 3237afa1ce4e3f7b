"""The WSGI entry point gunicorn loads: `router.wsgi:app`, configured from the environment."""

from router.app import create_app

app = create_app()
