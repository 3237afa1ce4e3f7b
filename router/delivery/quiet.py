"""The worker's quiet step, before throttle and send: is this notification held back right now, and why?

Held back by an active silence (the reason is the silence's id) or by its rule's quiet hours
(`mute_time_interval:<name>`, or `active_time_intervals:<names>` outside them). Such a notification is
recorded `suppressed` with that reason and never sent later: a webhook is news of one moment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from router.rules.conditions import Group
from router.rules.intervals import TimeInterval, muted
from router.rules.silence import Silence, compile_match
from router.sentry import SentryEvent
from router.store import Job, Store
from router.store.silences import Silences, active, silences_of

log = logging.getLogger(__name__)


def quiet_notes(mute: tuple[str, ...], active_names: tuple[str, ...]) -> dict[str, list[str]]:
    """What a job carries of its rule's quiet hours (nothing when the rule has none)."""
    notes = {"mute": list(mute), "active": list(active_names)}
    return {k: v for k, v in notes.items() if v}


class Quiet:
    """Decides, per job, whether a silence or quiet hours hold it back; one instance per worker process."""

    def __init__(self, store: Store) -> None:
        self.silences: Silences = silences_of(store)
        self._matchers: dict[str, Group] = {}   # a silence's conditions never change: compile each once

    def reason(self, job: Job, event: SentryEvent, intervals: Mapping[str, TimeInterval], now: float) -> str | None:
        """Why `job` must not be sent at `now` (a silence id or a quiet-hours reason), or None to send it."""
        for silence in active(self.silences, now):
            if silence.issue_id and _resolves(event, silence.issue_id):
                # the issue's own resolve ends its silence, and is itself sent
                if self.silences.end(silence.id, now, "issue resolved") is not None:
                    log.info("silence %s ended: issue %s was resolved", silence.id, silence.issue_id)
                continue
            if self._matcher(silence).holds(event):
                return silence.id
        mute, on = job.payload.get("mute") or (), job.payload.get("active") or ()
        if not mute and not on:
            return None
        return muted(tuple(mute), tuple(on), intervals, datetime.fromtimestamp(now, UTC))


    @staticmethod
    def _matches(silence: Silence, event: SentryEvent) -> bool:
        return compile_match(silence.match).holds(event)

    def _matcher(self, silence: Silence) -> Group:
        matcher = self._matchers.get(silence.id)
        if matcher is None:
            if len(self._matchers) > 4096:
                self._matchers.clear()
            matcher = self._matchers[silence.id] = compile_match(silence.match)
        return matcher


def _resolves(event: SentryEvent, issue_id: str) -> bool:
    return event.resource == "issue" and event.action == "resolved" and \
        str(event.shortcuts.get("issue_id", "")) == issue_id


def verdicts(ruleset: Any, event: SentryEvent, notifications: Any, moment: float,
             silences: Silences | None) -> list[str]:
    """For `sentry-router test --at`: one line per notification, sent or held back (and why) at `moment`."""
    live = active(silences, moment) if silences is not None else []
    lines = []
    for n in notifications:
        held = next((f"silence {s.id}" + (f" ({s.reason})" if s.reason else "") for s in live
                     if Quiet._matches(s, event) and not (s.issue_id and _resolves(event, s.issue_id))), None)
        held = held or muted(n.rule.mute_time_intervals, n.rule.active_time_intervals, ruleset.time_intervals,
                             datetime.fromtimestamp(moment, UTC))
        lines.append(f'  → {n.target.name}, from rule "{n.rule.name}": ' + (f"held back: {held}" if held else "sent"))
    return lines
