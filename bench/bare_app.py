"""The ingest baseline: a bare Flask app that reads the body and answers 202, served like the router.

    PORT=8001 WEB_CONCURRENCY=2 .venv/bin/python -m gunicorn --config python:router.web.gunicorn_conf bench.bare_app:app
"""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask("bare")


@app.post("/sentry/webhook")
def webhook():
    """Read the whole body and answer 202 with a small JSON object, as the router does."""
    body = request.get_data()
    return jsonify(id="bare", size=len(body), duplicate=False), 202


@app.get("/-/healthy")
def healthy() -> str:
    """200 while the process runs."""
    return "OK\n"
