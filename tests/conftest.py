"""Shared fixtures.

The database is SQLite by default; set TEST_DATABASE_URL to a PostgreSQL URL
to run the same tests there (`.ci/run` does both).
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

from connector.db import import_all_tables, make_engine, session_factory

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture
def database_url(tmp_path):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    # One PostgreSQL schema per test keeps tests independent, even in parallel.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    import_all_tables().create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)
