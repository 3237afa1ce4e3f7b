"""Every admin API view, imported so they are on the blueprint; create_app registers `bp`."""

from router.web.api import bp, explain_view, notifications, silences, status, webhooks  # noqa: F401 - their routes join bp

__all__ = ["bp"]
