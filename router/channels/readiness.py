"""Which targets cannot deliver with the credentials at hand (`check`, and `serve`/`web`/`worker` at start)."""

from __future__ import annotations

from router.channels import build_channel
from router.masking import mask
from router.rules.model import RuleSet
from router.settings import Settings


def undeliverable(ruleset: RuleSet, settings: Settings) -> list[str]:
    """One `FILE:LINE: target "NAME" (TYPE): why` line per target a rule notifies that cannot deliver.

    Nothing is sent: only what a channel can tell from its configuration (a missing SLACK_BOT_TOKEN or SMTP_URL).
    """
    used = {name for rule in ruleset.rules for name in rule.notify}
    found = []
    for name in sorted(used, key=lambda n: (ruleset.targets[n].line, n) if n in ruleset.targets else (0, n)):
        target = ruleset.targets.get(name)
        if target is None:
            continue
        try:
            why = getattr(build_channel(target, settings), "problem", lambda: None)()
        except ValueError as exc:
            why = str(exc)
        if why:
            found.append(f"{ruleset.source}:{target.line}: target \"{name}\" ({target.type}): "
                         f"{mask(why, settings.secret_values())}: its notifications will go to the dead letters")
    return found
