"""Comparing the local copy with the sandbox, for the sync and push tests."""
from __future__ import annotations

import copy
import threading

from sqlalchemy import Engine, select, text

from core import models
from connector.sync import Syncer
from mappings.pipeline import Evaluator
from sandbox.store import Store

_EVALUATOR = None


def evaluator() -> Evaluator:
    global _EVALUATOR
    if _EVALUATOR is None:
        _EVALUATOR = Evaluator.default()
    return _EVALUATOR


def make_syncer(client, sessions, **kwargs) -> Syncer:
    kwargs.setdefault("page_size", 100)
    kwargs.setdefault("evaluate", evaluator().rows)
    return Syncer(client=client, sessions=sessions, **kwargs)


def local_snapshot(sessions, demarche_number: int = 1) -> dict[int, tuple]:
    with sessions() as session:
        rows = session.execute(
            select(models.Dossier.number, models.Dossier.state, models.Dossier.date_derniere_modification).where(
                models.Dossier.demarche_number == demarche_number,
                models.Dossier.hidden_at.is_(None),
                models.Dossier.deleted_at.is_(None),
            )
        ).all()
    return {number: (state, modified) for number, state, modified in rows}


def sandbox_snapshot(store, demarche_number: int = 1) -> dict[int, tuple]:
    return {d.number: (d.state, d.updated_at) for d in store.visible_dossiers(demarche_number)}


def requests_by_operation(server, since: int = 0) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in server.request_log[since:]:
        counts[entry.operation_name] = counts.get(entry.operation_name, 0) + 1
    return counts


def copy_store(store: Store) -> Store:
    """An independent copy of a sandbox store: what a new seed would give, without seeding again."""
    return copy.deepcopy(store, {id(store.lock): threading.RLock()})


def copy_database(source: Engine, target: Engine) -> None:
    """Copy every row of `source` into the empty tables of `target` (SQLite or PostgreSQL)."""
    with source.connect() as reading, target.begin() as writing:
        for table in models.Base.metadata.sorted_tables:
            rows = [row._asdict() for row in reading.execute(table.select())]
            if rows:
                writing.execute(table.insert(), rows)
            column = table.autoincrement_column
            if writing.dialect.name == "postgresql" and column is not None:
                # The copied ids do not move the sequence: the next insert must not reuse one.
                writing.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                    f" coalesce(max({column.name}), 0) + 1, false) FROM {table.name}"
                ))
