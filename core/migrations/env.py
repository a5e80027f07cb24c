import contextlib
import logging

from alembic import context
from sqlalchemy import Connection, func, inspect, select, text

from core.db import UnversionedDatabase, make_engine
from core.models import Base

target_metadata = Base.metadata
config = context.config
log = logging.getLogger("core.migrations")


@contextlib.contextmanager
def one_transaction(connection: Connection):
    """All migrations in one transaction: a kill at any point leaves the schema as it was.

    PostgreSQL runs DDL in transactions as is. pysqlite, left to itself,
    commits before every CREATE or ALTER, so a kill during the first start left
    tables without their version row, and every later start failed with
    "table … already exists". Taking the transaction from the driver makes
    SQLite's own transactional DDL work; IMMEDIATE also makes a second process
    starting at the same moment wait, then find the schema at head.
    """
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None  # None only once the connection is invalidated; this one was just opened
    previous = driver.isolation_level
    driver.isolation_level = None
    try:
        with connection.begin():
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield
    finally:
        driver.isolation_level = previous


def drop_leftovers_of_an_interrupted_first_start(connection: Connection) -> None:
    """Empty tables without a version row: what an older release left when killed in its first migration.

    They hold nothing (the migrations write no rows), so they are dropped and
    the migration starts afresh; a table that holds rows is never touched.
    """
    names = set(inspect(connection).get_table_names())
    if "alembic_version" in names and connection.scalar(text("SELECT count(*) FROM alembic_version")):
        return
    leftovers = [table for table in reversed(target_metadata.sorted_tables) if table.name in names]
    if not leftovers:
        return
    holding_rows = [table.name for table in leftovers if connection.scalar(select(func.count()).select_from(table))]
    if holding_rows:
        raise UnversionedDatabase(holding_rows)
    log.warning("dropping %d empty tables left by an interrupted first migration", len(leftovers))
    for table in leftovers:
        table.drop(connection)


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        # Called from the `alembic` command line: take the URL from alembic.ini
        # or DATABASE_URL through the settings.
        from core.settings import load_settings

        engine = make_engine(config.get_main_option("sqlalchemy.url") or load_settings().database_url)
    with engine.connect() as connection, one_transaction(connection):
        drop_leftovers_of_an_interrupted_first_start(connection)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
