from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from mappings import normalize
from mappings.records import Contract, ContractType, HoursUnit


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Amélie   Zoé ", "Amélie Zoé"),
        ("Jean-\tLuc", "Jean- Luc"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_first_name_strips_and_collapses_but_keeps_accents(raw, expected):
    assert normalize.clean_first_name(raw) == expected


def test_clean_last_name_is_upper_case_with_accents():
    assert normalize.clean_last_name(" el  Amraoui-Bénédicte ") == "EL AMRAOUI-BÉNÉDICTE"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2001-05-14", date(2001, 5, 14)),
        ("14/05/2001", date(2001, 5, 14)),
        ("2001-05-14T00:00:00+02:00", date(2001, 5, 14)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw, expected):
    assert normalize.parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw", ["2001-02-30", "30/02/2001", "hier", "2001-13-01", "2026-06-15T25:61:00Z", "2026-06-15 et demi"]
)
def test_parse_date_refuses_impossible_dates(raw):
    with pytest.raises(ValueError, match="valeur illisible"):
        normalize.parse_date(raw)


def test_parse_datetime_is_aware():
    parsed = normalize.parse_datetime("2024-12-20T10:15:00+01:00")
    assert parsed.utcoffset() == timedelta(hours=1)
    assert normalize.parse_datetime("2024-12-20T10:15:00Z").tzinfo == UTC
    assert normalize.parse_datetime("2024-12-20T10:15:00") == datetime(2024, 12, 20, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (35, Decimal(35)),
        (17.5, Decimal("17.5")),
        ("35,5", Decimal("35.5")),
        ("35 heures/semaine", Decimal(35)),
        ("1 485 euros/mois", Decimal(1485)),
        (None, None),
        ("", None),
    ],
)
def test_parse_decimal(raw, expected):
    assert normalize.parse_decimal(raw) == expected


def test_parse_decimal_refuses_text_without_number():
    with pytest.raises(ValueError):
        normalize.parse_decimal("beaucoup")


@pytest.mark.parametrize(
    "siret, valid",
    [
        ("12345678900015", True),
        ("12345678900016", False),  # same digits, wrong key
        ("1234567890001", False),  # 13 digits
        ("1234567890001A", False),
        ("", False),
        (None, False),
    ],
)
def test_siret_luhn(siret, valid):
    assert normalize.is_valid_siret(siret) is valid


def test_la_poste_siret_uses_digit_sum_rule():
    la_poste = "35600000000010"  # digit sum 15, multiple of 5
    assert not normalize.luhn_valid(la_poste)
    assert normalize.is_valid_siret(la_poste)
    assert not normalize.is_valid_siret("35600000000011")
    # The exception is La Poste's only: the same digit sum elsewhere is not enough.
    other = "12300000000009"  # digit sum 15 too, but not La Poste
    assert not normalize.luhn_valid(other)
    assert not normalize.is_valid_siret(other)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("75011", "75011"),
        (" 75 011 ", "75011"),
        ("75008 CEDEX 08", "75008"),
        ("7501", None),
        ("750111", None),
        ("abcde", None),
        (None, None),
    ],
)
def test_postal_code(raw, expected):
    assert normalize.normalize_postal_code(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("75", "75"),
        ("1", "01"),
        ("01", "01"),
        ("2a", "2A"),
        ("2B - Haute-Corse", "2B"),
        ("75 – Paris", "75"),
        ("971", "971"),
        ("Paris", None),
        (None, None),
    ],
)
def test_departement_code(raw, expected):
    assert normalize.normalize_departement_code(raw) == expected


def test_monthly_hours_become_weekly_hours():
    assert normalize.hours_per_week(Decimal(52), HoursUnit.PER_MONTH) == Decimal("12.00")
    assert normalize.hours_per_week(Decimal(20), HoursUnit.PER_WEEK) == Decimal(20)
    assert normalize.hours_per_week(None, HoursUnit.PER_WEEK) is None


@pytest.mark.parametrize(
    "text, unit",
    [
        ("35 heures/semaine", HoursUnit.PER_WEEK),
        ("151,67 h par mois", HoursUnit.PER_MONTH),
        ("35", None),
    ],
)
def test_hours_unit_from_text(text, unit):
    assert normalize.hours_unit_from_text(text) is unit


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 15), 12, date(2026, 3, 15)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
    ],
)
def test_add_months(day, months, expected):
    assert normalize.add_months(day, months) == expected


def test_age_on_counts_birthdays():
    assert normalize.age_on(date(2001, 5, 14), date(2024, 5, 13)) == 22
    assert normalize.age_on(date(2001, 5, 14), date(2024, 5, 14)) == 23


def test_hours_of_a_six_month_contract_inside_one_titre_year():
    contract = Contract(
        contract_type=ContractType.CDD, start=date(2025, 1, 1), end=date(2025, 7, 1), hours_per_week=Decimal(20)
    )
    [year] = normalize.hours_by_titre_year(contract, date(2024, 9, 1))
    assert (year.start, year.end) == (date(2024, 9, 1), date(2025, 8, 31))
    assert year.hours == (Decimal(20) * Decimal(182) / 7).quantize(Decimal("0.01"))


def test_hours_are_split_at_the_titre_anniversary_and_stop_after_twelve_months_of_contract():
    contract = Contract(
        contract_type=ContractType.CDD,
        start=date(2025, 1, 1),
        end=date(2027, 1, 1),
        hours_per_week=Decimal(15),
        other_jobs_hours_per_week=Decimal(5),
    )
    first, second = normalize.hours_by_titre_year(contract, date(2024, 9, 1))
    # 1 January – 31 August 2025 (243 days), then 1 September – 31 December 2025 (122 days): 12 months in all.
    assert (first.hours, second.hours) == (Decimal("694.29"), Decimal("348.57"))
    assert second.start == date(2025, 9, 1)
    assert normalize.busiest_titre_year(contract, date(2024, 9, 1)) == first


def test_a_cdi_counts_for_twelve_months_whatever_its_end():
    cdi = Contract(
        contract_type=ContractType.CDI, start=date(2025, 1, 1), end=date(2025, 2, 1), hours_per_week=Decimal(10)
    )
    [year] = normalize.hours_by_titre_year(cdi, None)  # no titre start: years from the contract's start
    assert (year.start, year.hours) == (date(2025, 1, 1), (Decimal(10) * Decimal(365) / 7).quantize(Decimal("0.01")))


def test_a_titre_starting_after_the_contract_counts_its_years_backwards():
    contract = Contract(
        contract_type=ContractType.CDD, start=date(2025, 1, 1), end=date(2025, 3, 31), hours_per_week=Decimal(7)
    )
    first, second = normalize.hours_by_titre_year(contract, date(2025, 2, 1))
    assert (first.start, first.end, second.start) == (date(2024, 2, 1), date(2025, 1, 31), date(2025, 2, 1))
    assert (first.hours, second.hours) == (Decimal(31), Decimal(59))


def test_hours_need_start_and_hours():
    assert normalize.hours_by_titre_year(Contract(hours_per_week=Decimal(10)), None) is None
    assert normalize.hours_by_titre_year(Contract(start=date(2025, 1, 1)), None) is None
    inverted = Contract(start=date(2025, 1, 1), end=date(2024, 12, 1), hours_per_week=Decimal(10))
    assert normalize.hours_by_titre_year(inverted, None) == [] and normalize.busiest_titre_year(inverted, None) is None


@pytest.mark.parametrize(
    "start, months, last_day",
    [
        (date(2025, 4, 1), 12, date(2026, 3, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # no 29 February: the period ends on the month's last day
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2025, 9, 15), 6, date(2026, 3, 14)),
    ],
)
def test_last_day_of_a_period_of_months(start, months, last_day):
    assert normalize.last_day_of_months(start, months) == last_day
    assert normalize.anniversary(start, months) == last_day + timedelta(days=1)
