"""Shared fixtures.

The database is SQLite by default; set TEST_DATABASE_URL to a PostgreSQL URL
to run the same tests there (`.ci/run` does both).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core.db import make_engine, session_factory
from core.models import Base

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

# The Playwright browser fixtures (`browser`, `open_page`), one browser per session.
pytest_plugins = ["tests.browser"]


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """URL of an empty database: a SQLite file in `directory`, or a PostgreSQL schema of its own."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{directory / 'test.db'}"
        return
    # One PostgreSQL schema per test (or module) keeps tests independent, even in parallel.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path):
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory):
    """Like `database_url`, but one database for all the tests of a module."""
    with fresh_database(tmp_path_factory.mktemp("module-db")) as url:
        yield url


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def make_sandbox():
    """Start DS sandboxes over real HTTP; each is stopped after the test.

    The démarche has the groupes of the routing table, like the embedded one.
    """
    from jobs.runtime import sandbox_store
    from sandbox.server import start_server

    servers = []

    def make(dossiers: int = 200, seed: int = 7, rate_limit: int = 1_000_000, window_seconds: float = 60, **store):
        """`store`: `ids_seed` (other stable ids for the same dossiers) or `form` (another form)."""
        server = start_server(
            sandbox_store(dossiers, seed, **store), rate_limit=rate_limit, window_seconds=window_seconds
        )
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def store(request):
    """A sandbox store, fresh for each test, seeded with the test module's `SANDBOX` (seeded_store's arguments)."""
    from sandbox.generator import seeded_store

    return seeded_store(**getattr(request.module, "SANDBOX", {}))


@pytest.fixture
def server(store, request):
    """The sandbox over HTTP on the test's `store`, with the test module's `SANDBOX_SERVER` (start_server's options)."""
    from sandbox.server import start_server

    with start_server(store, **getattr(request.module, "SANDBOX_SERVER", {})) as running:
        yield running


@pytest.fixture
def ds_client_for():
    """A DS client on a sandbox, with fast backoff so retries do not slow the tests."""
    from connector.client import DSClient
    from connector.ratelimit import RequestBudget

    clients = []

    def make(server, token: str | None = None, budget: RequestBudget | None = None, **kwargs):
        kwargs.setdefault("backoff_base", 0.01)
        kwargs.setdefault("timeout", 10)
        client = DSClient(server.url, token or server.token, budget=budget or RequestBudget(1_000_000, 60), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def smtp_server():
    """A real SMTP server on localhost: (recording handler, SMTP_URL)."""
    from tests.smtp_helpers import start_smtp_server

    handler, controller, url = start_smtp_server()
    yield handler, url
    controller.stop()


@pytest.fixture
def env_for(monkeypatch, database_url):
    """Point `wif` (jobs.cli.main) at a sandbox server and the test database, as a deployment's environment does."""

    def set_env(server, **overrides):
        values = {
            "DS_API_URL": server.url,
            "DS_API_TOKEN": server.token,
            "DS_DEMARCHE_NUMBER": "1",
            "DS_INSTRUCTEUR_ID": "SW5zdHJ1Y3RldXItMQ==",
            "DATABASE_URL": database_url,
            "DS_MAX_RETRIES": "1",
        }
        values.update(overrides)
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


class FakeTime:
    """The tests' one fake clock, on time-machine: `time.time()` and `datetime.now()` (in every module, `schedule`
    included) stand still until `advance`; `sleep` advances them instead of waiting, and keeps what it was asked.
    Starts at 2026-03-01 00:00 UTC, a 1st (the monthly report's day), with the host's zone set to UTC."""

    START = datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC"))

    def __init__(self, traveller):
        self.traveller = traveller
        self.sleeps: list[float] = []
        traveller.move_to(self.START, tick=False)

    def time(self) -> float:
        return time.time()

    def utc(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.traveller.shift(seconds)

    def advance(self, **delta: float) -> None:
        self.traveller.shift(timedelta(**delta))


@pytest.fixture
def clock(time_machine) -> FakeTime:
    return FakeTime(time_machine)
