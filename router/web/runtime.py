"""What a running router holds: settings, the live rules and the delivery store/queue."""

from __future__ import annotations

from dataclasses import dataclass

from router.delivery import Outbox
from router.rules.reload import RulesHolder, shared_rules
from router.settings import Settings


@dataclass
class Runtime:
    """The long-lived parts one process shares between requests."""

    settings: Settings
    rules: RulesHolder
    delivery: Outbox

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        """Load the rules (raising RulesError if they are invalid) and open the store lazily."""
        holder = RulesHolder(settings.rules_path, settings.reload_interval, shared=shared_rules(settings))
        holder.watch()
        return cls(settings=settings, rules=holder, delivery=Outbox.from_settings(settings))
