"""The worker process (`sentry-router worker`): sender threads claim due jobs from the ledger and take each
through the Deliverer (router/delivery/deliverer.py); an inbox poller fans accepted webhooks out into jobs; a
sweeper beats, recovers orphaned sends and expires old rows."""

from router.worker.process import SHUTDOWN_TIMEOUT, Senders, Worker, run_worker

__all__ = ["SHUTDOWN_TIMEOUT", "Senders", "Worker", "run_worker"]
