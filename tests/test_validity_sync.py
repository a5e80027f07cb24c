"""Validity records follow the dossiers through the sync."""

from sqlalchemy import select

from core import models
from core.models import ValidityRecord
from core.settings import Settings, ValiditySettings
from jobs.pipeline import validity_refresher
from tests.sync_helpers import make_syncer


def test_records_follow_decisions_made_and_reversed_on_ds(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=150, seed=9)
    settings = Settings(validity=ValiditySettings(pepper=b"p" * 40))
    syncer = make_syncer(ds_client_for(server), sessions, after_page=validity_refresher(settings))
    syncer.sync(1)
    with sessions() as session:
        records = {r.dossier_number: r for r in session.scalars(select(ValidityRecord))}
        accepted = set(session.scalars(select(models.Dossier.number).where(models.Dossier.state == "accepte")))
    assert records and set(records) <= accepted
    valid = next(n for n, r in records.items() if r.state == "valid")

    # The agent reverses the decision on DS: the authorisation is no longer valid.
    server.store.set_state(valid, "en_instruction")
    deleted = next(n for n, r in records.items() if n != valid and r.state == "valid")
    server.store.delete(deleted)
    syncer.sync(1)
    with sessions() as session:
        assert session.get(ValidityRecord, valid).state == "withdrawn"
        assert session.get(ValidityRecord, deleted).state == "withdrawn"


def test_without_a_pepper_the_sync_goes_on_without_records():
    assert validity_refresher(Settings()) is None
