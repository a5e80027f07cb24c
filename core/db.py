"""Engine, sessions and schema migrations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from sqlalchemy import CursorResult, Engine, UpdateBase, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import DatabaseUnavailable, ExitCode, WifError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:///:memory:"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # libpq waits for ever on a server that drops packets: give up after 10 s with one line (exit 2).
    connect_args = {"connect_timeout": 10} if database_url.startswith("postgresql") else {}
    engine = create_engine(database_url, future=True, connect_args=connect_args)
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


class UnversionedDatabase(WifError):
    """Tables of ours holding rows, but no migration version: nothing is touched."""

    exit_code = ExitCode.CONFIG

    def __init__(self, tables: list[str]):
        self.tables = tables
        super().__init__(
            f"the database of DATABASE_URL holds rows in {', '.join(sorted(tables)[:5])}"
            f"{' …' if len(tables) > 5 else ''} but no migration version (table alembic_version): it was not "
            "created by wif, or its version row was lost. Nothing was changed. Point DATABASE_URL at another "
            "database, or restore the version row (`alembic stamp <revision>`) if you know which one it is at."
        )


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the latest migration."""
    import logging

    # Alembic logs every plugin it loads at INFO: noise in each command's output.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


class Database:
    """The process's one engine on DATABASE_URL, opened and migrated once, on first use.

    Alembic keeps its migration context in module globals: two threads
    migrating at once break each other (`KeyError: 'config'`). So a command
    opens its database in the main thread before any job thread starts
    (`wif schedule` does it first of all), and every job uses this one.
    """

    def __init__(self, url: str):
        self.url = url
        self._opened: tuple[Engine, sessionmaker[Session]] | None = None
        self._lock = threading.Lock()

    def open(self) -> Database:
        self._open()
        return self

    def _open(self) -> tuple[Engine, sessionmaker[Session]]:
        with self._lock:
            if self._opened is None:
                engine = make_engine(self.url)
                try:
                    upgrade(engine)
                except OperationalError as error:
                    engine.dispose()
                    raise DatabaseUnavailable(
                        f"the database of DATABASE_URL ({engine.url.render_as_string(hide_password=True)}) "
                        f"did not answer: {_first_line(error.orig)}"
                    ) from None
                self._opened = engine, session_factory(engine)
            return self._opened

    @property
    def engine(self) -> Engine:
        return self._open()[0]

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._open()[1]

    def dispose(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened[0].dispose()
                self._opened = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc) -> None:
        self.dispose()


def _first_line(error) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rows_changed(session: Session, statement: UpdateBase) -> int:
    """How many rows an UPDATE or DELETE matched. Its result is a CursorResult, which has the count;
    Session.execute is typed for any statement."""
    return cast(CursorResult, session.execute(statement)).rowcount


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session
