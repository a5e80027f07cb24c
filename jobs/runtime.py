"""Builds the objects a command needs from the settings: the database, the
DS client and, when no DS_API_URL is set, the embedded sandbox."""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from connector.client import DSClient
from connector.ratelimit import SYNC, RequestBudget
from core.errors import HostRefused
from core.settings import DEFAULT_DATABASE_URL, ConfigError, Settings

log = logging.getLogger(__name__)

EMBEDDED_SANDBOX_DOSSIERS = 300
EMBEDDED_SANDBOX_SEED = 1


@contextlib.contextmanager
def ds_endpoint(
    settings: Settings, dossiers: int = EMBEDDED_SANDBOX_DOSSIERS, seed: int = EMBEDDED_SANDBOX_SEED
) -> Iterator[Settings]:
    """The settings to reach DS: as given, or pointing to a fresh embedded sandbox."""
    if not settings.uses_sandbox:
        yield settings
        return
    refuse_foreign_database(settings, seed)
    from sandbox.embedded import EMBEDDED_RATE_LIMIT, embedded_sandbox

    with embedded_sandbox(dossiers=dossiers, seed=seed, groupes=routing_groupes()) as server:
        log.info("no DS_API_URL: using the embedded DS sandbox (%d synthetic dossiers) at %s", dossiers, server.url)
        yield dataclasses.replace(
            settings,
            ds=dataclasses.replace(
                settings.ds,
                api_url=server.url,
                api_token=server.token,
                instructeur_id=settings.ds.instructeur_id or server.connector_instructeur_id,
                requests_per_minute=max(settings.ds.requests_per_minute, EMBEDDED_RATE_LIMIT),
            ),
        )


def check_settings(settings: Settings) -> None:
    """The checks core/settings.py cannot run itself, their vocabulary living in mail/, notifications/ and jobs/:
    run when `wif` starts, so a bad value is one configuration error, not a failure of its job hours later."""
    from mail.mailer import parse_smtp_url
    from notifications.messages import parse_message_switches

    try:
        parse_message_switches(settings.notify.templates)
    except ConfigError as error:
        raise ConfigError(f"WIF_NOTIFY_TEMPLATES: {str(error).removeprefix('WIF_NOTIFY_TEMPLATES: ')}") from None
    _check_stats_args(settings.schedule.stats_args)
    try:
        if settings.mail.smtp_url:
            parse_smtp_url(settings.mail.smtp_url)
    except ValueError:  # the value is never repeated: it holds the password
        raise ConfigError(
            "SMTP_URL: the value is not a mail server URL, or its port or timeout is not a number; "
            "expected smtp://user:pass@host:587?starttls=1 or smtps://user:pass@host:465"
        ) from None


class _StatsArguments(argparse.ArgumentParser):
    def error(self, message):
        raise ConfigError(f"WIF_STATS_ARGS: {message}; expected arguments of `wif stats`, such as --out /srv/stats")


def _check_stats_args(arguments: tuple[str, ...]) -> None:
    """The scheduler passes them to `wif stats` daily: an unknown one would fail every run, hours later."""
    from jobs.verbs import stats

    parser = _StatsArguments(prog="wif stats", add_help=False)
    stats.configure(parser)
    parser.parse_args(list(arguments))


def refuse_foreign_database(settings: Settings, seed: int = EMBEDDED_SANDBOX_SEED) -> None:
    """Without DS_API_URL the embedded demo writes synthetic dossiers and its own binding: never into a
    database it did not create (docs/embedded-demo.md). Reads, writes nothing; a `ConfigError` says why."""
    if not settings.uses_sandbox:
        return
    if not settings.uses_default_database and not settings.ds.sandbox_any_database:
        raise ConfigError(
            "DATABASE_URL: without DS_API_URL wif runs the embedded demo, which writes synthetic dossiers into the "
            f"default database ({DEFAULT_DATABASE_URL}) only; unset DATABASE_URL to run the demo, or set DS_API_URL "
            "and DS_API_TOKEN to work on DS"
        )
    from sandbox.form import load_form

    demo_ids = set(load_form(seed).stable_ids().values())
    bound = _bound_champs(settings.database_url)
    foreign = sorted({number for number, stable_id in bound if stable_id not in demo_ids})
    if foreign:
        raise ConfigError(
            f"DATABASE_URL: the database holds the binding of démarche {', '.join(map(str, foreign))}, not the "
            "embedded sandbox's: without DS_API_URL the demo would write synthetic dossiers into it; set DS_API_URL "
            "and DS_API_TOKEN to work on that démarche, or point DATABASE_URL at another database to run the demo"
        )


def _bound_champs(database_url: str) -> list[tuple[int, int]]:
    """(démarche, stable id) of every champ of the stored bindings (labels aside: their ids are not drawn
    from the form), read without creating or migrating anything."""
    from pathlib import Path

    from sqlalchemy import create_engine, inspect, select
    from sqlalchemy.engine import make_url

    from core.models import ChampBinding

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or not Path(url.database).is_file():
            return []
        url = url.set(database=f"file:{Path(url.database).resolve()}", query={"mode": "ro", "uri": "true"})
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(ChampBinding.__tablename__):
                return []
            rows = connection.execute(
                select(ChampBinding.demarche_number, ChampBinding.stable_id, ChampBinding.descriptor_id)
            )
            return [(number, stable_id) for number, stable_id, descriptor in rows if not _is_label(descriptor)]
    finally:
        engine.dispose()


def _is_label(descriptor_id: str) -> bool:
    try:
        return base64.b64decode(descriptor_id + "==").startswith(b"Label-")
    except ValueError:
        return False


def routing_groupes() -> list[tuple[str, tuple[str, ...]]]:
    """The groupes instructeurs `wif procedure apply` would create, as (label, instructeur e-mails)."""
    from mappings.routing import expected_groupes, load_routing_table

    return [(g.label, tuple(g.instructeur_emails)) for g in expected_groupes(load_routing_table())]


def sandbox_store(dossiers: int, seed: int, **kwargs):
    """A sandbox store whose démarche has the routing table's groupes, like the embedded one
    (for `wif sandbox`, the tests and the benchmarks)."""
    from sandbox.embedded import build_store

    return build_store(dossiers, seed, routing_groupes(), **kwargs)


_BUDGETS: dict[tuple[str, str, int], RequestBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def shared_budget(settings: Settings) -> RequestBudget:
    """The one request budget of this process for a token: DS counts per
    token (docs/ds-rate-limit.md), so sync, push and webhook fetches draw from it together."""
    token_key = hashlib.sha256(settings.ds.api_token.encode()).hexdigest()
    key = (settings.ds.api_url, token_key, settings.ds.requests_per_minute)
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = RequestBudget(settings.ds.requests_per_minute, 60.0)
        return _BUDGETS[key]


def make_client(settings: Settings, priority: str = SYNC) -> DSClient:
    """A client on the token's shared budget; `priority` is SYNC or PUSH."""
    return DSClient(
        settings.ds.api_url,
        settings.ds.api_token,
        timeout=settings.ds.http_timeout,
        max_retries=settings.ds.max_retries,
        budget=shared_budget(settings),
        priority=priority,
    )


def writable_directory(path: Path, option: str = "--out") -> Path:
    """`path`, once it is sure the directory can be created and written; nothing is created before that.
    HostRefused (one line, exit 12) otherwise."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    why = None
    if not existing.is_dir():
        why = f"{existing} is not a directory"
    elif not os.access(existing, os.W_OK | os.X_OK):
        why = f"{existing} is not writable"
    if why:
        raise HostRefused(f"cannot write {option} {path}: {why}; nothing was written")
    return path


@contextlib.contextmanager
def writing_into(path: Path, option: str = "--out") -> Iterator[Path]:
    """Write into `path` (checked first); what the host refuses on the way is one line, exit 12, no traceback."""
    writable_directory(path, option)
    try:
        yield path
    except OSError as error:
        raise HostRefused(f"cannot write {option} {path}: {error.strerror or error}") from None
