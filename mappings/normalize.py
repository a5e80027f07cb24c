"""Value-level normalisation: names, dates, SIRET, postal codes, hours.

Every function takes what DS may send (None, blank, odd formats) and either
returns a clean value or raises ValueError with a short reason; the mapping
turns that reason into a MappingIssue. Nothing here knows about champs.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from mappings.records import Contract, ContractType, HoursUnit

WEEKS_PER_YEAR = Decimal(52)
MONTHS_PER_YEAR = Decimal(12)
# La Poste's establishments share this SIREN and their SIRETs do not follow Luhn.
LA_POSTE_SIREN = "356000000"

_SPACES = re.compile(r"\s+")
# No one means a date outside these years: 0001-01-01 and 2999-12-31 are defaults or slips, not dates.
PLAUSIBLE_YEARS = range(1900, 2101)
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_NUMBER_IN_TEXT = re.compile(r"\d+(?:[.,]\d+)?")


def quoted(text: str, length: int = 60) -> str:
    """A value as a message quotes it: never 10,000 characters (the mapping cleans the characters)."""
    return text if len(text) <= length else f"{text[:length]}…"


def blank_to_none(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def clean_text(value) -> str | None:
    """Strip and collapse inner whitespace (tabs, double spaces, newlines)."""
    text = blank_to_none(value)
    return _SPACES.sub(" ", text) if text else None


def clean_first_name(value) -> str | None:
    # Accents and case are the person's own spelling: keep them.
    return clean_text(value)


def clean_last_name(value) -> str | None:
    text = clean_text(value)
    return text.upper() if text else None


# Invisible format characters (Unicode Cf): zero-width spaces, a byte order mark, bidi overrides, soft hyphens.
# In a name the zero-width (non-)joiners belong to the spelling (Persian, Indic scripts); in an identifier nothing
# invisible does: it makes the number another one to a machine and the same one to a reader.
def invisible_characters(text: str | None) -> list[str]:
    """The invisible format characters of a text, as U+XXXX, in order of first appearance."""
    found = dict.fromkeys(f"U+{ord(char):04X}" for char in text or "" if unicodedata.category(char) == "Cf")
    return list(found)


def without_invisible(text: str | None) -> str | None:
    if text is None:
        return None
    return clean_text("".join(char for char in text if unicodedata.category(char) != "Cf"))


def clean_email(value) -> str | None:
    text = blank_to_none(value)
    return text.lower() if text else None


def parse_date(value) -> date | None:
    """ISO date (or the date part of an ISO datetime) or dd/mm/yyyy; None when blank."""
    text = blank_to_none(value)
    if text is None:
        return None
    french = _FRENCH_DATE.match(text)
    if french:
        day, month, year = (int(part) for part in french.groups())
    try:
        if french:
            parsed = date(year, month, day)
        else:
            # A time after the day must be a real time too: "2026-06-15T25:61:00Z" is not 15 June.
            parsed = (
                date.fromisoformat(text)
                if len(text) <= 10
                else datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            )
    except ValueError:
        raise ValueError(f"valeur illisible « {quoted(text)} »") from None
    if parsed.year not in PLAUSIBLE_YEARS:
        raise ValueError(f"date invraisemblable « {quoted(text)} »")
    return parsed


def parse_datetime(value) -> datetime | None:
    """Aware datetime; a naive value is taken as UTC (DS always sends an offset)."""
    text = blank_to_none(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"valeur illisible « {quoted(text)} »") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_decimal(value) -> Decimal | None:
    """A number from a JSON number or a French text ("35,5", "35 heures")."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"valeur illisible « {value} »")
        return Decimal(str(value))
    text = blank_to_none(value)
    if text is None:
        return None
    found = _NUMBER_IN_TEXT.search(text.replace("\u00a0", "").replace(" ", ""))
    if not found:
        raise ValueError(f"valeur illisible « {quoted(text)} »")
    try:
        return Decimal(found.group().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"valeur illisible « {quoted(text)} »") from None


def parse_bool(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("oui", "true", "on", "1", "yes"):
        return True
    if text in ("non", "false", "off", "0", "no"):
        return False
    return None


def digits_only(value) -> str | None:
    text = blank_to_none(value)
    if text is None:
        return None
    digits = re.sub(r"\D", "", text)
    return digits or None


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        number = int(char)
        if position % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def is_valid_siret(siret: str | None) -> bool:
    """14 digits passing Luhn; La Poste establishments use a digit sum multiple of 5 instead."""
    if not siret or len(siret) != 14 or not siret.isdigit():
        return False
    if luhn_valid(siret):
        return True
    return siret.startswith(LA_POSTE_SIREN) and sum(int(c) for c in siret) % 5 == 0


def normalize_postal_code(value) -> str | None:
    """Five digits, or None. "75 008" and "75008 CEDEX 08" give "75008"."""
    text = blank_to_none(value)
    if text is None:
        return None
    found = re.match(r"^(\d{2})\s?(\d{3})\b", text)
    return found.group(1) + found.group(2) if found else None


def is_cedex(value) -> bool:
    return bool(value) and "cedex" in str(value).lower()


def normalize_departement_code(value) -> str | None:
    """ "1", "01", "2a", "75 - Paris", "971 – Guadeloupe" → "01", "2A", "75", "971"."""
    text = blank_to_none(value)
    if text is None:
        return None
    # The code stands alone: followed by nothing, a space or a dash, never by a letter or a digit
    # ("2C" is no code, not Aisne's "02"; "9A" not Ariège's "09").
    found = re.match(r"^(\d{2}|9[78]\d|2[abAB])(?![0-9A-Za-z])", text)
    if not found:
        found = re.match(r"^(\d)(?![0-9A-Za-z])", text)
        return f"0{found.group(1)}" if found else None
    return found.group(1).upper()


def hours_per_week(value: Decimal | None, unit: HoursUnit | None) -> Decimal | None:
    """Monthly hours are brought to weekly ones over a year (× 12 / 52)."""
    if value is None:
        return None
    if unit == HoursUnit.PER_MONTH:
        return (value * MONTHS_PER_YEAR / WEEKS_PER_YEAR).quantize(Decimal("0.01"))
    return value


def hours_unit_from_text(text) -> HoursUnit | None:
    """ "Par semaine", "35 heures/semaine", "151,67 h par mois" → the unit."""
    lowered = (blank_to_none(text) or "").lower()
    if "mois" in lowered or "month" in lowered or "mensuel" in lowered:
        return HoursUnit.PER_MONTH
    if "semaine" in lowered or "hebdo" in lowered or "week" in lowered:
        return HoursUnit.PER_WEEK
    return None


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clipped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def anniversary(day: date, months: int) -> date:
    """The day `months` later as a period boundary: when that month has no such
    day (31 January + 1 month, 29 February + 12), the next month's first day,
    so that the period before it ends on the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if day.day > calendar.monthrange(year, month)[1]:
        return date(year, month, 1) + timedelta(days=calendar.monthrange(year, month)[1])
    return date(year, month, day.day)


def last_day_of_months(start: date, months: int) -> date:
    """Last day of a period of `months` months starting on `start` (1 April + 12 → 31 March)."""
    return anniversary(start, months) - timedelta(days=1)


def age_on(birth_date: date, day: date) -> int:
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


@dataclass(frozen=True)
class YearHours:
    """Hours of work falling in one year of the titre de séjour."""

    start: date
    end: date
    hours: Decimal


def _year_containing(day: date, anchor: date, year_months: int) -> tuple[date, date]:
    """The `year_months`-long block, counted from `anchor` (forwards or backwards), that holds `day`."""
    index = ((day.year - anchor.year) * 12 + day.month - anchor.month) // year_months
    while anniversary(anchor, index * year_months) > day:
        index -= 1
    while anniversary(anchor, (index + 1) * year_months) <= day:
        index += 1
    return anniversary(anchor, index * year_months), anniversary(anchor, (index + 1) * year_months) - timedelta(days=1)


def hours_by_titre_year(
    contract: Contract, titre_start: date | None, year_months: int = 12, span_months: int = 12
) -> list[YearHours] | None:
    """The contract's hours (other jobs included) split over the years of the titre de séjour.

    Only the first `span_months` of the contract count: that is all one APT
    may cover. A CDI, and a contract whose end is unknown, run for that whole
    span, which errs on the side of the student. Without the titre's start,
    the years are counted from the contract's start. None when the start or
    the hours are unknown.
    """
    if contract.start is None or contract.hours_per_week is None:
        return None
    span_end = last_day_of_months(contract.start, span_months)
    end = (
        span_end if contract.contract_type == ContractType.CDI or contract.end is None else min(contract.end, span_end)
    )
    weekly = contract.hours_per_week + (contract.other_jobs_hours_per_week or Decimal(0))
    anchor = titre_start or contract.start
    years, day = [], contract.start
    while day <= end:
        year_start, year_end = _year_containing(day, anchor, year_months)
        last = min(year_end, end)
        hours = (weekly * Decimal((last - day).days + 1) / Decimal(7)).quantize(Decimal("0.01"))
        years.append(YearHours(year_start, year_end, hours))
        day = last + timedelta(days=1)
    return years


def busiest_titre_year(
    contract: Contract, titre_start: date | None, year_months: int = 12, span_months: int = 12
) -> YearHours | None:
    """The titre year holding the most hours of the contract: the one a threshold or a cap is judged on."""
    years = hours_by_titre_year(contract, titre_start, year_months, span_months)
    return max(years, key=lambda year: year.hours) if years else None
