"""Malformed values through the real sync (issue #15, items 1, 2 and 7): the sandbox serves dossiers whose
champs hold the values a fault campaign found; every dossier is stored, on SQLite and on PostgreSQL
(`TEST_DATABASE_URL`), none of the malformed ones is « Complet », each has an issue naming its champ, and
their neighbours are stored as before.
"""

from __future__ import annotations

from sqlalchemy import select

from core import models
from sandbox.champs import StoredFile
from tests.sync_helpers import local_snapshot, make_syncer, sandbox_snapshot

HUGE_FILE = (StoredFile("passeport.pdf", "application/pdf", 99999999999999999999999),)

# Procedure key → the value the sandbox stores for that champ (see sandbox.champs for the types).
DEFECTS = [
    ("contrat_type", ""),
    ("prenom", ""),
    ("date_naissance", None),
    ("titre_date_expiration", None),
    ("heures_nombre", -1e308),
    ("heures_nombre", 123456789012.0),
    ("contrat_date_debut", "2026-06-15T25:61:00Z"),
    ("titre_type", "Passeport talent"),
    ("salaire_brut_mensuel", 1e308),  # PostgreSQL: numeric field overflow
    ("emploi_intitule", "Employée polyvalente " * 500),
    ("telephone_etudiant", "0" * 10_000),  # PostgreSQL: value too long for type character varying(40)
    ("nom", "Exemple\x00Dupont"),  # PostgreSQL: text fields cannot contain NUL
    ("prenom", "Am\udce9lie"),  # SQLite: UnicodeEncodeError, surrogates not allowed
    ("pj_passeport", HUGE_FILE),  # SQLite: Python int too large to convert to SQLite INTEGER
]


def test_malformed_values_are_stored_with_an_issue_naming_the_champ_and_never_complete(
    make_sandbox, ds_client_for, sessions
):
    server = make_sandbox(dossiers=80, seed=5)
    syncer = make_syncer(ds_client_for(server), sessions, page_size=20)
    syncer.sync(1)
    with sessions() as session:
        complete = session.scalars(
            select(models.Dossier.number)
            .where(models.Dossier.completeness_status == "complet")
            .order_by(models.Dossier.number)
        ).all()
    assert len(complete) > len(DEFECTS)
    broken = dict(zip(complete, DEFECTS, strict=False))
    for number, (key, value) in broken.items():
        server.store.modify(number, **{key: value})
    # One dossier with the three values that stopped the run on SQLite, all at once.
    everything = complete[len(DEFECTS)]
    server.store.modify(everything, nom="Exemple\x00Dupont", prenom="Am\udce9lie", pj_passeport=HUGE_FILE)

    summary = syncer.sync(1)

    assert summary.updated == len(broken) + 1
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)  # the neighbours too
    with sessions() as session:
        for number, (key, _) in broken.items():
            dossier = session.get(models.Dossier, number)
            assert dossier.completeness_status == "a_verifier", (key, dossier.completeness_status)
            assert key in {issue.field for issue in dossier.mapping_issues}, key
        dossier = session.get(models.Dossier, everything)
        assert dossier.completeness_status == "a_verifier"
        assert {"nom", "prenom", "pj_passeport"} <= {issue.field for issue in dossier.mapping_issues}
        assert (dossier.student.last_name, dossier.student.first_name) == ("EXEMPLEDUPONT", "Am\ufffdlie")
        assert [f.byte_size for f in dossier.documents if f.document_key == "pj_passeport"] == [None]
        still_complete = session.scalars(
            select(models.Dossier.number).where(models.Dossier.completeness_status == "complet")
        ).all()
        assert set(still_complete) == set(complete) - set(broken) - {everything}
