"""Values the database cannot store never stop the run (issue #15): the raw
JSON is kept with NUL and lone surrogates replaced, and a dossier whose rows
the database still refuses is set aside in its own savepoint, its neighbours
saved. Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from core import models
from sandbox.champs import StoredFile
from tests.sync_helpers import evaluator, local_snapshot, make_syncer, quarantine_rows, sandbox_snapshot, stored_binding


def stored_raw(sessions, number):
    with sessions() as session:
        dossier = session.get(models.Dossier, number)
        return None if dossier is None else dossier.raw


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(dossiers=30, seed=21)


def test_values_ds_sends_that_no_database_stores_never_stop_the_sync(sandbox, ds_client_for, sessions):
    numbers = [d.number for d in sandbox.store.visible_dossiers(1)]
    huge, surrogate, nul, long_text, salary = numbers[2], numbers[5], numbers[9], numbers[14], numbers[20]
    sandbox.store.modify(huge, pj_passeport=(StoredFile("passeport.pdf", "application/pdf", 99999999999999999999999),))
    sandbox.store.modify(surrogate, nom="Dupont\ud800")
    sandbox.store.modify(nul, prenom="Ma\x00rie")
    sandbox.store.modify(long_text, emploi_intitule="x" * 10_000)
    sandbox.store.modify(salary, salaire_brut_mensuel=1e308)

    summary = make_syncer(ds_client_for(sandbox), sessions, page_size=10).sync(1)

    set_aside = quarantine_rows(sessions)
    local = local_snapshot(sessions)
    expected = sandbox_snapshot(sandbox.store)
    # Every dossier is stored, or set aside with what the database refused; none is lost.
    assert set(local) | set(set_aside) == set(expected)
    assert {n: local[n] for n in local} == {n: expected[n] for n in local}
    assert summary.fetched == len(expected)
    for number, row in set_aside.items():
        assert row.status == models.Q_UNSTORABLE and row.champ, (number, row.error)
    # The raw JSON kept has no NUL and no lone surrogate: U+FFFD in their place.
    for number in (surrogate, nul):
        raw = stored_raw(sessions, number)
        if raw is not None:
            text = json.dumps(raw, ensure_ascii=False)
            assert "\x00" not in text and "\\u0000" not in text
            assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
            assert "\ufffd" in text


def _bad_rows(rows: models.DossierRows, kind: str) -> models.DossierRows:
    if kind == "bigint":
        documents = [dict(rows.documents[0], byte_size=10**23)] + rows.documents[1:]
        return dataclasses.replace(rows, documents=documents)
    if kind == "surrogate":
        return dataclasses.replace(rows, student={**rows.student, "last_name": "Dupont\ud800"})
    if kind == "nul":
        return dataclasses.replace(rows, employer={**rows.employer, "company_name": "Acme\x00"})
    if kind == "long":
        return dataclasses.replace(rows, student={**rows.student, "phone": "0" * 10_000})
    return dataclasses.replace(rows, contract={**rows.contract, "monthly_gross_salary": Decimal("1e308")})


KINDS = ("bigint", "surrogate", "nul", "long", "salary")
EXPECTED_COLUMN = {
    "bigint": "document_files.byte_size",
    "surrogate": "students.last_name: caractère invalide",
    "nul": "employers.company_name: caractère invalide",
    "long": "students.phone: texte trop long",
    "salary": "contracts.monthly_gross_salary: nombre hors limites",
}


def test_a_dossier_whose_rows_the_database_refuses_is_set_aside_and_its_neighbours_saved(
    sandbox, ds_client_for, sessions
):
    """The safety net under the mapping's own clamps: rows the domain got wrong still stop no one."""
    numbers = sorted(
        d.number
        for d in sandbox.store.visible_dossiers(1)
        if any(isinstance(v, tuple) and v and isinstance(v[0], StoredFile) for v in d.values.values())
    )
    bad = dict(zip(numbers[: len(KINDS)], KINDS, strict=False))
    broken = {"on": True}
    bound = {}

    def evaluate(raw):
        if "evaluator" not in bound:  # make_syncer bound the sandbox before the first page
            bound["evaluator"] = evaluator(stored_binding(sessions))
        rows = bound["evaluator"].rows(raw)
        kind = bad.get(raw["number"]) if broken["on"] else None
        return _bad_rows(rows, kind) if kind and rows.documents else rows

    syncer = make_syncer(ds_client_for(sandbox), sessions, page_size=10, evaluate=evaluate)
    syncer.sync(1)

    set_aside = quarantine_rows(sessions)
    local = local_snapshot(sessions)
    expected = sandbox_snapshot(sandbox.store)
    refused = set(set_aside)
    # SQLite keeps a long text and a large decimal; PostgreSQL refuses them: either way nothing stops.
    assert {n for n, k in bad.items() if k in ("bigint", "surrogate")} <= refused <= set(bad)
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            assert refused == set(bad)
    assert set(local) == set(expected) - refused
    for number in refused:
        row = set_aside[number]
        assert row.status == models.Q_UNSTORABLE
        assert EXPECTED_COLUMN[bad[number]] in row.champ, row.champ
        assert "Dupont" not in row.error + row.champ  # what was refused, never the value

    # An update refused keeps the stored version; the value fixed, the next sync releases them.
    stored = sorted(local)[0]
    bad[stored] = "surrogate"
    sandbox.store.modify(stored, telephone_etudiant="01 02 03 04 05")
    syncer.sync(1)
    assert stored in quarantine_rows(sessions)
    assert local_snapshot(sessions)[stored] != sandbox_snapshot(sandbox.store)[stored]

    broken["on"] = False
    for number in list(bad):
        sandbox.store.modify(number, telephone_etudiant="01 02 03 04 06")
    syncer.sync(1)
    assert quarantine_rows(sessions) == {}
    assert local_snapshot(sessions) == sandbox_snapshot(sandbox.store)
