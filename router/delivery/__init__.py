"""Outbox: notifications from an accepted webhook to the channels, durably.

`Outbox` (outbox.py) writes them into the ledger — accept, fan-out (fanout.py), replay; the `Deliverer`
(deliverer.py) takes one claimed job through its stages — silence/quiet hours, throttle, pacing, render,
send, record; policy.py and pacing.py decide when it is tried again. Storage is router/store/, the process
that runs the Deliverer router/worker/.
"""

from router.delivery.outbox import Accepted, Outbox

__all__ = ["Accepted", "Outbox"]
