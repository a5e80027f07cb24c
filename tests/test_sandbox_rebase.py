"""A newly published revision reaches the dossiers not yet decided as DS's rebase does: after a delay
(about 30 s in DS, set per store here), without touching dateDerniereModification; decided dossiers
keep their revision."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sandbox.generator import seeded_store
from sandbox.server import start_server
from sandbox.store import REBASE_DELAY_SECONDS, TERMINAL_STATES
from tests.sandbox_requests import post

QUERY = """query q($n: Int!) { dossier(number: $n) { dateDerniereModification demarche { revision { id } } } }"""


@pytest.fixture(scope="module")
def published():
    """A store whose démarche published a new revision just now, and the dossiers' state before."""
    store = seeded_store(60, seed=21, today=date(2026, 1, 1))
    before = {d.number: (d.revision, d.updated_at, d.state) for d in store.dossiers.values()}
    revision = store.publish_revision(1, labels={"nom": "Nom de famille de l'étudiant"})
    return store, revision, before


def test_ds_waits_about_thirty_seconds():
    assert REBASE_DELAY_SECONDS == 30


def test_nothing_moves_before_the_delay(published):
    store, _, before = published
    assert store.apply_due_rebases(datetime.now(UTC) + timedelta(seconds=5)) == 0
    assert all(d.revision == before[d.number][0] for d in store.dossiers.values())


def test_dossiers_not_decided_move_after_it_and_keep_their_modification_date(published):
    store, revision, before = published
    with start_server(store) as server:
        store.apply_due_rebases(datetime.now(UTC) + timedelta(seconds=REBASE_DELAY_SECONDS + 1))
        for dossier in store.visible_dossiers(1):
            body = post(server.url, QUERY, {"n": dossier.number}).json()["data"]["dossier"]
            old_revision, updated_at, state = before[dossier.number]
            expected = revision.id if state not in TERMINAL_STATES else store.demarches[1].revisions[old_revision].id
            assert body["demarche"]["revision"]["id"] == expected
            assert datetime.fromisoformat(body["dateDerniereModification"]) == updated_at


def test_a_short_delay_for_tests_applies_on_the_next_request():
    store = seeded_store(10, seed=22, today=date(2026, 1, 1))
    store.rebase_delay = 0
    waiting = next(d for d in store.visible_dossiers(1) if d.state == "en_construction")
    revision = store.publish_revision(1)
    with start_server(store) as server:
        body = post(server.url, QUERY, {"n": waiting.number}).json()["data"]["dossier"]
    assert body["demarche"]["revision"]["id"] == revision.id
