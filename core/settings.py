"""Settings, read once from the environment.

The same binary runs against the embedded sandbox or the real DS: only
these variables change. `.env.example` documents each of them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

SANDBOX_TOKEN = "sandbox-token"
DEFAULT_DATABASE_URL = "sqlite:///var/wif.db"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _demarches(raw: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError(f"DS_DEMARCHE_NUMBER must be one or more numbers separated by commas, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    ds_api_url: str = ""  # empty: start the embedded sandbox
    ds_api_token: str = field(default="", repr=False)
    demarche_numbers: tuple[int, ...] = (1,)
    instructeur_id: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    requests_per_minute: int = 400
    page_size: int = 50
    http_timeout: float = 60.0
    max_retries: int = 6
    rescan_every_hours: int = 6
    rescan_overlap_minutes: int = 15
    push_enabled: bool = True
    # Which département routes a dossier: the residence permit's (what Work in
    # France used) or the employer's établissement (2021 texts).
    routing_key: str = "permit"
    pass_to_instruction: bool = False
    disable_notification: bool = False
    sentry_dsn: str = field(default="", repr=False)
    environment: str = "development"

    @property
    def uses_sandbox(self) -> bool:
        return not self.ds_api_url

    def safe_dict(self) -> dict:
        """Settings without secrets, for `wif status` and logs."""
        hidden = {"ds_api_token", "sentry_dsn"}
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = ("***" if value else "") if f.name in hidden else value
        if "://" in str(out["database_url"]) and "@" in str(out["database_url"]):
            scheme, rest = str(out["database_url"]).split("://", 1)
            out["database_url"] = f"{scheme}://***@{rest.split('@', 1)[1]}"
        return out


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name) or default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def load_settings() -> Settings:
    env = os.environ
    return Settings(
        ds_api_url=env.get("DS_API_URL", "").strip(),
        ds_api_token=env.get("DS_API_TOKEN", "").strip(),
        demarche_numbers=_demarches(env.get("DS_DEMARCHE_NUMBER", "1")),
        instructeur_id=env.get("DS_INSTRUCTEUR_ID", "").strip(),
        database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL).strip(),
        requests_per_minute=_int("DS_REQUESTS_PER_MINUTE", 400),
        page_size=_int("DS_PAGE_SIZE", 50),
        http_timeout=float(_int("DS_HTTP_TIMEOUT_SECONDS", 60)),
        max_retries=_int("DS_MAX_RETRIES", 6),
        rescan_every_hours=_int("WIF_RESCAN_EVERY_HOURS", 6),
        rescan_overlap_minutes=_int("WIF_RESCAN_OVERLAP_MINUTES", 15),
        push_enabled=_bool("WIF_PUSH_ENABLED", True),
        routing_key=_choice("WIF_ROUTING_KEY", "permit", ("permit", "employer")),
        pass_to_instruction=_bool("WIF_PASS_TO_INSTRUCTION", False),
        disable_notification=_bool("WIF_DISABLE_NOTIFICATION", False),
        sentry_dsn=env.get("SENTRY_DSN", "").strip(),
        environment=env.get("WIF_ENVIRONMENT", "development"),
    )
