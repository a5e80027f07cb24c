"""Settings of notifications, digest and scheduler, read from the environment.

Kept here until the lead folds them into `core.settings.Settings`; every
variable is documented on its field.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from core.settings import ConfigError

# Every message the connector can send, as "<template>:<role>".
ALL_MESSAGES = frozenset(
    {f"{event}:{role}" for event in ("depot", "incomplet", "complet", "en_instruction", "accepte", "refuse", "sans_suite")
     for role in ("applicant", "employer")}
    | {"apt_dates_invalid:applicant"}
)
# DS itself e-mails the applicant at dépôt, en_instruction and each decision:
# sending ours too would duplicate them, so they are off unless asked for.
DS_ALREADY_SENDS = frozenset(
    {"depot:applicant", "en_instruction:applicant", "accepte:applicant", "refuse:applicant", "sans_suite:applicant"}
)
DEFAULT_MESSAGES = ALL_MESSAGES - DS_ALREADY_SENDS

DEFAULT_WAITING_DAYS = {"en_construction": 7, "en_instruction": 15}


@dataclass(frozen=True)
class NotifySettings:
    # SMTP_URL: smtp://user:pass@host:587?starttls=1 or smtps://user:pass@host:465; empty → .eml files in outbox_dir.
    smtp_url: str = field(default="", repr=False)
    # WIF_OUTBOX_DIR: where the embedded default writes .eml files.
    outbox_dir: Path = Path("var/outbox")
    # WIF_MAIL_FROM: sender of every e-mail.
    mail_from: str = "Work in France <ne-pas-repondre@workinfrance.beta.gouv.fr>"
    # WIF_DS_BASE_URL: links to DS pages.
    ds_base_url: str = "https://www.demarches-simplifiees.fr"
    # WIF_NOTIFY_TEMPLATES: which messages are sent, see `parse_message_switches`.
    enabled_messages: frozenset[str] = DEFAULT_MESSAGES
    # WIF_NOTIFY_RECENT_DAYS: only events of the last N days are notified (a first sync of old data spams no one).
    recent_days: int = 3
    # WIF_NOTIFY_MAX_ATTEMPTS: transient SMTP failures retried up to this many times.
    max_attempts: int = 8
    # WIF_NOTIFY_RETRY_SECONDS: first retry delay, doubled at each attempt.
    retry_base_seconds: int = 300
    # WIF_DIGEST_DAYS_<STATE>: a dossier waits "too long" beyond this many days in that state.
    waiting_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_WAITING_DAYS))
    # WIF_DIGEST_ALERT_DAYS: alerts look at decisions and messages of the last N days.
    alert_days: int = 30
    # WIF_SERVICE_EMAILS: "service=address;service=address", used until mappings/services.csv provides them.
    service_emails: Mapping[str, str] = field(default_factory=dict, repr=False)
    # WIF_SYNC_EVERY_MINUTES, WIF_DIGEST_AT, WIF_STATS_AT, WIF_REPORT_AT: scheduler timing (local time HH:MM).
    sync_every_minutes: int = 15
    digest_at: str = "07:30"
    stats_at: str = "05:00"
    report_at: str = "06:00"
    # WIF_JOB_LOCK_TTL_MINUTES: a lock row on SQLite expires after this (a crashed holder cannot block forever).
    job_lock_ttl_minutes: int = 120


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
        raise ConfigError(
            f"WIF_NOTIFY_TEMPLATES: unknown message {name!r}; known: {', '.join(sorted(ALL_MESSAGES))}"
        )
    return names


def parse_service_emails(raw: str) -> dict[str, str]:
    pairs = [part for part in raw.split(";") if part.strip()]
    out = {}
    for pair in pairs:
        service, sep, address = pair.partition("=")
        if not sep or "@" not in address:
            raise ConfigError("WIF_SERVICE_EMAILS must look like 'service=address;service=address'")
        out[service.strip()] = address.strip()
    return out


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _hhmm(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    hours, sep, minutes = raw.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ConfigError(f"{name} must be a time HH:MM, got {raw!r}")
    return f"{int(hours):02d}:{int(minutes):02d}"


def load_notify_settings(env: Mapping[str, str] | None = None) -> NotifySettings:
    env = os.environ if env is None else env
    waiting = {
        state: _int(env, f"WIF_DIGEST_DAYS_{state.upper()}", days) for state, days in DEFAULT_WAITING_DAYS.items()
    }
    defaults = NotifySettings()
    return NotifySettings(
        smtp_url=env.get("SMTP_URL", "").strip(),
        outbox_dir=Path(env.get("WIF_OUTBOX_DIR", "").strip() or defaults.outbox_dir),
        mail_from=env.get("WIF_MAIL_FROM", "").strip() or defaults.mail_from,
        ds_base_url=(env.get("WIF_DS_BASE_URL", "").strip() or defaults.ds_base_url).rstrip("/"),
        enabled_messages=parse_message_switches(env.get("WIF_NOTIFY_TEMPLATES", "")),
        recent_days=_int(env, "WIF_NOTIFY_RECENT_DAYS", defaults.recent_days),
        max_attempts=_int(env, "WIF_NOTIFY_MAX_ATTEMPTS", defaults.max_attempts),
        retry_base_seconds=_int(env, "WIF_NOTIFY_RETRY_SECONDS", defaults.retry_base_seconds),
        waiting_days=waiting,
        alert_days=_int(env, "WIF_DIGEST_ALERT_DAYS", defaults.alert_days),
        service_emails=parse_service_emails(env.get("WIF_SERVICE_EMAILS", "")),
        sync_every_minutes=_int(env, "WIF_SYNC_EVERY_MINUTES", defaults.sync_every_minutes),
        digest_at=_hhmm(env, "WIF_DIGEST_AT", defaults.digest_at),
        stats_at=_hhmm(env, "WIF_STATS_AT", defaults.stats_at),
        report_at=_hhmm(env, "WIF_REPORT_AT", defaults.report_at),
        job_lock_ttl_minutes=_int(env, "WIF_JOB_LOCK_TTL_MINUTES", defaults.job_lock_ttl_minutes),
    )
