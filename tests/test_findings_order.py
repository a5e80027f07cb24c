"""Findings and mapping issues are read back in the order the rules wrote them (issue #15, item 7).

Without an ORDER BY, PostgreSQL returns a dossier's rows in the order they lie on disk, which changes
once a rewritten dossier's rows reuse freed space: the « pièces manquantes » and « anomalies »
annotations were then rewritten on every sync (A → B → A) and planned mutations never dropped to 0.
The tests put the rows on disk in the reverse of their ids, as such reuse can; on SQLite the rowid is
the id, so there the order was already stable.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import models
from core.snapshot import iter_snapshots, snapshot_of
from mappings.procedure import default_procedure
from mappings.target import target_for
from tests.push_helpers import make_pusher
from tests.sync_helpers import make_syncer

PROCEDURE = default_procedure()
MISSING = ("pj_passeport", "pj_inscription", "pj_contrat")


def reverse_on_disk(sessions, *tables) -> None:
    """Rewrite each table's rows, same ids, highest id first: the order a heap may give them back in."""
    with sessions.begin() as session:
        for table in tables:
            rows = [dict(row._mapping) for row in session.execute(select(table).order_by(table.c.id.desc()))]
            session.execute(table.delete())
            for row in rows:  # one at a time, so they land in this order
                session.execute(table.insert(), row)


@pytest.fixture
def synced(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=30, seed=3)
    client = ds_client_for(server)
    syncer = make_syncer(client, sessions)
    syncer.sync(1)
    with sessions() as session:
        # A CDD or CDI: the general documents are asked of it (an interne's own documents stand for them).
        number = session.scalars(
            select(models.Dossier.number)
            .join(models.Contract)
            .where(models.Dossier.state == "en_construction", models.Contract.contract_type.in_(("cdd", "cdi")))
            .order_by(models.Dossier.number)
        ).first()
    # Several missing documents and several anomalies: lists whose order shows.
    server.store.modify(number, **{key: () for key in MISSING}, telephone_etudiant="0" * 100, nom="Exemple\x00Dupont")
    syncer.sync(1)
    return server, client, syncer, number


def test_a_dossiers_findings_and_issues_come_back_in_the_order_they_were_written(synced, sessions):
    _, _, _, number = synced
    with sessions() as session:
        dossier = session.get(models.Dossier, number)
        findings = [(f.code, f.field) for f in sorted(dossier.findings, key=lambda f: f.id)]
        issues = [(i.field, i.code) for i in sorted(dossier.mapping_issues, key=lambda i: i.id)]
    assert [field for code, field in findings if code == "missing_document"] == list(MISSING)
    assert len(issues) >= 2

    reverse_on_disk(sessions, models.Finding.__table__, models.MappingIssue.__table__)

    with sessions() as session:
        dossier = session.get(models.Dossier, number)
        assert [(f.code, f.field) for f in dossier.findings] == findings
        assert [(i.field, i.code) for i in dossier.mapping_issues] == issues
        [snapshot] = list(iter_snapshots(session, [number]))
        assert [(f.code, f.field) for f in snapshot.findings] == findings


def test_two_syncs_with_nothing_new_on_ds_leave_the_second_push_nothing_to_do(synced, sessions):
    server, client, syncer, number = synced
    first = make_pusher(client, sessions).push(1)
    assert first.failed == 0 and first.planned > 0
    syncer.sync(1)  # reads back what the push wrote
    with sessions() as session:
        annotation = target_for(snapshot_of(session.get(models.Dossier, number))).annotations["wif_pieces_manquantes"]
    assert annotation.count("\n") == len(MISSING) - 1

    reverse_on_disk(sessions, models.Finding.__table__, models.MappingIssue.__table__)
    before = len(server.store.mutation_log)
    syncer.sync(1)
    second = make_pusher(client, sessions).push(1)

    assert (second.planned, server.store.mutation_log[before:]) == (0, [])
