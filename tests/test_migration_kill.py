"""A kill -9 during the first migration leaves a database every command can open.

The migration runs in a subprocess that pauses after each schema statement and
says so; the test kills it after the k-th statement, then opens the database
as any command does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db import UnversionedDatabase, make_engine, upgrade
from core.models import Base
from tests.conftest import fresh_database

ROOT = Path(__file__).resolve().parent.parent

# Prints one line after each statement that changes the schema or the
# version table, then sleeps, so the parent can kill it right there.
MIGRATE_SLOWLY = textwrap.dedent("""
    import sys, time
    from sqlalchemy import event
    from core.db import make_engine, upgrade

    engine = make_engine(sys.argv[1])

    @event.listens_for(engine, "after_cursor_execute")
    def pause(conn, cursor, statement, *args):
        head = statement.lstrip().upper()
        if head.startswith(("CREATE", "ALTER", "DROP", "INSERT INTO ALEMBIC", "UPDATE ALEMBIC")):
            print("statement", flush=True)
            time.sleep(0.01)

    upgrade(engine)
    print("done", flush=True)
""")


def migrate_and_kill(url: str, after: int | None) -> int:
    """Run the migration; kill -9 it after `after` statements (None: let it end). Statements seen."""
    process = subprocess.Popen([sys.executable, "-c", MIGRATE_SLOWLY, url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seen = 0
    for line in process.stdout:
        if line.strip() == "statement":
            seen += 1
            if seen == after:
                os.kill(process.pid, signal.SIGKILL)
                break
    process.wait(timeout=60)
    process.stdout.close()
    if after is None:
        assert process.returncode == 0
    return seen


def assert_schema_is_whole(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), Base.metadata)
            assert MigrationContext.configure(connection).get_current_heads()
        assert diff == []
        assert "dossiers" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def statements_in_a_full_migration(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("full")) as url:
        return migrate_and_kill(url, None)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.3, 0.6, 0.9, 1.0])
def test_a_kill_during_the_first_migration_leaves_a_usable_database(
    tmp_path, monkeypatch, capsys, statements_in_a_full_migration, fraction
):
    total = statements_in_a_full_migration
    assert total > 20  # tables, indexes and the version row: enough places to be killed at
    after = max(1, round(total * fraction))
    with fresh_database(tmp_path) as url:
        assert migrate_and_kill(url, after) == after
        # Any command opens the database: the schema is whole and at head.
        monkeypatch.setenv("DATABASE_URL", url)
        from jobs.cli import main

        assert main(["status"]) == 0
        assert "Jobs (last run)" in capsys.readouterr().out
        assert_schema_is_whole(url)


def test_the_empty_tables_an_older_release_left_are_replaced(database_url):
    # What a kill during the first start of an older release left: some
    # tables, no version row; only deleting the file by hand recovered it.
    engine = make_engine(database_url)
    tables = [Base.metadata.tables[name] for name in ("dossiers", "students", "job_runs")]
    Base.metadata.create_all(engine, tables=tables)
    engine.dispose()
    assert_schema_is_whole(database_url)


def test_tables_holding_rows_are_never_dropped(database_url):
    from sqlalchemy import text

    engine = make_engine(database_url)
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["job_runs"]])
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO job_runs (job, started_at, outcome) VALUES ('sync', '2026-12-01', 'ok')"))
    with pytest.raises(UnversionedDatabase) as refused:
        upgrade(engine)
    assert refused.value.tables == ["job_runs"]
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM job_runs")) == 1
    engine.dispose()
