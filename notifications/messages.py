"""Which e-mails the connector sends: the names of every message and the
WIF_NOTIFY_TEMPLATES switches that turn them on and off."""

from __future__ import annotations

from core.settings import ConfigError
from notifications.contexts import DOSSIER_MESSAGE_TYPES

# Every message the connector can send, as "<template>:<role>": each dossier template, to each of its roles.
ALL_MESSAGES = frozenset(
    f"{template}:{role}" for template, context in DOSSIER_MESSAGE_TYPES.items() for role in context.ROLES
)
# DS itself e-mails the applicant at dépôt, en_instruction and each decision:
# sending ours too would duplicate them, so they are off unless asked for.
DS_ALREADY_SENDS = frozenset(
    {"depot:applicant", "en_instruction:applicant", "accepte:applicant", "refuse:applicant", "sans_suite:applicant"}
)
DEFAULT_MESSAGES = ALL_MESSAGES - DS_ALREADY_SENDS


def parse_message_switches(raw: str) -> frozenset[str]:
    """Read WIF_NOTIFY_TEMPLATES: comma-separated tokens applied in order.

    `default` (the start when empty), `all`, `none`; `name` adds, `-name`
    removes; a name is `template:role` or a bare template for both roles.
    Example: `default,-complet:employer,depot:applicant`.
    """
    enabled: set[str] = set(DEFAULT_MESSAGES)
    for token in (part.strip() for part in raw.split(",")):
        if not token:
            continue
        if token in ("default", "all", "none"):
            enabled = set({"default": DEFAULT_MESSAGES, "all": ALL_MESSAGES, "none": ()}[token])
            continue
        remove = token.startswith("-")
        names = _expand_message_name(token.lstrip("-+"))
        enabled = enabled - names if remove else enabled | names
    return frozenset(enabled)


def _expand_message_name(name: str) -> set[str]:
    names = {name} if ":" in name else {m for m in ALL_MESSAGES if m.split(":")[0] == name}
    unknown = names - ALL_MESSAGES
    if not names or unknown:
        raise ConfigError(f"WIF_NOTIFY_TEMPLATES: unknown message {name!r}; known: {', '.join(sorted(ALL_MESSAGES))}")
    return names
