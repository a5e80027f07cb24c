"""Settings: one object, read once from the environment, a section per concern.

The same binary runs against the embedded sandbox or the real DS: only
these variables change. Each field declares its setting once, with
`setting(...)`: the variable, the parser (which holds the bounds), the
default as written in the environment, and the description. The README's
tables and `.env.example` are generated from these declarations
(`python -m core.settings_docs`) and a test compares them.

Every value is validated when the settings are loaded (two, whose vocabulary
lives in packages core may not import, right after, by `jobs.runtime.check_settings`):
a bad one is a `ConfigError` naming the variable, what is wrong and what is
expected, and `wif` stops with that one line (exit 2) before anything is created.
See docs/settings.md.
Secrets (`repr=False`) never appear in logs, `wif status` or errors.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from core.errors import ExitCode, WifError

DEFAULT_DATABASE_URL = "sqlite:///var/wif.db"
# A shorter secret could be guessed together with the birth date it keys.
MIN_PEPPER_LENGTH = 32
MIN_WEBHOOK_SECRET_LENGTH = 16
# DS's GraphQL Int is 32-bit: a larger démarche number cannot exist.
MAX_DEMARCHE_NUMBER = 2**31 - 1
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class ConfigError(WifError, ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""

    exit_code = ExitCode.CONFIG


class Invalid(ValueError):
    """A parser's refusal: what is wrong and what is expected, without the variable's name."""


# --- parsers: text of the environment -> value, or Invalid ------------------------


@dataclass(frozen=True)
class Parser:
    parse: Callable[[str], Any]
    accepts: str  # the values it takes, as the README shows them

    def __call__(self, raw: str) -> Any:
        return self.parse(raw)


def integer(low: int, high: int, unit: str = "") -> Parser:
    expected = f"a whole number{f' of {unit}' if unit else ''} from {low} to {high}"

    def parse(raw: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]+", raw):
            raise Invalid(f"{raw!r} is not a whole number; expected {expected}")
        if len(raw.lstrip("+-")) > 18 or not low <= int(raw) <= high:
            raise Invalid(f"{raw} is out of bounds; expected {expected}")
        return int(raw)

    return Parser(parse, f"{low}–{high}{f' {unit}' if unit else ''}")


def share() -> Parser:
    def parse(raw: str) -> float:
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 1:  # also refuses nan and inf
            raise Invalid(f"{raw!r} is not a share; expected a number from 0 to 1, or a percentage such as 20%")
        return value

    return Parser(parse, "0–1, or a percentage")


def boolean() -> Parser:
    def parse(raw: str) -> bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise Invalid(f"{raw!r} is not a yes or no; expected true or false")

    return Parser(parse, "true, false")


def choice(*choices: str) -> Parser:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise Invalid(f"{raw!r} is not a choice; expected one of {', '.join(choices)}")
        return raw

    return Parser(parse, ", ".join(f"`{c}`" for c in choices))


def time_of_day() -> Parser:
    def parse(raw: str) -> str:
        hours, _, minutes = raw.partition(":")
        if not (re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", raw) and int(hours) < 24 and int(minutes) < 60):
            raise Invalid(f"{raw!r} is not a time of day; expected HH:MM, such as 07:30")
        return f"{int(hours):02d}:{minutes}"

    return Parser(parse, "HH:MM")


def demarche_numbers() -> Parser:
    expected = f"one or more démarche numbers from 1 to {MAX_DEMARCHE_NUMBER}, separated by commas"

    def parse(raw: str) -> tuple[int, ...]:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        if not parts or not all(re.fullmatch(r"[0-9]{1,10}", part) for part in parts):
            raise Invalid(f"{raw!r} is not a list of numbers; expected {expected}")
        numbers = tuple(int(part) for part in parts)
        if not all(1 <= number <= MAX_DEMARCHE_NUMBER for number in numbers):
            raise Invalid(f"{raw!r} holds a number out of bounds; expected {expected}")
        return numbers

    return Parser(parse, "numbers, comma separated")


def http_url(what: str) -> Parser:
    """An http(s) URL: these go into requests or into the links of e-mails (never `javascript:`)."""
    from urllib.parse import urlsplit

    def parse(raw: str) -> str:
        if not raw:
            return ""
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            parts = None
        if not (
            parts
            and parts.scheme in ("http", "https")
            and parts.hostname
            and not parts.username
            and not parts.query
            and not parts.fragment
            and not any(c.isspace() for c in raw)
        ):
            raise Invalid(f"{raw!r} is not an http(s) URL; expected {what}")
        return raw.rstrip("/")

    return Parser(parse, "http(s) URL")


def _one_address(raw: str, display_name: bool) -> str:
    """One address, parsed as an e-mail header would be; the message never repeats it (personal data)."""
    from email.policy import default as email_policy

    try:
        header = email_policy.header_factory("From", raw)
        addresses = header.addresses
    except Exception:  # noqa: BLE001 - the stdlib's header parser also raises AttributeError, TypeError on some junk
        addresses, header = (), None
    if not (
        header is not None
        and len(addresses) == 1
        and not header.defects
        and addresses[0].domain
        and (display_name or raw == addresses[0].addr_spec)
    ):
        raise Invalid(
            f"the value is not {'an' if display_name else 'one bare'} e-mail address; expected "
            + ("Name <address@domain>, or address@domain" if display_name else "address@domain")
        )
    return raw


def address(display_name: bool = False) -> Parser:
    return Parser(
        lambda raw: _one_address(raw, display_name) if raw else "",
        "e-mail address" + (", with a name" if display_name else ""),
    )


def address_pairs() -> Parser:
    def parse(raw: str) -> dict[str, str]:
        out = {}
        for pair in (part for part in raw.split(";") if part.strip()):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise Invalid("a part is not service=address; expected 'service=address;service=address'")
            try:
                out[key.strip()] = _one_address(value.strip(), display_name=False)
            except Invalid:
                raise Invalid(
                    f"the address of {key.strip()!r} is not one bare e-mail address; expected "
                    "'service=address;service=address'"
                ) from None
        return out

    return Parser(parse, "service=address;…")


def secret(min_length: int, url_safe: bool = False) -> Parser:
    def parse(raw: str) -> str:
        if raw and len(raw) < min_length:
            raise Invalid(f"the secret is {len(raw)} characters long; expected at least {min_length}")
        if raw and url_safe and not re.fullmatch(r"[A-Za-z0-9._~-]+", raw):
            raise Invalid(
                "the secret holds a character a URL path cannot carry as is (a comma, a slash, a space…); "
                "expected one secret of letters, digits and - . _ ~ (several signed-webhook secrets go "
                "in WIF_WEBHOOK_SECRETS)"
            )
        return raw

    return Parser(parse, f"≥ {min_length} characters" + (", letters, digits, `-._~`" if url_safe else ""))


def secret_list(min_length: int) -> Parser:
    def parse(raw: str) -> tuple[str, ...]:
        values = tuple(part.strip() for part in raw.split(",") if part.strip())
        if any(len(value) < min_length for value in values) or any(" " in value for value in values):
            raise Invalid(
                f"expected secrets of at least {min_length} characters each, without spaces, separated by commas"
            )
        return values

    return Parser(parse, f"≥ {min_length} characters each, comma separated")


def pepper() -> Parser:
    def parse(raw: str) -> bytes:
        if raw and len(raw) < MIN_PEPPER_LENGTH:
            raise Invalid(f"the secret is {len(raw)} characters long; expected at least {MIN_PEPPER_LENGTH}")
        return raw.encode()

    return Parser(parse, f"≥ {MIN_PEPPER_LENGTH} characters")


def token() -> Parser:
    def parse(raw: str) -> str:
        if any(c.isspace() for c in raw):
            raise Invalid("the token holds a space; expected the token as DS shows it, in one piece")
        return raw

    return Parser(parse, "DS API token")


def instructeur_id() -> Parser:
    """DS's GraphQL id of an instructeur: base64 of `Instructeur-<number>`."""

    def parse(raw: str) -> str:
        if not raw:
            return ""
        try:
            decoded = base64.b64decode(raw, validate=True).decode()
        except ValueError:  # not base64, not ASCII, not UTF-8
            decoded = ""
        if not re.fullmatch(r"Instructeur-\d+", decoded):
            raise Invalid(
                f"{raw!r} is not an instructeur's id; expected the base64 id DS gives "
                "(Instructeur-<number> encoded, such as SW5zdHJ1Y3RldXItMTIz)"
            )
        return raw

    return Parser(parse, "base64 id")


def label(max_length: int, forbidden: str, what: str) -> Parser:
    """Free text for another system (Sentry's environment and release names), with its limits."""

    def parse(raw: str) -> str:
        if len(raw) > max_length or any(c in forbidden or c.isspace() for c in raw):
            raise Invalid(
                f"{raw[:80]!r} is not {what}; expected at most {max_length} characters, "
                f"without spaces{' or ' + ' '.join(forbidden) if forbidden else ''}"
            )
        return raw

    return Parser(parse, f"≤ {max_length} characters, no spaces")


def shell_words() -> Parser:
    def parse(raw: str) -> tuple[str, ...]:
        try:
            return tuple(shlex.split(raw))
        except ValueError as error:
            raise Invalid(
                f"{raw!r} cannot be split into arguments ({error}); expected arguments as on a "
                "command line, such as --out /srv/stats"
            ) from None

    return Parser(parse, "command-line arguments")


def timezone() -> Parser:
    def parse(raw: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise Invalid(
                f"{raw!r} is not a known time zone; expected a zone of the tz database, such as Europe/Paris"
            ) from None
        return raw

    return Parser(parse, "tz database zone")


def directory() -> Parser:
    return Parser(Path, "folder")


def optional_directory() -> Parser:
    return Parser(lambda raw: Path(raw) if raw else None, "folder")


def text(max_length: int) -> Parser:
    """One line of French text shown on a public page (a name, an address, a date)."""

    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise Invalid(f"the text is {len(raw)} characters long; expected at most {max_length}")
        return raw

    return Parser(parse, f"text, ≤ {max_length} characters")


def database_url() -> Parser:
    def parse(raw: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        expected = "a SQLAlchemy URL such as sqlite:///var/wif.db or postgresql+psycopg://user@host/db"
        try:
            url = make_url(raw)
        except (ArgumentError, ValueError):
            raise Invalid(f"the value is not a database URL; expected {expected}") from None
        try:
            url.get_dialect().import_dbapi()
        except NoSuchModuleError:
            raise Invalid(f"{url.drivername!r} is not a database this program knows; expected {expected}") from None
        except ImportError:
            raise Invalid(
                f"the driver of {url.drivername!r} is not installed; expected {expected} "
                "(pip install '.[postgres]' for PostgreSQL)"
            ) from None
        return raw

    return Parser(parse, "SQLAlchemy URL")


def sentry_dsn() -> Parser:
    def parse(raw: str) -> str:
        if not raw:
            return ""
        from sentry_sdk.utils import BadDsn, Dsn

        try:
            Dsn(raw)
        except (BadDsn, ValueError):
            raise Invalid(
                "the value is not a Sentry DSN; expected https://<key>@<host>/<project> as Sentry shows it"
            ) from None
        return raw

    return Parser(parse, "Sentry DSN")


def checked_in_jobs(accepts: str) -> Parser:
    """Text whose vocabulary lives in a package core may not import (the mailer's URLs, the message
    names): `jobs.runtime.check_settings` checks it when `wif` starts, before any verb runs."""
    return Parser(str, accepts)


# --- declarations -----------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    variable: str
    parser: Parser
    default: str  # as written in the environment; an empty or blank value means this default
    description: str  # Markdown, for the README and .env.example
    secret: bool = False
    # .env.example: a value a deployment sets (shown uncommented); None: the default, commented out.
    example: str | None = None

    def read(self, environ: Mapping[str, str]) -> Any:
        raw = environ.get(self.variable, "").strip() or self.default
        try:
            if CONTROL_CHARACTERS.search(raw):
                raise Invalid("the value holds a control character (a line break?); expected one line of text")
            return self.parser(raw)
        except Invalid as error:
            raise ConfigError(f"{self.variable}: {error}") from None


def setting(
    variable: str, parser: Parser, default: str, description: str, *, secret: bool = False, example: str | None = None
) -> Any:
    declared = Setting(variable, parser, default, description, secret, example)
    metadata = {"setting": declared}
    value = parser(default)
    if isinstance(value, dict):
        return field(default_factory=lambda: parser(default), repr=not secret, metadata=metadata)
    return field(default=value, repr=not secret, metadata=metadata)


@dataclass(frozen=True)
class DSSettings:
    api_url: str = setting(
        "DS_API_URL",
        http_url("DS's GraphQL endpoint, such as https://demarche.numerique.gouv.fr/api/v2/graphql"),
        "",
        "`https://demarche.numerique.gouv.fr/api/v2/graphql` (the old host "
        "`https://www.demarches-simplifiees.fr/api/v2/graphql` also answers); empty: the embedded DS sandbox "
        "with synthetic dossiers, into the default database only",
        example="https://demarche.numerique.gouv.fr/api/v2/graphql",
    )
    api_token: str = setting(
        "DS_API_TOKEN",
        token(),
        "",
        "API token of the démarche's administrateur; read/write for `wif push` and `wif procedure apply`; "
        "required with `DS_API_URL`. Never logged.",
        secret=True,
        example="",
    )
    demarche_numbers: tuple[int, ...] = setting(
        "DS_DEMARCHE_NUMBER", demarche_numbers(), "1", "démarche number(s), comma separated", example=""
    )
    instructeur_id: str = setting(
        "DS_INSTRUCTEUR_ID",
        instructeur_id(),
        "",
        "profile id (`Instructeur-<id>`, base64) of the connector's instructeur; `wif procedure apply` makes it "
        "a member of every groupe",
        example="",
    )
    requests_per_minute: int = setting(
        "DS_REQUESTS_PER_MINUTE",
        integer(1, 100_000),
        "400",
        "client-side budget (DS's limit per token), shared by sync and push in a process, sync first: push never "
        "takes the last 10 % of the window, nor a slot a sync request waits for",
    )
    page_size: int = setting(
        "DS_PAGE_SIZE",
        integer(1, 100),
        "50",
        "dossiers per page (DS caps at 100; smaller pages avoid DS timeouts on big forms)",
    )
    http_timeout: int = setting("DS_HTTP_TIMEOUT_SECONDS", integer(1, 600, "seconds"), "60", "seconds per request")
    max_retries: int = setting(
        "DS_MAX_RETRIES",
        integer(0, 20),
        "6",
        "retries of a request (429, 502–504, network) with exponential backoff and jitter",
    )
    web_url: str = setting(
        "WIF_DS_BASE_URL",
        http_url("DS's web address, such as https://www.demarches-simplifiees.fr"),
        "https://www.demarches-simplifiees.fr",
        "links to the DS instruction pages in e-mails (http or https only)",
    )
    sandbox_any_database: bool = setting(
        "WIF_DEMO_ANY_DATABASE",
        boolean(),
        "false",
        "for tests and scripts: without `DS_API_URL`, the embedded sandbox may write into a `DATABASE_URL` other "
        "than the default (never into one holding the binding of another démarche)",
    )


@dataclass(frozen=True)
class SyncSettings:
    rescan_every_hours: int = setting(
        "WIF_RESCAN_EVERY_HOURS",
        integer(0, 8760, "hours"),
        "6",
        "how often the overlap re-scan catches changes DS commits late",
    )
    rescan_overlap_minutes: int = setting(
        "WIF_RESCAN_OVERLAP_MINUTES", integer(0, 10_080, "minutes"), "15", "how far back the re-scan looks"
    )
    routing_key: str = setting(
        "WIF_ROUTING_KEY",
        choice("permit", "employer"),
        "permit",
        "`permit`: the département on the residence permit, as Work in France routed; `employer`: the employer's "
        "établissement (2021 texts)",
    )


@dataclass(frozen=True)
class PushSettings:
    enabled: bool = setting(
        "WIF_PUSH_ENABLED", boolean(), "true", "`false` for a read-only deployment: nothing is ever written to DS"
    )
    pass_to_instruction: bool = setting(
        "WIF_PASS_TO_INSTRUCTION",
        boolean(),
        "false",
        "pass complete dossiers `en_construction` to `en_instruction` after the push",
    )
    disable_notification: bool = setting(
        "WIF_DISABLE_NOTIFICATION",
        boolean(),
        "false",
        "with `WIF_PASS_TO_INSTRUCTION`: DS sends no e-mail to the applicant",
    )
    batch_size: int = setting(
        "WIF_PUSH_BATCH_SIZE",
        integer(1, 100),
        "50",
        "mutations per request at most (aliased root fields, well inside DS's complexity, token and 30 s limits); "
        "halved for the rest of the run on a DS `timeout` or an answer slower than 12 s",
    )
    max_message_share: float = setting(
        "WIF_PUSH_MAX_MESSAGE_SHARE",
        share(),
        "0.20",
        "the circuit breaker: a push run that would send a message to more than this share (or `20%`) of the "
        "dossiers it considers, and to more than `WIF_PUSH_HOLD_MIN_MESSAGES` dossiers, sends nothing at all until "
        '`--force` (see "Safety stops")',
    )
    hold_min_messages: int = setting(
        "WIF_PUSH_HOLD_MIN_MESSAGES",
        integer(0, 1_000_000),
        "10",
        "a run sending at most this many messages is never held (a webhook's few dossiers)",
    )
    message_recent_days: int = setting(
        "WIF_PUSH_MESSAGE_RECENT_DAYS",
        integer(1, 3650, "days"),
        "60",
        "a message to the applicant only about a dossier deposited, changed by the applicant or sent back to them "
        "in the last N days, so a first push on old dossiers messages no one; labels and annotations are still "
        "written (docs/ds-push.md#recent-dossiers-only)",
    )


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str = setting(
        "SMTP_URL",
        checked_in_jobs("smtp(s) URL"),
        "",
        "`smtp://user:pass@host:587?starttls=1` or `smtps://user:pass@host:465`; empty: `.eml` files in "
        "`WIF_OUTBOX_DIR`",
        secret=True,
        example="",
    )
    outbox_dir: Path = setting(
        "WIF_OUTBOX_DIR",
        directory(),
        "var/outbox",
        "folder of the `.eml` files without `SMTP_URL` (created if its parent exists)",
    )
    mail_from: str = setting(
        "WIF_MAIL_FROM",
        address(display_name=True),
        "Work in France <ne-pas-repondre@workinfrance.beta.gouv.fr>",
        "sender of every e-mail",
    )
    max_attempts: int = setting(
        "WIF_NOTIFY_MAX_ATTEMPTS",
        integer(1, 12),
        "8",
        "attempts of an e-mail the mail server deferred (4xx) or refused for a reason not about the recipient "
        "(a 5xx such as a spam filter's); a 5xx about the recipient (5.1.x, 5.2.x) is failed at once "
        "(docs/mail-refusals.md)",
    )
    retry_base_seconds: int = setting(
        "WIF_NOTIFY_RETRY_SECONDS",
        integer(0, 86_400, "seconds"),
        "300",
        "delay before the first retry, doubled at each attempt",
    )
    team_email: str = setting(
        "WIF_TEAM_EMAIL",
        address(),
        "",
        "the team running the connector: operational alerts (the validity check's miss spikes, a mail server "
        "refusing every message, champs unknown to the procedure on synced dossiers), the fallback groupe's digest "
        "and report when `WIF_FALLBACK_EMAIL` is unset, the contact the digest gives; unset, alerts are only logged",
        secret=True,
        example="",
    )


@dataclass(frozen=True)
class NotifySettings:
    templates: str = setting(
        "WIF_NOTIFY_TEMPLATES",
        checked_in_jobs("message switches"),
        "default",
        "which e-mails are sent, e.g. `all`, or `default,-complet:employer`",
    )
    recent_days: int = setting(
        "WIF_NOTIFY_RECENT_DAYS",
        integer(0, 3650, "days"),
        "3",
        "only steps of the last N days are notified, so a first sync of old dossiers e-mails no one",
    )
    days_en_construction: int = setting(
        "WIF_DIGEST_DAYS_EN_CONSTRUCTION",
        integer(0, 3650, "days"),
        "7",
        "the digest lists a dossier `en_construction` for longer than this",
    )
    days_en_instruction: int = setting(
        "WIF_DIGEST_DAYS_EN_INSTRUCTION",
        integer(0, 3650, "days"),
        "15",
        "the digest lists a dossier `en_instruction` for longer than this",
    )
    alert_days: int = setting(
        "WIF_DIGEST_ALERT_DAYS", integer(0, 3650, "days"), "30", "the digest's alerts look at the last N days"
    )
    service_emails: Mapping[str, str] = setting(
        "WIF_SERVICE_EMAILS",
        address_pairs(),
        "",
        "`service=address;…`: overrides `mappings/services.csv`; a service not open yet (`open` = non) gets no "
        "digest and no report, whatever its address",
        secret=True,
    )
    fallback_email: str = setting(
        "WIF_FALLBACK_EMAIL",
        address(),
        "",
        "the agents who orient the fallback groupe « À orienter manuellement » (no département, out of scope, or a "
        "service not open yet): they get that groupe's digest, with why each dossier is there, and its monthly "
        "report. Unset, the team (`WIF_TEAM_EMAIL`) gets them; with neither, those dossiers reach no one, and "
        "`wif status` and `wif schedule` say how many",
        secret=True,
        example="",
    )

    @property
    def waiting_days(self) -> Mapping[str, int]:
        """The "waiting too long" threshold of each state the digest watches."""
        return {"en_construction": self.days_en_construction, "en_instruction": self.days_en_instruction}


@dataclass(frozen=True)
class ScheduleSettings:
    sync_every_minutes: int = setting(
        "WIF_SYNC_EVERY_MINUTES", integer(1, 1440, "minutes"), "15", "`wif schedule`: sync and notify every N minutes"
    )
    digest_at: str = setting("WIF_DIGEST_AT", time_of_day(), "07:30", "`wif schedule`: the daily digest, local time")
    stats_at: str = setting("WIF_STATS_AT", time_of_day(), "05:00", "`wif schedule`: the daily statistics, local time")
    report_at: str = setting(
        "WIF_REPORT_AT", time_of_day(), "06:00", "`wif schedule`: the monthly report on the 1st, local time"
    )
    stats_args: tuple[str, ...] = setting(
        "WIF_STATS_ARGS",
        shell_words(),
        "",
        "arguments of the scheduled `wif stats` (e.g. `--out /srv/stats`), checked against its options when "
        "`wif` starts",
        example="--out var/site",
    )
    job_lock_ttl_minutes: int = setting(
        "WIF_JOB_LOCK_TTL_MINUTES",
        integer(1, 10_080, "minutes"),
        "120",
        "a job's lock row on SQLite expires after this (PostgreSQL uses advisory locks)",
    )
    timezone: str = setting(
        "TZ",
        timezone(),
        "Europe/Paris",
        "the time zone of the scheduler's times (digest, stats, report) and of Sentry's cron monitors: French services'"
        " hours whatever the host's zone",
        example="Europe/Paris",
    )


@dataclass(frozen=True)
class ValiditySettings:
    pepper: bytes = setting(
        "WIF_VALIDITY_PEPPER",
        pepper(),
        "",
        f"secret (≥ {MIN_PEPPER_LENGTH} characters) of the birth-date hashes of the validity check; without it the "
        "sync keeps no validity record and `wif serve` refuses to start",
        secret=True,
        example="",
    )
    lookups_per_minute: int = setting(
        "WIF_VALIDITY_LOOKUPS_PER_MINUTE", integer(1, 10_000), "10", "per-client rate limit of the validity check"
    )
    burst: int = setting("WIF_VALIDITY_BURST", integer(1, 10_000), "5", "per-client burst of the validity check")
    trusted_proxies: int = setting(
        "WIF_VALIDITY_TRUSTED_PROXIES",
        integer(0, 10),
        "0",
        "number of reverse proxies in front of `wif serve` (client IP from `X-Forwarded-For`)",
    )
    force_hsts: bool = setting("WIF_VALIDITY_FORCE_HSTS", boolean(), "false", "HSTS behind a TLS proxy")
    keep_days: int = setting(
        "WIF_VALIDITY_KEEP_DAYS", integer(0, 3650, "days"), "90", "days an expired or withdrawn record is kept"
    )
    global_lookups: int = setting(
        "WIF_VALIDITY_GLOBAL_LOOKUPS",
        integer(1, 1_000_000),
        "300",
        "lookups of every client and every `wif serve` worker together, per window, counted in the database "
        "(`validity_budget`, one row per window, checked and incremented in one UPDATE); past it every lookup "
        "answers 429 « Service très sollicité » until the next window",
    )
    global_window_minutes: int = setting(
        "WIF_VALIDITY_GLOBAL_WINDOW_MINUTES", integer(1, 1440, "minutes"), "5", "the window of those lookups"
    )
    miss_alert: int = setting(
        "WIF_VALIDITY_MISS_ALERT",
        integer(1, 1_000_000),
        "100",
        "misses (« aucune autorisation trouvée ») in one window that e-mail the team (`WIF_TEAM_EMAIL`), once per "
        "window (through "
        "the notification outbox; an alert the mail server refused is retried by the first lookup of a later "
        "window); a hit and a miss run the same statements",
    )


# What the public pages (statistics site, validity check) say of themselves: the mandatory pages of a public website
# (accessibility statement, mentions légales, personal data, contact) and the links between the pages.
@dataclass(frozen=True)
class PagesSettings:
    dsfr_dir: Path | None = setting(
        "WIF_DSFR_DIR",
        optional_directory(),
        "",
        "the `dist` folder of the DSFR (`@gouvfr/dsfr`, from npm) whose CSS, icons and Marianne font `wif stats` "
        "copies beside the pages and `wif serve` serves; empty: `node_modules/@gouvfr/dsfr/dist` of the checkout "
        "(`npm ci`). Without it both commands stop with one line",
    )
    validity_url: str = setting(
        "WIF_VALIDITY_URL",
        http_url("the public address of `wif serve`, such as https://apt.example.gouv.fr"),
        "",
        "public address of the validity check (`wif serve`), linked from the statistics site and from the employer's "
        "« acceptée » e-mail (with what the check asks for); empty: not linked",
    )
    stats_url: str = setting(
        "WIF_STATS_URL",
        http_url("the public address of the statistics site"),
        "",
        "public address of the statistics site (`wif stats --out`), linked from the validity check; empty: not linked",
    )
    contact_email: str = setting(
        "WIF_CONTACT_EMAIL",
        address(),
        "",
        "the public pages' contact (accessibility, personal data, the site); empty: `WIF_TEAM_EMAIL`; with neither, "
        "the pages name only the dossier's messagerie on DS",
    )
    publisher: str = setting(
        "WIF_PUBLISHER",
        text(200),
        "Ministère de l'Intérieur, direction générale des étrangers en France (DGEF)",
        "mentions légales: the éditeur of the pages",
    )
    publisher_address: str = setting(
        "WIF_PUBLISHER_ADDRESS",
        text(200),
        "Place Beauvau, 75800 Paris Cedex 08",
        "mentions légales: the éditeur's postal address",
    )
    publication_director: str = setting(
        "WIF_PUBLICATION_DIRECTOR",
        text(200),
        "Le directeur général des étrangers en France",
        "mentions légales: the directeur de la publication (a function is enough)",
    )
    hosting: str = setting(
        "WIF_HOSTING",
        text(300),
        "À compléter par l'exploitant du service : nom, adresse et téléphone de l'hébergeur",
        "mentions légales: the hébergeur's name, address and telephone (required by law: set it)",
    )
    data_protection_contact: str = setting(
        "WIF_DATA_PROTECTION_CONTACT",
        text(300),
        "Délégué à la protection des données du ministère de l'Intérieur, place Beauvau, 75800 Paris Cedex 08",
        "données personnelles: whom to write to exercise one's rights",
    )
    accessibility_status: str = setting(
        "WIF_ACCESSIBILITY_STATUS",
        choice("non conforme", "partiellement conforme", "totalement conforme"),
        "non conforme",
        "the RGAA conformity the footer and the accessibility statement declare: without an RGAA audit a site is "
        "« non conforme », whatever its automated tests say",
    )
    accessibility_date: str = setting(
        "WIF_ACCESSIBILITY_DATE",
        text(40),
        "6 décembre 2026",
        "the date the accessibility statement was established (« 6 décembre 2026 »)",
    )
    accessibility_audit: str = setting(
        "WIF_ACCESSIBILITY_AUDIT",
        text(300),
        "",
        "the RGAA audit the status rests on (who, when, share of criteria met); empty: the statement says none was "
        "made and what the project's own tests check",
    )


@dataclass(frozen=True)
class WebhookSettings:
    legacy_secret: str = setting(
        "WIF_WEBHOOK_LEGACY_SECRET",
        secret(MIN_WEBHOOK_SECRET_LENGTH, url_safe=True),
        "",
        f"one secret (≥ {MIN_WEBHOOK_SECRET_LENGTH} characters: letters, digits, `-._~`) of the legacy per-démarche "
        "webhook URL to set in DS: `https://<host>/webhooks/ds/<démarche>/<secret>` (DS signs nothing there; a "
        "wrong secret answers 404 and is counted); empty: off",
        secret=True,
        example="",
    )
    secrets: tuple[str, ...] = setting(
        "WIF_WEBHOOK_SECRETS",
        secret_list(MIN_WEBHOOK_SECRET_LENGTH),
        "",
        "secret(s) `whsec_…` of DS's signed webhooks (`https://<host>/webhooks/ds`), comma separated: the current "
        "one, plus the previous one while DS rotates it; empty: off",
        secret=True,
        example="",
    )
    hint_poll_seconds: int = setting(
        "WIF_HINT_POLL_SECONDS",
        integer(1, 3600, "seconds"),
        "1",
        "how often `wif schedule` looks for dossiers a webhook pointed at",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.legacy_secret or self.secrets)


# Sentry's own limits on these names (https://docs.sentry.io/platforms/python/configuration/options/).
@dataclass(frozen=True)
class ObservabilitySettings:
    sentry_dsn: str = setting(
        "SENTRY_DSN",
        sentry_dsn(),
        "",
        "error reporting to Sentry (personal data and the token are scrubbed)",
        secret=True,
        example="",
    )
    environment: str = setting(
        "WIF_ENVIRONMENT",
        label(64, "/", "a Sentry environment name"),
        "development",
        "the environment of Sentry events",
        example="production",
    )
    release: str = setting(
        "SENTRY_RELEASE",
        label(200, "/\\", "a Sentry release name"),
        "",
        "release tag of Sentry events; empty: the package version",
    )


@dataclass(frozen=True)
class Settings:
    database_url: str = setting(
        "DATABASE_URL",
        database_url(),
        DEFAULT_DATABASE_URL,
        "PostgreSQL: `postgresql+psycopg://user@host/db`; a SQLite file goes in an existing folder (only the "
        "default's `var/` is created)",
        secret=True,
        example=DEFAULT_DATABASE_URL,
    )
    ds: DSSettings = DSSettings()
    sync: SyncSettings = SyncSettings()
    push: PushSettings = PushSettings()
    mail: MailSettings = MailSettings()
    notify: NotifySettings = NotifySettings()
    schedule: ScheduleSettings = ScheduleSettings()
    validity: ValiditySettings = ValiditySettings()
    pages: PagesSettings = PagesSettings()
    webhooks: WebhookSettings = WebhookSettings()
    observability: ObservabilitySettings = ObservabilitySettings()

    @property
    def uses_sandbox(self) -> bool:
        return not self.ds.api_url

    @property
    def uses_default_database(self) -> bool:
        """DATABASE_URL is the default's SQLite file, however written (an image may spell out its absolute path)."""
        return self.database_url == DEFAULT_DATABASE_URL or _sqlite_file(self.database_url) == _sqlite_file(
            DEFAULT_DATABASE_URL
        )

    def secrets(self) -> tuple[str, ...]:
        """Values that must never leave the process (for log and Sentry scrubbing)."""
        values = (
            self.ds.api_token,
            self.observability.sentry_dsn,
            self.mail.smtp_url,
            self.validity.pepper.decode(),
            self.webhooks.legacy_secret,
            *self.webhooks.secrets,
        )
        return tuple(value for value in values if value)

    def safe_dict(self) -> dict:
        """Settings without secrets, for `wif status` and logs."""
        out: dict = {"database_url": _without_password(self.database_url)}
        for section in _sections():
            values = getattr(self, section.name)
            out[section.name] = {
                f.name: (("***" if getattr(values, f.name) else "") if not f.repr else _plain(getattr(values, f.name)))
                for f in fields(values)
            }
        return out


def _sections():
    return [f for f in fields(Settings) if "setting" not in f.metadata]


def declared_settings() -> list[tuple[str, Setting]]:
    """(section, declaration) of every setting, in the order of the classes: the README and
    `.env.example` list them so; the section of `DATABASE_URL` is ""."""
    out = [("", f.metadata["setting"]) for f in fields(Settings) if "setting" in f.metadata]
    for section in _sections():
        out.extend((section.name, f.metadata["setting"]) for f in fields(type(section.default)))
    return out


def _sqlite_file(database_url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:") or url.query.get("uri"):
        return None
    return Path(name).resolve()


def _plain(value):
    return str(value) if isinstance(value, Path) else dict(value) if isinstance(value, Mapping) else value


def _without_password(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# --- what one value cannot tell: the filesystem and settings read together ------------


def _unusable_folder(folder: Path, levels_to_create: int) -> str | None:
    """Why files cannot go in `folder`, or None: it is a writable folder, or can be made by creating
    at most `levels_to_create` folders inside an existing writable one. Creates nothing."""
    existing, missing = folder, 0
    while not existing.exists() and existing != existing.parent:
        existing, missing = existing.parent, missing + 1
    if missing > levels_to_create:
        return f"the folder {folder if levels_to_create == 0 else folder.parents[levels_to_create - 1]} does not exist"
    if not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        return f"{existing} is not a writable folder"
    return None


def _check_database_place(settings: Settings) -> None:
    path = _sqlite_file(settings.database_url)
    if path is None:
        return
    default = settings.uses_default_database
    problem = (
        f"{path} is a folder"
        if path.is_dir()
        else _unusable_folder(path.parent, levels_to_create=len(path.parts) if default else 0)
    )
    if problem:
        raise ConfigError(
            f"DATABASE_URL: {problem}; expected a SQLite file in an existing, writable folder (nothing was created)"
        )


def _check_outbox(settings: Settings) -> None:
    folder = settings.mail.outbox_dir
    default = folder == MailSettings.outbox_dir
    problem = (
        f"{folder} is a file"
        if folder.is_file()
        else _unusable_folder(folder, levels_to_create=len(folder.parts) if default else 1)
    )
    if problem:
        raise ConfigError(
            f"WIF_OUTBOX_DIR: {problem}; expected a writable folder, or a new one inside an existing "
            "writable folder (nothing was created)"
        )


def _check_token(settings: Settings) -> None:
    if settings.ds.api_url and not settings.ds.api_token:
        raise ConfigError(
            "DS_API_TOKEN: empty while DS_API_URL is set; expected the API token of the démarche's "
            "administrateur (or unset DS_API_URL for the embedded sandbox)"
        )


def _check_dsfr_dir(settings: Settings) -> None:
    # Only a folder the deployment names: without one, only `wif stats` and `wif serve` need the checkout's.
    folder = settings.pages.dsfr_dir
    if folder is not None:
        from core.web.dsfr import STYLESHEET

        if not (folder / STYLESHEET).is_file():
            raise ConfigError(
                f"WIF_DSFR_DIR: {folder} holds no {STYLESHEET}; expected the dist folder of the "
                "DSFR (node_modules/@gouvfr/dsfr/dist after `npm ci`)"
            )


CHECKS = (_check_token, _check_database_place, _check_outbox, _check_dsfr_dir)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Every setting from the environment, validated; the first problem is a `ConfigError`.
    Reads the filesystem (may the database and outbox go where they are asked to?), writes nothing."""
    environ = os.environ if environ is None else environ
    top: dict[str, Any] = {}
    for section in fields(Settings):
        if "setting" in section.metadata:
            top[section.name] = section.metadata["setting"].read(environ)
        else:
            default = section.default  # a section: an instance of its own dataclass of settings
            if not is_dataclass(default) or isinstance(default, type):
                raise TypeError(f"Settings.{section.name} has no setting and no section of settings as default")
            values = {f.name: f.metadata["setting"].read(environ) for f in fields(default)}
            top[section.name] = replace(default, **values)
    settings = Settings(**top)
    for check in CHECKS:
        check(settings)
    return settings
