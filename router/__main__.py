"""`python -m router` is the same program as `sentry-router`."""

from router.cli import main

if __name__ == "__main__":
    main()
