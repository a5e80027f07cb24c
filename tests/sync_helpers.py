"""Binding and syncing the sandbox the way a deployment does, and comparing
the local copy with the sandbox, for the sync and push tests."""

from __future__ import annotations

import copy
import json
import threading
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, select, text

from connector import revision as ds_revision
from connector.sync import Syncer
from core import models
from jobs.binding import bind_demarche, load_binding, read_descriptors
from jobs.student_files import student_file_refresher
from mappings.binding import Binding, bind
from mappings.pipeline import Evaluator
from mappings.procedure import default_procedure
from sandbox.store import Store

FIXTURES = Path(__file__).parent / "fixtures"


def bind_sandbox(client, sessions, demarche_number: int = 1) -> Binding:
    """`wif procedure bind --yes` on a sandbox démarche (over HTTP, stored in the database)."""
    result = bind_demarche(client, sessions, demarche_number, overrides={}, store=True)
    assert not result.blocking, [p.line() for p in result.blocking]
    return result.binding()


def sandbox_binding(client, demarche_number: int = 1) -> Binding:
    """The binding `wif procedure bind` makes of a sandbox démarche, read over HTTP; nothing stored."""
    _, revision_id, found = read_descriptors(client, demarche_number)
    result = bind(default_procedure(), demarche_number, revision_id, found)
    assert not result.blocking, [p.line() for p in result.blocking]
    return result.binding()


def stored_binding(sessions, demarche_number: int = 1) -> Binding:
    with sessions() as session:
        binding = load_binding(session, demarche_number)
    assert binding is not None, f"démarche {demarche_number} is not bound: sync it with make_syncer first"
    return binding


@cache
def recorded_binding() -> Binding:
    """The binding of the démarche the recorded dossier fixtures come from
    (fixtures/demarche_descriptor.json), made by the same rules as `wif procedure bind`."""
    demarche = json.loads((FIXTURES / "demarche_descriptor.json").read_text())
    published = ds_revision.published_revision(demarche)
    result = bind(
        default_procedure(), demarche["number"], published["id"], ds_revision.descriptors(published, demarche["labels"])
    )
    # A démarche may predate an optional champ the definition gained since: only what blocks a bind fails here.
    assert not result.blocking, [p.line() for p in result.blocking]
    return result.binding()


def evaluator(binding: Binding | None = None, routing_key: str = "permit") -> Evaluator:
    return Evaluator.default(binding or recorded_binding(), routing_key)


def make_syncer(client, sessions, demarche_number: int = 1, **kwargs) -> Syncer:
    """A syncer of one sandbox démarche, bound first as a deployment binds it, the students' files kept after
    each page as a deployment keeps them (unless `after_page` says otherwise)."""
    kwargs.setdefault("page_size", 100)
    binding = bind_sandbox(client, sessions, demarche_number)
    domain = evaluator(binding)
    kwargs.setdefault("evaluate", domain.rows)
    kwargs.setdefault("after_page", student_file_refresher(domain.rules))
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
                writing.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                        f" coalesce(max({column.name}), 0) + 1, false) FROM {table.name}"
                    )
                )


def quarantine_rows(sessions, demarche_number: int = 1) -> dict:
    """The démarche's quarantined dossiers, by number (detached rows)."""
    from connector import store

    with sessions() as session:
        rows = store.quarantined(session, demarche_number)
        session.expunge_all()
    return {row.dossier_number: row for row in rows}
