"""Validity records follow their dossier through refresh_validity and purge_expired."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.models import Contract, Dossier, Employer, Student, ValidityRecord
from validity.derive import birth_date_hash
from validity.store import purge_expired, refresh_all, refresh_validity

PEPPER = b"store-test-pepper-" + b"y" * 32
BIRTH = date(2000, 5, 17)
DURING = date(2026, 4, 1)
AFTER_END = date(2026, 9, 1)


def add_dossier(session, number: int, state: str = "accepte", **dossier_fields) -> Dossier:
    now = datetime(2026, 3, 1, 10, tzinfo=UTC)
    # The agents' APT period, as typed in the annotations on acceptance.
    dossier_fields = {"apt_start": date(2026, 3, 15), "apt_end": date(2026, 8, 14), **dossier_fields}
    dossier = Dossier(
        number=number,
        ds_id=f"RG9zc2llci0{number}",
        demarche_number=1,
        state=state,
        date_derniere_modification=now,
        date_traitement=now if state == "accepte" else None,
        raw={},
        synced_at=now,
        **dossier_fields,
    )
    dossier.student = Student(
        first_name="Nadia", last_name="Haddad", birth_date=BIRTH, permit_expiry=date(2026, 12, 31)
    )
    dossier.employer = Employer(siret="73282932000074")
    dossier.contract = Contract(start=date(2026, 3, 15), end=date(2026, 8, 14))
    session.add(dossier)
    session.flush()
    return dossier


def record_of(session, number: int) -> ValidityRecord | None:
    session.expire_all()
    return session.get(ValidityRecord, number)


@pytest.fixture
def session(sessions):
    with sessions() as session, session.begin():
        yield session


def test_accepted_dossier_becomes_valid(session):
    add_dossier(session, 101)
    refresh_validity(session, [101], DURING, pepper=PEPPER)
    record = record_of(session, 101)
    assert record.state == "valid"
    assert (record.apt_start, record.apt_end) == (date(2026, 3, 15), date(2026, 8, 14))
    assert record.masked_name == "Na*** Ha***"
    assert record.siret == "73282932000074"
    assert record.birth_date_hash == birth_date_hash(PEPPER, 101, BIRTH)


def test_agents_annotations_are_used(session):
    add_dossier(session, 102, apt_start=date(2026, 3, 20), apt_end=date(2026, 6, 30))
    refresh_validity(session, [102], DURING, pepper=PEPPER)
    record = record_of(session, 102)
    assert (record.apt_start, record.apt_end) == (date(2026, 3, 20), date(2026, 6, 30))


def test_accepted_without_the_agents_dates_publishes_nothing(session):
    # The contract (15 March – 14 August) is known, but no decision period was entered.
    add_dossier(session, 111, apt_start=None, apt_end=None)
    refresh_validity(session, [111], DURING, pepper=PEPPER)
    assert record_of(session, 111) is None


def test_no_record_for_a_dossier_never_accepted(session):
    add_dossier(session, 103, state="en_instruction")
    refresh_validity(session, [103], DURING, pepper=PEPPER)
    assert record_of(session, 103) is None


def test_rerun_changes_nothing(session):
    add_dossier(session, 104)
    refresh_validity(session, [104], DURING, pepper=PEPPER)
    first = record_of(session, 104).updated_at
    refresh_validity(session, [104, 104], DURING, pepper=PEPPER)
    assert record_of(session, 104).updated_at == first


def test_end_date_passed_gives_expired(session):
    add_dossier(session, 105)
    refresh_validity(session, [105], DURING, pepper=PEPPER)
    refresh_validity(session, [105], AFTER_END, pepper=PEPPER)
    assert record_of(session, 105).state == "expired"


def test_decision_reversed_on_ds_withdraws(session):
    dossier = add_dossier(session, 106)
    refresh_validity(session, [106], DURING, pepper=PEPPER)
    dossier.state = "en_instruction"  # dossierRepasserEnInstruction
    session.flush()
    refresh_validity(session, [106], DURING, pepper=PEPPER)
    assert record_of(session, 106).state == "withdrawn"
    dossier.state = "accepte"
    session.flush()
    refresh_validity(session, [106], DURING, pepper=PEPPER)
    assert record_of(session, 106).state == "valid"


@pytest.mark.parametrize("removal", ["deleted_at", "hidden_at"])
def test_deleted_or_trashed_dossier_withdraws(session, removal):
    dossier = add_dossier(session, 107)
    refresh_validity(session, [107], DURING, pepper=PEPPER)
    setattr(dossier, removal, datetime(2026, 4, 2, tzinfo=UTC))
    session.flush()
    refresh_validity(session, [107], DURING, pepper=PEPPER)
    assert record_of(session, 107).state == "withdrawn"


def test_dossier_gone_from_the_local_copy_withdraws(session):
    dossier = add_dossier(session, 108)
    refresh_validity(session, [108], DURING, pepper=PEPPER)
    session.delete(dossier)
    session.flush()
    refresh_validity(session, [108], DURING, pepper=PEPPER)
    assert record_of(session, 108).state == "withdrawn"


def test_changed_details_update_the_record(session):
    dossier = add_dossier(session, 109)
    refresh_validity(session, [109], DURING, pepper=PEPPER)
    before = record_of(session, 109).updated_at
    dossier.apt_end = date(2026, 7, 31)
    dossier.employer.siret = "35600000000048"
    session.flush()
    refresh_validity(session, [109], DURING, pepper=PEPPER)
    record = record_of(session, 109)
    assert (record.apt_end, record.siret) == (date(2026, 7, 31), "35600000000048")
    assert record.updated_at >= before


def test_purge_marks_expired_then_deletes_after_the_retention(session):
    add_dossier(session, 110)
    refresh_validity(session, [110], DURING, pepper=PEPPER)
    assert purge_expired(session, date(2026, 8, 20), keep_days=30) == 0
    assert record_of(session, 110).state == "expired"
    assert purge_expired(session, date(2026, 9, 13), keep_days=30) == 0  # ended 14 August + 30 days
    assert purge_expired(session, date(2026, 9, 14), keep_days=30) == 1
    assert record_of(session, 110) is None


def test_purged_record_is_not_recreated(session):
    add_dossier(session, 111)
    refresh_validity(session, [111], date(2026, 12, 1), pepper=PEPPER, keep_days=30)
    assert record_of(session, 111) is None
    refresh_validity(session, [111], date(2026, 8, 20), pepper=PEPPER, keep_days=30)
    assert record_of(session, 111).state == "expired"


def test_purge_keeps_valid_records(session):
    add_dossier(session, 112)
    refresh_validity(session, [112], DURING, pepper=PEPPER)
    assert purge_expired(session, DURING, keep_days=0) == 0
    assert record_of(session, 112).state == "valid"


def test_purge_deletes_old_withdrawn_records(session):
    dossier = add_dossier(session, 113)
    refresh_validity(session, [113], DURING, pepper=PEPPER)
    dossier.state = "refuse"
    session.flush()
    refresh_validity(session, [113], DURING, pepper=PEPPER)
    withdrawn_on = record_of(session, 113).updated_at.date()
    assert purge_expired(session, withdrawn_on, keep_days=10) == 0
    assert purge_expired(session, date.fromordinal(withdrawn_on.toordinal() + 11), keep_days=10) == 1


def test_refuses_to_hash_without_a_pepper(session):
    add_dossier(session, 114)
    with pytest.raises(ValueError, match="pepper"):
        refresh_validity(session, [114], DURING, pepper=b"")
    assert record_of(session, 114) is None


def test_refresh_all_rehashes_after_a_pepper_rotation(session):
    add_dossier(session, 116)
    add_dossier(session, 117, state="refuse")
    refresh_validity(session, [116], DURING, pepper=PEPPER)
    rotated = PEPPER + b"-2027"
    refresh_all(session, DURING, pepper=rotated)
    numbers = set(session.scalars(select(ValidityRecord.dossier_number)))
    assert numbers == {116}
    assert record_of(session, 116).birth_date_hash == birth_date_hash(rotated, 116, BIRTH)
