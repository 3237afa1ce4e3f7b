"""Templates: the Jinja sandbox, lookup, per-channel escaping and the `check` of every template.

Public API: `Renderer(templates_path, sentry_url).render(event, target, rule, notification=…) -> Message`,
`check_templates(templates_path, sentry_url=None, ruleset=None) -> list[str]`, `form_for(target_type)`;
`Message`, what a channel sends.
"""

from router.render.check import check_templates
from router.render.message import Message
from router.render.renderer import FORMS, Renderer, form_for, template_names

__all__ = ["FORMS", "Message", "Renderer", "check_templates", "form_for", "template_names"]
