"""Derivation rules of the public validity record (pure functions)."""
from __future__ import annotations

from datetime import date

import pytest

from validity.derive import (
    apt_period,
    birth_date_hash,
    derive_record,
    mask_name,
    past_retention,
    twelve_months_end,
)
from core.models import ValidityState
from tests.snapshots import make_snapshot

PEPPER = b"test-pepper-" + b"x" * 40
BIRTH = date(2001, 3, 21)


def facts(**overrides):
    values = dict(
        number=4242,
        state="accepte",
        removed=False,
        student_first_name="Karima",
        student_last_name="Benali",
        birth_date=BIRTH,
        siret="73282932000074",
        contract_start=date(2026, 2, 1),
        contract_end=date(2026, 7, 31),
        permit_expiry=date(2026, 10, 15),
    )
    values.update(overrides)
    return make_snapshot(**values)


class TestPeriod:
    def test_agents_annotations_win_over_the_contract(self):
        period = apt_period(facts(apt_start=date(2026, 2, 10), apt_end=date(2026, 6, 30)))
        assert (period.start, period.end) == (date(2026, 2, 10), date(2026, 6, 30))

    def test_defaults_to_the_contract_period(self):
        period = apt_period(facts())
        assert (period.start, period.end) == (date(2026, 2, 1), date(2026, 7, 31))

    def test_contract_end_is_capped_at_the_permit_expiry(self):
        period = apt_period(facts(contract_end=date(2026, 12, 31), permit_expiry=date(2026, 9, 30)))
        assert period.end == date(2026, 9, 30)

    def test_open_ended_contract_ends_with_the_permit(self):
        assert apt_period(facts(contract_end=None)).end == date(2026, 10, 15)

    def test_default_never_exceeds_twelve_months(self):
        period = apt_period(facts(contract_end=None, permit_expiry=date(2028, 1, 1)))
        assert period.end == date(2027, 1, 31)

    def test_annotated_start_with_contract_end(self):
        period = apt_period(facts(apt_start=date(2026, 3, 1)))
        assert (period.start, period.end) == (date(2026, 3, 1), date(2026, 7, 31))

    def test_no_start_means_no_period(self):
        assert apt_period(facts(contract_start=None)) is None

    def test_end_before_start_means_no_period(self):
        assert apt_period(facts(apt_end=date(2026, 1, 1))) is None

    @pytest.mark.parametrize(
        "start, end",
        [(date(2026, 2, 1), date(2027, 1, 31)), (date(2024, 2, 29), date(2025, 2, 28)), (date(2026, 1, 1), date(2026, 12, 31))],
    )
    def test_twelve_months_end(self, start, end):
        assert twelve_months_end(start) == end


class TestMask:
    @pytest.mark.parametrize(
        "first, last, masked",
        [
            ("Karima", "Benali", "Ka*** Be***"),
            ("KARIMA", "BENALI", "Ka*** Be***"),
            ("  élodie ", "d'Almeida", "Él*** D'***"),
            ("Li", "Wu", "L*** W***"),  # never the whole name
            ("A", None, "A*** ***"),
            (None, None, "*** ***"),
        ],
    )
    def test_mask(self, first, last, masked):
        assert mask_name(first, last) == masked

    def test_mask_hides_the_length(self):
        assert len(mask_name("Jonathan", "Nguyenvan")) == len(mask_name("Jo", "Ng")) + 2
        assert mask_name("Karim", "Benali") == mask_name("Karima", "Bensalah")


class TestHash:
    def test_is_keyed_by_the_pepper(self):
        assert birth_date_hash(PEPPER, 1, BIRTH) != birth_date_hash(PEPPER + b"!", 1, BIRTH)

    def test_binds_the_number(self):
        assert birth_date_hash(PEPPER, 1, BIRTH) != birth_date_hash(PEPPER, 2, BIRTH)

    def test_is_not_a_plain_hash_of_the_date(self):
        import hashlib

        plain = {hashlib.sha256(text.encode()).hexdigest() for text in (BIRTH.isoformat(), f"1:{BIRTH.isoformat()}")}
        assert birth_date_hash(PEPPER, 1, BIRTH) not in plain

    def test_is_stable(self):
        assert birth_date_hash(PEPPER, 7, BIRTH) == birth_date_hash(PEPPER, 7, date(2001, 3, 21))
        assert len(birth_date_hash(PEPPER, 7, BIRTH)) == 64


class TestRecord:
    def test_accepted_dossier_gives_a_valid_record(self):
        record = derive_record(facts(), PEPPER, today=date(2026, 3, 1))
        assert record.state is ValidityState.VALID
        assert record.masked_name == "Ka*** Be***"
        assert record.siret == "73282932000074"
        assert record.birth_date_hash == birth_date_hash(PEPPER, 4242, BIRTH)

    def test_future_start_is_valid(self):
        assert derive_record(facts(), PEPPER, today=date(2026, 1, 15)).state is ValidityState.VALID

    def test_last_day_is_still_valid(self):
        assert derive_record(facts(), PEPPER, today=date(2026, 7, 31)).state is ValidityState.VALID

    def test_end_date_passed_gives_expired(self):
        assert derive_record(facts(), PEPPER, today=date(2026, 8, 1)).state is ValidityState.EXPIRED

    @pytest.mark.parametrize("state", ["en_construction", "en_instruction", "refuse", "sans_suite"])
    def test_only_accepted_dossiers_are_published(self, state):
        assert derive_record(facts(state=state), PEPPER, today=date(2026, 3, 1)) is None

    def test_removed_dossier_is_not_published(self):
        assert derive_record(facts(removed=True), PEPPER, today=date(2026, 3, 1)) is None

    def test_no_birth_date_no_record(self):
        assert derive_record(facts(birth_date=None), PEPPER, today=date(2026, 3, 1)) is None

    def test_no_period_no_record(self):
        assert derive_record(facts(contract_start=None), PEPPER, today=date(2026, 3, 1)) is None


def test_retention():
    assert not past_retention(date(2026, 1, 31), today=date(2026, 3, 2), keep_days=30)
    assert past_retention(date(2026, 1, 31), today=date(2026, 3, 3), keep_days=30)
