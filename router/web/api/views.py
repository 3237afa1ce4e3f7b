"""Every admin API view, imported so they are on the blueprint; create_app registers `bp`."""

from router.web.api import bp, explain_view, notifications, silences, status, webhooks  # noqa: F401

__all__ = ["bp"]
