"""Every admin API view, imported so they are on the blueprint; create_app registers `bp`."""

from router.api import bp, silences, status  # noqa: F401

__all__ = ["bp"]
