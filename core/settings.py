"""Settings: one object, read once from the environment, a section per concern.

The same binary runs against the embedded sandbox or the real DS: only
these variables change. Each field names its variable; `.env.example`
documents them for a deployment and the README lists them with defaults.
Secrets (`repr=False`) never appear in logs, `wif status` or errors.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

DEFAULT_DATABASE_URL = "sqlite:///var/wif.db"
# A shorter secret could be guessed together with the birth date it keys.
MIN_PEPPER_LENGTH = 32
DIGEST_STATES = ("en_construction", "en_instruction")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class DSSettings:
    api_url: str = ""  # DS_API_URL; empty: start the embedded sandbox
    api_token: str = field(default="", repr=False)  # DS_API_TOKEN
    demarche_numbers: tuple[int, ...] = (1,)  # DS_DEMARCHE_NUMBER, comma separated
    instructeur_id: str = ""  # DS_INSTRUCTEUR_ID: Instructeur-<id>, base64
    requests_per_minute: int = 400  # DS_REQUESTS_PER_MINUTE: DS's limit per token
    page_size: int = 50  # DS_PAGE_SIZE: DS caps at 100; smaller pages avoid DS timeouts
    http_timeout: float = 60.0  # DS_HTTP_TIMEOUT_SECONDS
    max_retries: int = 6  # DS_MAX_RETRIES: 429, 502–504 and network errors
    web_url: str = "https://www.demarches-simplifiees.fr"  # WIF_DS_BASE_URL: links to DS pages in e-mails


@dataclass(frozen=True)
class SyncSettings:
    rescan_every_hours: int = 6  # WIF_RESCAN_EVERY_HOURS
    rescan_overlap_minutes: int = 15  # WIF_RESCAN_OVERLAP_MINUTES
    # WIF_ROUTING_KEY: the département on the residence permit (what Work in
    # France used) or the employer's établissement (2021 texts).
    routing_key: str = "permit"


@dataclass(frozen=True)
class PushSettings:
    enabled: bool = True  # WIF_PUSH_ENABLED: false for a read-only deployment
    pass_to_instruction: bool = False  # WIF_PASS_TO_INSTRUCTION
    disable_notification: bool = False  # WIF_DISABLE_NOTIFICATION
    # WIF_PUSH_BATCH_SIZE: mutations per request at most (halved on a DS timeout);
    # 50 stays well inside DS's complexity, token and 30 s limits (NOTES §5).
    batch_size: int = 50
    # WIF_PUSH_MAX_MESSAGE_SHARE: a run that would message more than this share of the dossiers it
    # considers holds every mutation until `--force` (a misread form looks like many incomplete dossiers);
    # WIF_PUSH_HOLD_MIN_MESSAGES: a run sending at most this many messages is never held (a webhook's few dossiers).
    max_message_share: float = 0.20
    hold_min_messages: int = 10


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str = field(default="", repr=False)  # SMTP_URL; empty: .eml files in outbox_dir
    outbox_dir: Path = Path("var/outbox")  # WIF_OUTBOX_DIR
    mail_from: str = "Work in France <ne-pas-repondre@workinfrance.beta.gouv.fr>"  # WIF_MAIL_FROM
    max_attempts: int = 8  # WIF_NOTIFY_MAX_ATTEMPTS: SMTP 4xx retries
    retry_base_seconds: int = 300  # WIF_NOTIFY_RETRY_SECONDS: first retry delay, doubled each time
    # WIF_TEAM_EMAIL: the team running the connector, for operational alerts (the validity check's miss spikes).
    team_email: str = field(default="", repr=False)


@dataclass(frozen=True)
class NotifySettings:
    # WIF_NOTIFY_TEMPLATES: which messages are sent (see notifications.messages).
    templates: str = "default"
    recent_days: int = 3  # WIF_NOTIFY_RECENT_DAYS: only steps of the last N days are notified
    # WIF_DIGEST_DAYS_EN_CONSTRUCTION, WIF_DIGEST_DAYS_EN_INSTRUCTION: "waiting too long" thresholds.
    waiting_days: Mapping[str, int] = field(default_factory=lambda: {"en_construction": 7, "en_instruction": 15})
    alert_days: int = 30  # WIF_DIGEST_ALERT_DAYS: alerts look at the last N days
    # WIF_SERVICE_EMAILS: "service=address;…", overrides mappings/services.csv.
    service_emails: Mapping[str, str] = field(default_factory=dict, repr=False)
    # WIF_FALLBACK_EMAIL: the agents who orient the dossiers of the fallback groupe (no service,
    # out of scope, or a service not open yet): they get that groupe's digest and monthly report.
    fallback_email: str = field(default="", repr=False)


@dataclass(frozen=True)
class ScheduleSettings:
    sync_every_minutes: int = 15  # WIF_SYNC_EVERY_MINUTES
    digest_at: str = "07:30"  # WIF_DIGEST_AT, local time HH:MM
    stats_at: str = "05:00"  # WIF_STATS_AT
    report_at: str = "06:00"  # WIF_REPORT_AT
    stats_args: tuple[str, ...] = ()  # WIF_STATS_ARGS: arguments of the scheduled `wif stats`
    job_lock_ttl_minutes: int = 120  # WIF_JOB_LOCK_TTL_MINUTES: a SQLite lock row expires after this
    timezone: str = "UTC"  # TZ: the host's local time, used by the Sentry cron monitors


@dataclass(frozen=True)
class ValiditySettings:
    # WIF_VALIDITY_PEPPER: secret of the birth-date hashes; without it no
    # validity record is kept and `wif serve` refuses to start.
    pepper: bytes = field(default=b"", repr=False)
    lookups_per_minute: int = 10  # WIF_VALIDITY_LOOKUPS_PER_MINUTE, per client
    burst: int = 5  # WIF_VALIDITY_BURST
    trusted_proxies: int = 0  # WIF_VALIDITY_TRUSTED_PROXIES: client IP from X-Forwarded-For
    force_hsts: bool = False  # WIF_VALIDITY_FORCE_HSTS: behind a TLS proxy
    keep_days: int = 90  # WIF_VALIDITY_KEEP_DAYS: an expired or withdrawn record is kept this long
    # WIF_VALIDITY_GLOBAL_LOOKUPS per WIF_VALIDITY_GLOBAL_WINDOW_MINUTES: the lookups of every client and
    # every worker together (counted in the database); past it every lookup answers 429 until the next window.
    global_lookups: int = 300
    global_window_minutes: int = 5
    # WIF_VALIDITY_MISS_ALERT: misses (« non valide ») in one window that e-mail the team (WIF_TEAM_EMAIL), once.
    miss_alert: int = 100


@dataclass(frozen=True)
class WebhookSettings:
    # WIF_WEBHOOK_LEGACY_SECRET: the secret in the legacy per-démarche URL
    # (…/webhooks/ds/<démarche>/<secret>): DS signs nothing there. Empty: off.
    legacy_secret: str = field(default="", repr=False)
    # WIF_WEBHOOK_SECRETS: secrets (whsec_…) of the signed webhooks, comma
    # separated: the current one, and the previous one during a rotation. Empty: off.
    secrets: tuple[str, ...] = field(default=(), repr=False)
    hint_poll_seconds: float = 1.0  # WIF_HINT_POLL_SECONDS: how often the scheduler looks for hints

    @property
    def enabled(self) -> bool:
        return bool(self.legacy_secret or self.secrets)


@dataclass(frozen=True)
class ObservabilitySettings:
    sentry_dsn: str = field(default="", repr=False)  # SENTRY_DSN
    environment: str = "development"  # WIF_ENVIRONMENT
    release: str = ""  # SENTRY_RELEASE; default: the package version


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL  # DATABASE_URL: SQLAlchemy URL
    ds: DSSettings = DSSettings()
    sync: SyncSettings = SyncSettings()
    push: PushSettings = PushSettings()
    mail: MailSettings = MailSettings()
    notify: NotifySettings = NotifySettings()
    schedule: ScheduleSettings = ScheduleSettings()
    validity: ValiditySettings = ValiditySettings()
    webhooks: WebhookSettings = WebhookSettings()
    observability: ObservabilitySettings = ObservabilitySettings()

    @property
    def uses_sandbox(self) -> bool:
        return not self.ds.api_url

    def secrets(self) -> tuple[str, ...]:
        """Values that must never leave the process (for log and Sentry scrubbing)."""
        values = (self.ds.api_token, self.observability.sentry_dsn, self.mail.smtp_url, self.validity.pepper.decode(),
                  self.webhooks.legacy_secret, *self.webhooks.secrets)
        return tuple(value for value in values if value)

    def safe_dict(self) -> dict:
        """Settings without secrets, for `wif status` and logs."""
        out: dict = {"database_url": _without_password(self.database_url)}
        for section in fields(self):
            if section.name == "database_url":
                continue
            values = getattr(self, section.name)
            out[section.name] = {
                f.name: (("***" if getattr(values, f.name) else "") if not f.repr else _plain(getattr(values, f.name)))
                for f in fields(values)
            }
        return out


def _plain(value):
    return str(value) if isinstance(value, Path) else dict(value) if isinstance(value, Mapping) else value


def _without_password(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# --- reading the environment ------------------------------------------------------

class _Env:
    """Typed reads of the environment; every error names the variable."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def text(self, name: str, default: str = "") -> str:
        return self.environ.get(name, "").strip() or default

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value

    def share(self, name: str, default: float) -> float:
        """A share between 0 and 1; `20%` is read as 0.20."""
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a share between 0 and 1 (or a percentage), got {raw!r}") from None
        if not 0 <= value <= 1:
            raise ConfigError(f"{name} must be between 0 and 1, got {raw!r}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self.text(name, default)
        if raw not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return raw

    def time_of_day(self, name: str, default: str) -> str:
        raw = self.text(name, default)
        hours, sep, minutes = raw.partition(":")
        if not (sep and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ConfigError(f"{name} must be a time HH:MM, got {raw!r}")
        return f"{int(hours):02d}:{int(minutes):02d}"

    def numbers(self, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        raw = self.text(name)
        if not raw:
            return default
        try:
            numbers = tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
        except ValueError:
            raise ConfigError(f"{name} must be one or more numbers separated by commas, got {raw!r}") from None
        if not numbers:
            raise ConfigError(f"{name} must name at least one démarche number")
        return numbers

    def pairs(self, name: str) -> dict[str, str]:
        out = {}
        for pair in (part for part in self.text(name).split(";") if part.strip()):
            key, sep, value = pair.partition("=")
            if not sep or "@" not in value:
                raise ConfigError(f"{name} must look like 'service=address;service=address'")
            out[key.strip()] = value.strip()
        return out

    def email(self, name: str) -> str:
        raw = self.text(name)
        if raw and ("@" not in raw or any(c.isspace() for c in raw)):
            raise ConfigError(f"{name} must be one e-mail address, got {raw!r}")
        return raw

    def secret_list(self, name: str) -> tuple[str, ...]:
        values = tuple(part.strip() for part in self.text(name).split(",") if part.strip())
        if any(len(value) < 16 for value in values):
            raise ConfigError(f"{name}: each secret must be at least 16 characters long")
        return values

    def pepper(self, name: str) -> bytes:
        raw = self.text(name)
        if raw and len(raw) < MIN_PEPPER_LENGTH:
            raise ConfigError(f"{name} must be at least {MIN_PEPPER_LENGTH} characters long")
        return raw.encode()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = _Env(os.environ if environ is None else environ)
    ds, mail, notify, schedule, validity = DSSettings(), MailSettings(), NotifySettings(), ScheduleSettings(), ValiditySettings()
    return Settings(
        database_url=env.text("DATABASE_URL", DEFAULT_DATABASE_URL),
        ds=DSSettings(
            api_url=env.text("DS_API_URL"),
            api_token=env.text("DS_API_TOKEN"),
            demarche_numbers=env.numbers("DS_DEMARCHE_NUMBER", ds.demarche_numbers),
            instructeur_id=env.text("DS_INSTRUCTEUR_ID"),
            requests_per_minute=env.integer("DS_REQUESTS_PER_MINUTE", ds.requests_per_minute, minimum=1),
            page_size=env.integer("DS_PAGE_SIZE", ds.page_size, minimum=1),
            http_timeout=float(env.integer("DS_HTTP_TIMEOUT_SECONDS", int(ds.http_timeout), minimum=1)),
            max_retries=env.integer("DS_MAX_RETRIES", ds.max_retries, minimum=0),
            web_url=env.text("WIF_DS_BASE_URL", ds.web_url).rstrip("/"),
        ),
        sync=SyncSettings(
            rescan_every_hours=env.integer("WIF_RESCAN_EVERY_HOURS", SyncSettings.rescan_every_hours, minimum=0),
            rescan_overlap_minutes=env.integer("WIF_RESCAN_OVERLAP_MINUTES", SyncSettings.rescan_overlap_minutes, minimum=0),
            routing_key=env.choice("WIF_ROUTING_KEY", SyncSettings.routing_key, ("permit", "employer")),
        ),
        push=PushSettings(
            enabled=env.boolean("WIF_PUSH_ENABLED", PushSettings.enabled),
            pass_to_instruction=env.boolean("WIF_PASS_TO_INSTRUCTION", PushSettings.pass_to_instruction),
            disable_notification=env.boolean("WIF_DISABLE_NOTIFICATION", PushSettings.disable_notification),
            batch_size=env.integer("WIF_PUSH_BATCH_SIZE", PushSettings.batch_size, minimum=1),
            max_message_share=env.share("WIF_PUSH_MAX_MESSAGE_SHARE", PushSettings.max_message_share),
            hold_min_messages=env.integer("WIF_PUSH_HOLD_MIN_MESSAGES", PushSettings.hold_min_messages, minimum=0),
        ),
        mail=MailSettings(
            smtp_url=env.text("SMTP_URL"),
            outbox_dir=Path(env.text("WIF_OUTBOX_DIR") or mail.outbox_dir),
            mail_from=env.text("WIF_MAIL_FROM", mail.mail_from),
            max_attempts=env.integer("WIF_NOTIFY_MAX_ATTEMPTS", mail.max_attempts, minimum=1),
            retry_base_seconds=env.integer("WIF_NOTIFY_RETRY_SECONDS", mail.retry_base_seconds, minimum=0),
            team_email=env.email("WIF_TEAM_EMAIL"),
        ),
        notify=NotifySettings(
            templates=env.text("WIF_NOTIFY_TEMPLATES", notify.templates),
            recent_days=env.integer("WIF_NOTIFY_RECENT_DAYS", notify.recent_days, minimum=0),
            waiting_days={
                state: env.integer(f"WIF_DIGEST_DAYS_{state.upper()}", days, minimum=0)
                for state, days in notify.waiting_days.items()
            },
            alert_days=env.integer("WIF_DIGEST_ALERT_DAYS", notify.alert_days, minimum=0),
            service_emails=env.pairs("WIF_SERVICE_EMAILS"),
            fallback_email=env.email("WIF_FALLBACK_EMAIL"),
        ),
        schedule=ScheduleSettings(
            sync_every_minutes=env.integer("WIF_SYNC_EVERY_MINUTES", schedule.sync_every_minutes, minimum=1),
            digest_at=env.time_of_day("WIF_DIGEST_AT", schedule.digest_at),
            stats_at=env.time_of_day("WIF_STATS_AT", schedule.stats_at),
            report_at=env.time_of_day("WIF_REPORT_AT", schedule.report_at),
            stats_args=tuple(shlex.split(env.text("WIF_STATS_ARGS"))),
            job_lock_ttl_minutes=env.integer("WIF_JOB_LOCK_TTL_MINUTES", schedule.job_lock_ttl_minutes, minimum=1),
            timezone=env.text("TZ", schedule.timezone),
        ),
        validity=ValiditySettings(
            pepper=env.pepper("WIF_VALIDITY_PEPPER"),
            lookups_per_minute=env.integer("WIF_VALIDITY_LOOKUPS_PER_MINUTE", validity.lookups_per_minute, minimum=1),
            burst=env.integer("WIF_VALIDITY_BURST", validity.burst, minimum=1),
            trusted_proxies=env.integer("WIF_VALIDITY_TRUSTED_PROXIES", validity.trusted_proxies, minimum=0),
            force_hsts=env.boolean("WIF_VALIDITY_FORCE_HSTS", validity.force_hsts),
            keep_days=env.integer("WIF_VALIDITY_KEEP_DAYS", validity.keep_days, minimum=0),
            global_lookups=env.integer("WIF_VALIDITY_GLOBAL_LOOKUPS", validity.global_lookups, minimum=1),
            global_window_minutes=env.integer("WIF_VALIDITY_GLOBAL_WINDOW_MINUTES", validity.global_window_minutes, minimum=1),
            miss_alert=env.integer("WIF_VALIDITY_MISS_ALERT", validity.miss_alert, minimum=1),
        ),
        webhooks=WebhookSettings(
            legacy_secret=(env.secret_list("WIF_WEBHOOK_LEGACY_SECRET") or ("",))[0],
            secrets=env.secret_list("WIF_WEBHOOK_SECRETS"),
            hint_poll_seconds=float(env.integer("WIF_HINT_POLL_SECONDS", 1, minimum=1)),
        ),
        observability=ObservabilitySettings(
            sentry_dsn=env.text("SENTRY_DSN"),
            environment=env.text("WIF_ENVIRONMENT", ObservabilitySettings.environment),
            release=env.text("SENTRY_RELEASE"),
        ),
    )
