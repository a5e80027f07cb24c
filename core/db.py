"""Engine, sessions and schema migrations."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:///:memory:"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, future=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets `wif status` read while a sync writes; foreign keys are
            # off by default in SQLite and the cascades rely on them.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL stays consistent after a crash and only a power
            # loss can drop the last commits; FULL costs an fsync per commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()
    return engine


def alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


class UnversionedDatabase(RuntimeError):
    """Tables of ours holding rows, but no migration version: nothing is touched."""

    def __init__(self, tables: list[str]):
        self.tables = tables
        super().__init__(
            f"the database of DATABASE_URL holds rows in {', '.join(sorted(tables)[:5])}"
            f"{' …' if len(tables) > 5 else ''} but no migration version (table alembic_version): it was not "
            "created by wif, or its version row was lost. Nothing was changed. Point DATABASE_URL at another "
            "database, or restore the version row (`alembic stamp <revision>`) if you know which one it is at.")


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the latest migration."""
    import logging

    # Alembic logs every plugin it loads at INFO: noise in each command's output.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session
