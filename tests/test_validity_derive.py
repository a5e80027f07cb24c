"""Derivation rules of the public validity record (pure functions)."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import ValidityState
from tests.snapshots import make_snapshot
from validity.derive import (
    birth_date_hash,
    derive_record,
    mask_name,
    past_retention,
    published_period,
)

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
        apt_start=date(2026, 2, 1),
        apt_end=date(2026, 7, 31),
    )
    values.update(overrides)
    return make_snapshot(**values)


class TestPeriod:
    """The public record publishes only the agent's decision and the agent's APT dates (issue #12)."""

    def test_the_agents_dates_are_published_as_entered(self):
        period = published_period(facts(apt_start=date(2026, 2, 10), apt_end=date(2026, 6, 30)))
        assert (period.start, period.end) == (date(2026, 2, 10), date(2026, 6, 30))

    @pytest.mark.parametrize("apt_start, apt_end", [(None, None), (date(2026, 2, 1), None), (None, date(2026, 7, 31))])
    def test_no_period_is_built_from_the_contract_when_the_agents_dates_are_empty(self, apt_start, apt_end):
        # The contract (1 February – 31 July 2026) and the titre are known: they must not stand in for a decision.
        assert published_period(facts(apt_start=apt_start, apt_end=apt_end)) is None

    @pytest.mark.parametrize(
        "apt_start, apt_end",
        [
            (date(2026, 3, 1), date(2026, 2, 1)),  # inverted
            (date(2026, 2, 1), date(2027, 2, 1)),  # one day over 12 months
            (date(2026, 2, 1), date(2026, 10, 16)),  # after the titre's expiry (15 October)
        ],
    )
    def test_a_period_the_apt_rule_refuses_is_not_published(self, apt_start, apt_end):
        assert published_period(facts(apt_start=apt_start, apt_end=apt_end, permit_expiry=date(2026, 10, 15))) is None

    def test_twelve_months_exactly_is_published(self):
        period = published_period(facts(apt_start=date(2026, 2, 1), apt_end=date(2027, 1, 31), permit_expiry=None))
        assert period.end == date(2027, 1, 31)


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

    def test_no_agents_period_no_record(self):
        assert derive_record(facts(apt_start=None, apt_end=None), PEPPER, today=date(2026, 3, 1)) is None


def test_retention():
    assert not past_retention(date(2026, 1, 31), today=date(2026, 3, 2), keep_days=30)
    assert past_retention(date(2026, 1, 31), today=date(2026, 3, 3), keep_days=30)
