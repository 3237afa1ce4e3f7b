"""One job, start to finish: claim → event → quiet (silences, quiet hours) → throttle → target → render → send →
record (sent, retrying at its next due time, dead, suppressed); the stages are listed in `Deliverer._run`."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.channels.base import Channel, DeliveryError, Outgoing, Receipt
from router.channels.one_message import send_digest
from router.delivery import issue_memory
from router.delivery.claims import Claims
from router.delivery.fanout import job_event
from router.delivery.memory import StoreMemory
from router.delivery.outcome import Outcomes
from router.delivery.pacing import Budget, Pacer, batch_for, budget_for
from router.delivery.quiet import Quiet
from router.masking import one_line
from router.rules.load import RulesError
from router.rules.match import unresolved_reason
from router.rules.model import SENTRY_APP, UNRESOLVED, Rule, RuleSet, Target
from router.rules.reload import RulesHolder, shared_rules
from router.sentry import SentryEvent
from router.sentry_app.enrich import api_source
from router.sentry_app.parts import build_parts
from router.settings import Settings
from router.store import SENT, Job, Store, StoreUnavailable

log = logging.getLogger(__name__)
EVENT_CACHE = 256   # webhooks whose event a worker keeps built
ChannelFactory = Callable[[Target, Settings], Channel]


@dataclass
class Run:
    """One job on its way through the Deliverer's stages: what each stage found for the next."""

    job: Job
    event: SentryEvent = None  # type: ignore[assignment]  # set by the first stage
    suppressed: int | None = None
    target: Target = None  # type: ignore[assignment]  # set by the target stage


def job_target(job: Job, current: Mapping[str, Target], event: SentryEvent | None = None) -> Target:
    """The target as the rules define it now; else the job's snapshot, unless that had credentials masked.
    `event` (the job's) names what an unresolved target lacked."""
    if job.target_type == UNRESOLVED:   # `notify: [{setting: …}]` named no declared target: nothing to send to
        if event is None:
            raise DeliveryError("the rule named no declared target: not sent", retryable=False)
        reason = unresolved_reason(current, event, job.target)
        raise DeliveryError(f"{reason}: not sent", retryable=False)
    target = current.get(job.target)
    if target is not None and target.type == job.target_type:
        return target
    if job.payload.get("masked"):
        raise DeliveryError(f"target {job.target!r} is no longer in the rules, and the stored copy has no "
                            f"credentials: restore it, then `sentry-router replay {job.id}`", retryable=False)
    return Target(name=job.target, type=job.target_type, options=dict(job.payload.get("options") or {}))


def job_rule(job: Job) -> Rule:
    """The parts of the rule the renderer reads: name and template."""
    return Rule(name=job.rule, match=None, template=job.payload.get("template"))


class Deliverer:
    """Runs claimed jobs (or jobs by id) in a worker process; thread-safe, one instance per process."""

    def __init__(self, settings: Settings, store: Store, *, owner: str,
                 renderer: Any = None, channel_for: ChannelFactory | None = None, lease: float = 300.0) -> None:
        from router.channels import build_channel
        from router.render import Renderer

        self.settings, self.store, self.owner = settings, store, owner
        # issue facts: the payload, then what earlier webhooks said, then what enrichment read from Sentry's API
        known = issue_memory.recall(store)
        self.sentry_app = build_parts(settings, store, known=known)
        sources = [known] + ([api_source(store)] if self.sentry_app.enricher else [])
        self.renderer = renderer or Renderer.from_settings(settings, issue_sources=sources)
        self.channel_for = channel_for or build_channel
        self.memory = StoreMemory(store)   # where channels keep their threads (Slack: each issue's card)
        self.quiet = Quiet(store)
        self._channels: dict[tuple[str, str, str], Channel] = {}
        self._lock = threading.Lock()
        self._rules = self._load_rules()
        self.claims = Claims(store, owner, lease)
        self.pacer = Pacer(store, self.claims)
        self.outcome = Outcomes(settings, store, owner, self._targets)
        self._events: OrderedDict[str, SentryEvent] = OrderedDict()   # recent webhooks' events, by id

    def _load_rules(self) -> RulesHolder | None:
        try:
            holder = RulesHolder(self.settings.rules_path, self.settings.reload_interval,
                                 shared=shared_rules(self.settings))
            holder.watch()
            return holder
        except RulesError as exc:
            log.error("rules file %s is invalid; sending with the targets stored in each job:\n%s",
                      self.settings.rules_path, exc)
            return None

    def _live(self) -> RuleSet | None:
        """The live rules (hot-reloaded); None while the rules file cannot be loaded."""
        if self._rules is None:
            self._rules = self._load_rules()
            if self._rules is None:
                return None
        self._rules.maybe_reload()
        return self._rules.current

    def _targets(self) -> Mapping[str, Target]:
        """The targets of the live rules; none while the rules file cannot be loaded."""
        live = self._live()
        return live.targets if live is not None else {}

    def __call__(self, job_id: str) -> None:
        """Deliver one job by id if it is ours to deliver (already sent, leased or not yet due: do nothing).

        The worker's senders claim due jobs with `claims.next()`; this drives one chosen job (tests, benches)."""
        job = self.claims.take(job_id)
        if job is not None:
            self.deliver(job)

    def deliver(self, job: Job) -> None:
        """Take a job we hold the claim of through its stages; a failure is recorded, never raised."""
        with self.claims.sending(job) as carried:
            try:
                self._run(job)
            except StoreUnavailable as exc:  # our claims stay leased while we live: give them back once we can
                log.error("job %s: store unavailable mid-delivery: %s", job.id, exc)
                self.claims.doubt(job.id, *carried)
            except Exception as exc:  # a bug must not lose the job: retry it like a transient failure
                log.exception("job %s: unexpected error", job.id)
                self.outcome.failed(job, DeliveryError(f"internal error: {type(exc).__name__}", retryable=True))

    def event_of(self, job: Job) -> SentryEvent:
        """The job's event, built once per webhook (its jobs are claimed close together) from the history row."""
        with self._lock:
            event = self._events.get(job.webhook_id)
        if event is None:
            event = job_event(self.store, job)
            if "event" not in job.payload:   # an old row's own copy is not the webhook's to share
                with self._lock:
                    self._events[job.webhook_id] = event
                    if len(self._events) > EVENT_CACHE:
                        self._events.popitem(last=False)
        return event

    def _run(self, job: Job) -> None:
        """The job through its stages in order; a stage that settles it (recorded: sent, retrying, dead,
        suppressed; or deferred by pacing) returns False and ends the run."""
        run = Run(job)
        for stage in (self._event, self._installation, self._quiet, self._throttle, self._target, self._send):
            if not stage(run):
                return

    def _event(self, run: Run) -> bool:
        """Its event, from its webhook's row; a webhook no longer stored is a dead letter."""
        try:
            run.event = self.event_of(run.job)
        except DeliveryError as exc:
            self.outcome.failed(run.job, exc)
            return False
        return True

    def _installation(self, run: Run) -> bool:
        """An installation's token (a Sentry app job) is exchanged or dropped: never silenced, throttled or
        rendered."""
        if run.job.target_type != SENTRY_APP:
            return True
        self._install(run.job, run.event)
        return False

    def _quiet(self, run: Run) -> bool:
        """Silences and the rule's quiet hours hold it back (recorded suppressed)."""
        return not self._quieted(run.job, run.event)

    def _throttle(self, run: Run) -> bool:
        """One per rule, target and subject per window (a replay or retry was let through before)."""
        job = run.job
        if job.suppressed is not None:
            run.suppressed = job.suppressed
            return True
        allowed, run.suppressed = self._throttle_hit(job)
        if not allowed:
            self.outcome.suppressed(job, f"throttled ({run.suppressed} suppressed in this window)")
        return allowed

    def _target(self, run: Run) -> bool:
        """The target as the live rules define it (a removed or unresolved one is a dead letter)."""
        try:
            run.target = job_target(run.job, self._targets(), run.event)
        except DeliveryError as exc:
            self.outcome.failed(run.job, exc, run.suppressed)
            return False
        return True

    def _send(self, run: Run) -> bool:
        """Render and send (alone, with its group, or paced with what waits in its batch), then record."""
        job, event, target, suppressed = run.job, run.event, run.target, run.suppressed
        budget = budget_for(target, self.settings)
        if job.payload.get("group"):
            self._send_grouped(job, event, target, budget)
        elif budget is None:
            self._send_one(job, target, event, suppressed, None)
        else:
            jobs = self.pacer.admit(job, budget, batch_for(self._thread(target, event, job), budget))  # None: waits
            if jobs is not None:
                self._send_paced(jobs, target, job, event, suppressed, budget)
        return False

    def _send_one(self, job: Job, target: Target, event: SentryEvent, suppressed: int | None,
                  budget: Budget | None) -> bool:
        """Send one notification (its channel decides how: a message, a Slack card or reply) and record the outcome."""
        try:
            outgoing = Outgoing(self._enrich(event, target), target, job_rule(job), suppressed)
            receipt = self._channel(target).deliver(outgoing, self.renderer, self.memory)
        except DeliveryError as exc:
            self.pacer.hold(budget, exc)
            self.outcome.failed(job, exc, suppressed)
            return False
        self.outcome.sent(job, receipt, suppressed)
        return True

    def _send_paced(self, jobs: list[Job], target: Target, carrier: Job, event: SentryEvent, suppressed: int | None,
                    budget: Budget) -> None:
        """Send what a slot carries: one notification, or a batch as one message (a thread's first goes alone)."""
        events = [self._enrich(event if j.id == carrier.id else self.event_of(j), target) for j in jobs]
        thread = self._thread(target, events[0], jobs[0])
        if len(jobs) > 1 and thread is not None and self.memory.get(thread) is None:
            first = suppressed if jobs[0].id == carrier.id else jobs[0].suppressed
            if not self._send_one(jobs[0], target, events[0], first, budget):
                self._fail_all(jobs[1:], DeliveryError("the batch's card could not be posted", retryable=True))
                return
            jobs, events = jobs[1:], events[1:]
            if not self.pacer.later(jobs, budget, batch_for(self._thread(target, events[0], jobs[0]), budget)):
                return
        if len(jobs) == 1:
            self._send_one(jobs[0], target, events[0], suppressed if jobs[0].id == carrier.id else None, budget)
            return
        try:
            batch = [Outgoing(e, target, job_rule(jobs[0])) for e in events]
            receipt = self._channel(target).deliver_batch(batch, self.renderer, self.memory)
        except DeliveryError as exc:
            self.pacer.hold(budget, exc)
            self._fail_all(jobs, exc)
            return
        self._sent_all(jobs, receipt)

    def _send_grouped(self, job: Job, event: SentryEvent, target: Target, budget: Budget | None) -> None:
        """A grouped rule's notification: wait for its group's time, then one digest of the group (rate permitting)."""
        group = job.payload["group"]
        batch = f"group:{job.rule}|{job.target}|{group.get('key', '')}"
        jobs, reserved = self.pacer.admit_group(job, batch, float(group["wait"]), float(group["interval"]))
        if jobs is None or (budget is not None and not reserved and not self.pacer.later(jobs, budget, batch)):
            return
        events = [event if j.id == job.id else self.event_of(j) for j in jobs]
        try:
            receipt = send_digest(self._channel(target), self.renderer, events, target, job_rule(jobs[0]),
                                  group=group.get("key") or job.rule)
        except DeliveryError as exc:
            self.pacer.hold(budget, exc)
            self._fail_all(jobs, exc)
            return
        self.pacer.sent_group(batch, float(group["interval"]))
        self._sent_all(jobs, receipt)

    def _sent_all(self, jobs: list[Job], receipt: Receipt) -> None:
        for job in jobs:
            self.outcome.sent(job, receipt)

    def _fail_all(self, jobs: list[Job], exc: DeliveryError) -> None:
        for job in jobs:
            self.outcome.failed(job, exc)

    def _quieted(self, job: Job, event: SentryEvent) -> bool:
        """The quiet step: a silence or the rule's quiet hours hold the job back → recorded suppressed."""
        live = self._live()
        intervals = live.time_intervals if live is not None else {}
        reason = self.quiet.reason(job, event, intervals, time.time())
        if reason is None:
            return False
        self.outcome.suppressed(job, reason)
        log.info("job %s to %s suppressed: %s", job.id, job.target, reason)
        return True

    def _install(self, job: Job, event: SentryEvent) -> None:
        """Exchange or drop the installation's token (tokens.py); the receipt says which, never the token."""
        try:
            if self.sentry_app.tokens is None:
                receipt: dict[str, Any] = {"done": "nothing to do (SENTRY_CLIENT_ID is not set)"}
            else:
                receipt = self.sentry_app.tokens.on_webhook(event)
        except DeliveryError as exc:
            self.outcome.failed(job, exc)
            return
        self.outcome.record(job, SENT, receipt=receipt)

    def _enrich(self, event: SentryEvent, target: Target) -> SentryEvent:
        """The event with what enrichment adds; the event as it is if enrichment fails in any way."""
        if self.sentry_app.enricher is None:
            return event
        try:
            return self.sentry_app.enricher.enrich(event, slack=target.type == "slack")
        except Exception:  # less detail, never a lost or late notification
            log.warning("enrichment failed for %s; sending without it", one_line(event.dedup_key), exc_info=True)
            return event

    def _throttle_hit(self, job: Job) -> tuple[bool, int]:
        window = float(job.payload.get("throttle") or 0)
        if window <= 0:
            return True, 0
        key = f"{job.rule}|{job.target}|{job.payload.get('subject', '')}"
        return self.store.throttle_hit(key, window, job.id, time.time())

    def _thread(self, target: Target, event: SentryEvent, job: Job) -> str | None:
        """The thread (its memory key) the target's channel puts this notification in; None: top level."""
        try:
            return self._channel(target).thread_key(Outgoing(event, target, job_rule(job)))
        except DeliveryError:   # a target that cannot be built: its send fails and says why
            return None

    def _channel(self, target: Target) -> Channel:
        key = (target.name, target.type, repr(sorted(target.options.items())))
        with self._lock:
            channel = self._channels.get(key)
        if channel is None:
            try:
                channel = self.channel_for(target, self.settings)
            except Exception as exc:  # a target we cannot build will not work on retry either
                raise DeliveryError(f"target {target.name!r}: {exc}", retryable=False) from None
            with self._lock:
                self._channels[key] = channel
        return channel
