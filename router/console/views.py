"""Every console page, imported so they are on the blueprint; create_app registers `bp`."""

from router.console import bp, pages  # noqa: F401

__all__ = ["bp"]
