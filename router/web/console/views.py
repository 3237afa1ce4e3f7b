"""Every console page, imported so they are on the blueprint; create_app registers `bp`."""

from router.web.console import actions, bp, pages, playground, silences  # noqa: F401 - their routes join bp

__all__ = ["bp"]
