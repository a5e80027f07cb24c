"""A wrong DS_INSTRUCTEUR_ID: an instructeur of no groupe of the démarche (unknown to DS, or never added).
No annotation or message could ever be written, so push stops before sending anything, with one line and
exit 7, instead of a sync that exits 0 while agents never see the connector's results."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import models
from core.db import make_engine, session_factory
from jobs.cli import main
from sandbox.ids import gid
from tests.push_helpers import differences_on_ds

PUSH_STOPPED = 7


@pytest.fixture
def bound(make_sandbox, env_for, capsys):
    """A sandbox of 40 dossiers, bound; the environment points wif at it."""
    server = make_sandbox(dossiers=40, seed=4)
    env_for(server)
    assert main(["procedure", "bind", "--yes"]) == 0
    capsys.readouterr()
    return server


def outbox_rows(database_url) -> int:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(models.PushOutbox))
    finally:
        engine.dispose()


def the_one_line(err: str, verb: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    assert lines[0].startswith(f"wif {verb}: ")
    assert "DS_INSTRUCTEUR_ID" in lines[0] and "wif procedure apply" in lines[0] and "nothing sent" in lines[0]
    return lines[0]


def test_an_id_unknown_to_ds_stops_the_sync_s_push_loudly_and_sends_nothing(bound, env_for, database_url, capsys):
    env_for(bound, DS_INSTRUCTEUR_ID=gid("Instructeur", 999_999))
    assert main(["sync"]) == PUSH_STOPPED
    the_one_line(capsys.readouterr().err, "sync")
    assert bound.store.mutation_log == []  # no groupe, no label either: no dossier half-written
    assert outbox_rows(database_url) == 0
    assert main(["push", "--dry-run"]) == PUSH_STOPPED  # the plan would be wrong too
    the_one_line(capsys.readouterr().err, "push")


def test_an_instructeur_of_no_groupe_stops_the_push_until_procedure_apply_adds_it(bound, database_url, capsys):
    connector = bound.store.instructeurs[1]  # DS_INSTRUCTEUR_ID of env_for
    groupes = [g for g in bound.store.demarches[1].groupes]
    for groupe in groupes:
        bound.store.remove_instructeur(groupe.number, connector.number)
    assert main(["sync", "--no-push"]) == 0
    capsys.readouterr()
    assert main(["push"]) == PUSH_STOPPED
    the_one_line(capsys.readouterr().err, "push")
    assert bound.store.mutation_log == []

    assert main(["procedure", "apply", "--yes"]) == 0  # makes it a member of every groupe again
    assert all(g.has_instructeur(connector.number) for g in groupes)
    before = len(bound.store.mutation_log)
    assert main(["push"]) == 0
    assert len(bound.store.mutation_log) > before
    engine = make_engine(database_url)
    try:
        assert differences_on_ds(bound.store, session_factory(engine)) == {}
    finally:
        engine.dispose()
