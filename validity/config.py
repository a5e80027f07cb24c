"""Settings of the public validity check, read from the environment.

Kept apart from `core.settings.Settings` because only `wif serve` and the
validity derivation need them, and the pepper is a secret of its own.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from core.settings import ConfigError

PEPPER_VARIABLE = "WIF_VALIDITY_PEPPER"
# A shorter secret could be guessed together with the date, which defeats
# the point of keying the hash.
MIN_PEPPER_LENGTH = 32
DEFAULT_KEEP_DAYS = 90


class PepperMissing(ConfigError):
    """No usable pepper: the birth-date hashes cannot be computed safely."""


def load_pepper(environ: Mapping[str, str] = os.environ) -> bytes:
    raw = environ.get(PEPPER_VARIABLE, "").strip()
    if not raw:
        raise PepperMissing(
            f"{PEPPER_VARIABLE} is not set: the validity check refuses to run without its secret pepper "
            f"(generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    if len(raw) < MIN_PEPPER_LENGTH:
        raise PepperMissing(f"{PEPPER_VARIABLE} must be at least {MIN_PEPPER_LENGTH} characters long")
    return raw.encode()


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class ValiditySettings:
    pepper: bytes = field(repr=False)
    # Token bucket per client IP: `burst` lookups at once, refilled at
    # `lookups_per_minute`.
    lookups_per_minute: int = 10
    burst: int = 5
    # Number of reverse proxies in front of the app whose X-Forwarded-*
    # headers are trusted (0: use the socket address, headers ignored).
    trusted_proxies: int = 0
    # Send HSTS even when the request does not look secure (TLS ended by a
    # proxy that does not forward X-Forwarded-Proto).
    force_hsts: bool = False
    keep_days: int = DEFAULT_KEEP_DAYS


def load_validity_settings(environ: Mapping[str, str] = os.environ) -> ValiditySettings:
    """Read the WIF_VALIDITY_* variables; raises ConfigError with the variable's name."""
    return ValiditySettings(
        pepper=load_pepper(environ),
        lookups_per_minute=_int(environ, "WIF_VALIDITY_LOOKUPS_PER_MINUTE", 10, minimum=1),
        burst=_int(environ, "WIF_VALIDITY_BURST", 5, minimum=1),
        trusted_proxies=_int(environ, "WIF_VALIDITY_TRUSTED_PROXIES", 0, minimum=0),
        force_hsts=_bool(environ, "WIF_VALIDITY_FORCE_HSTS", False),
        keep_days=_int(environ, "WIF_VALIDITY_KEEP_DAYS", DEFAULT_KEEP_DAYS, minimum=0),
    )
