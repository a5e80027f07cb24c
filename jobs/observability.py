"""Error reporting with Sentry: initialisation, scrubbing, cron check-ins.

Nothing is sent unless SENTRY_DSN is set. Every event goes through
`scrub_event`, which removes e-mail addresses, personal values (by key),
the DS token and Authorization headers wherever they appear.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import TYPE_CHECKING, Any

import sentry_sdk
from sentry_sdk.crons import capture_checkin
from sentry_sdk.crons.consts import MonitorStatus

from core.settings import Settings

if TYPE_CHECKING:
    from sentry_sdk._types import MonitorConfig

log = logging.getLogger(__name__)

FILTERED = "[Filtered]"
PROJECT_DISTRIBUTION = "work-in-france-connector"

# Keys whose values are personal data or secrets, compared lowercased and without "-" or "_".
PERSONAL_KEYS = frozenset(
    key.replace("_", "")
    for key in (
        "email",
        "usager_email",
        "employer_email",
        "sender_email",
        "address",
        "to",
        "from",
        "cc",
        "bcc",
        "first_name",
        "last_name",
        "firstname",
        "lastname",
        "full_name",
        "name_student",
        "student_name",
        "prenom",
        "nom",
        "nom_naissance",
        "civilite",
        "representative_first_name",
        "representative_last_name",
        "prenom_mandataire",
        "nom_mandataire",
        "birth_date",
        "date_naissance",
        "date_de_naissance",
        "birth_place",
        "lieu_naissance",
        "phone",
        "telephone",
        "address_label",
        "adresse",
        "permit_number",
        "titre_numero",
        "body",
        "ip_address",
        "username",
        "user",
    )
)
SECRET_KEY_PARTS = ("token", "password", "passwd", "secret", "authorization", "cookie", "dsn", "apikey", "smtpurl")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
BEARER = re.compile(r"(?i)\b(bearer|token)(\s+|=|:\s*)[^\s,;\"']+")
URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")


def _normalise(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _is_sensitive_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    normal = _normalise(key)
    return normal in PERSONAL_KEYS or any(part in normal for part in SECRET_KEY_PARTS)


def scrub_text(value: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        if secret:
            value = value.replace(secret, FILTERED)
    value = URL_CREDENTIALS.sub(rf"\1{FILTERED}@", value)
    value = BEARER.sub(rf"\1\2{FILTERED}", value)
    return EMAIL.sub("[email]", value)


def scrub(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """Recursively scrub dicts, lists, tuples and strings; other values pass."""
    if isinstance(value, dict):
        return {
            key: (FILTERED if _is_sensitive_key(key) and item not in (None, "", [], {}) else scrub(item, secrets))
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        # Headers come as [name, value] pairs in some integrations.
        if len(value) == 2 and _is_sensitive_key(value[0]) and isinstance(value[1], str):
            return [value[0], FILTERED]
        return [scrub(item, secrets) for item in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


def make_before_send(secrets: tuple[str, ...]):
    def before_send(event, _hint):
        event = scrub(event, secrets)
        event.pop("user", None)
        return event

    return before_send


def release_name(explicit: str = "") -> str:
    if explicit:
        return explicit
    try:
        return f"{PROJECT_DISTRIBUTION}@{metadata.version(PROJECT_DISTRIBUTION)}"
    except metadata.PackageNotFoundError:
        return f"{PROJECT_DISTRIBUTION}@unknown"


def init_sentry(settings: Settings, *, transport=None) -> bool:
    """Initialise Sentry when SENTRY_DSN is set; returns whether it is on."""
    if not settings.observability.sentry_dsn:
        return False
    before_send = make_before_send(settings.secrets())
    with warnings.catch_warnings():
        # Recent SDKs deprecate send_default_pii for `data_collection`; False is still honoured and is the
        # explicit guarantee we want on every 2.x version.
        warnings.filterwarnings(
            "ignore", message="The send_default_pii option is deprecated", category=DeprecationWarning
        )
        _init(settings, before_send, transport)
    return True


def _init(settings: Settings, before_send, transport) -> None:
    sentry_sdk.init(
        dsn=settings.observability.sentry_dsn,
        release=release_name(settings.observability.release),
        environment=settings.observability.environment,
        send_default_pii=False,
        # Local variables would carry records with names and addresses.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_send_transaction=before_send,
        transport=transport,
    )


def sentry_enabled() -> bool:
    return sentry_sdk.get_client().is_active()


@contextmanager
def job_scope(job: str) -> Iterator[None]:
    """Tag everything reported while the job runs (its log records included) with the job name."""
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("job", job)
        yield


def capture_job_failure(job: str, error: BaseException) -> None:
    # The logging integration may already have sent it: the SDK deduplicates the same exception.
    if sentry_enabled():
        with job_scope(job):
            sentry_sdk.capture_exception(error)


@contextmanager
def cron_checkin(job: str, monitor_config: MonitorConfig | None = None) -> Iterator[None]:
    """Report a scheduled run to Sentry cron monitoring: in progress, then ok or error."""
    if not sentry_enabled():
        yield
        return
    slug = f"wif-{job}"
    checkin_id = capture_checkin(monitor_slug=slug, status=MonitorStatus.IN_PROGRESS, monitor_config=monitor_config)
    try:
        yield
    except BaseException:
        capture_checkin(monitor_slug=slug, check_in_id=checkin_id, status=MonitorStatus.ERROR)
        raise
    capture_checkin(monitor_slug=slug, check_in_id=checkin_id, status=MonitorStatus.OK)
