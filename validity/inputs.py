"""Parse and validate the two fields of a lookup; messages are in French and say what is wrong with what was typed.

Shared by the HTML form and the JSON endpoint so both accept and refuse the
same inputs. Which dates are read, and how a two-digit year is resolved: docs/apt-validity-check.md#what-the-form-reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

NUMBER_FIELD = "numero"
BIRTH_DATE_FIELD = "date_naissance"

# DS dossier numbers are positive integers of 8 digits today; 12 leaves ample room and keeps absurd values out of
# the database query.
NUMBER_MAX_DIGITS = 12
_DIGITS = re.compile(r"[0-9]+")
# Day, month, year as people type them: « 30/1/96 », « 30 01 1996 », « 30-01-1996 », « 30.01.1996 ».
_SEPARATOR = r"\s*[/.\-\s]\s*"
_DAY_FIRST = re.compile(rf"([0-9]{{1,2}}){_SEPARATOR}([0-9]{{1,2}}){_SEPARATOR}([0-9]{{4}}|[0-9]{{2}})")
# Year first, as machines and `<input type=date>` send it: « 1996-01-30 ».
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_MAX_LENGTH = 40
# A student is at least this old: a two-digit year is put in the latest century that makes them so.
MIN_AGE_YEARS = 15
OLDEST_YEAR = 1900

EXAMPLE_NUMBER = "par exemple 1234567"
NUMBER_MISSING = "Indiquez le numéro de dossier."
NUMBER_NOT_DIGITS = f"Le numéro de dossier ne comporte que des chiffres, {EXAMPLE_NUMBER}."
NUMBER_ZERO = f"Le numéro de dossier ne peut pas être 0 : il figure sur la décision d'autorisation, {EXAMPLE_NUMBER}."
EXAMPLE_DATE = "par exemple 21/03/2001"
DATE_MISSING = "Indiquez la date de naissance de l'étudiant."
DATE_UNREADABLE = f"La date de naissance doit indiquer le jour, le mois et l'année, {EXAMPLE_DATE}."
DATE_NOT_REAL = f"Cette date de naissance n'existe pas : vérifiez le jour et le mois, {EXAMPLE_DATE}."
DATE_IN_FUTURE = f"La date de naissance est dans le futur : vérifiez l'année, {EXAMPLE_DATE}."
DATE_TOO_OLD = f"La date de naissance est antérieure à {OLDEST_YEAR} : vérifiez l'année, {EXAMPLE_DATE}."


def number_too_long(digits: int) -> str:
    return (
        f"Le numéro de dossier est trop long : {digits} chiffres, alors qu'il en compte au plus "
        f"{NUMBER_MAX_DIGITS}, {EXAMPLE_NUMBER}."
    )


@dataclass
class LookupQuery:
    dossier_number: int | None = None
    birth_date: date | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field name → French message

    @property
    def valid(self) -> bool:
        return not self.errors


def _text(raw: object) -> str:
    # JSON may carry a number for `numero`; anything else is not text.
    if isinstance(raw, bool) or raw is None:
        return ""
    if isinstance(raw, int):
        return str(raw)
    return raw.strip() if isinstance(raw, str) else "\0"


def parse_dossier_number(raw: object) -> tuple[int | None, str | None]:
    text = _text(raw).replace(" ", "").replace("\u00a0", "")
    if not text:
        return None, NUMBER_MISSING
    if not _DIGITS.fullmatch(text):
        return None, NUMBER_NOT_DIGITS
    significant = len(text.lstrip("0"))
    if significant > NUMBER_MAX_DIGITS:
        return None, number_too_long(significant)
    if significant == 0:
        return None, NUMBER_ZERO
    return int(text), None


def full_year(two_digits: int, today: date) -> int:
    """« 96 » → 1996, « 05 » → 2005 (on 6 December 2026): the latest century in which the student is at least
    MIN_AGE_YEARS this year, so a birth date is never in the future nor a child's."""
    recent = 2000 + two_digits
    return recent if recent <= today.year - MIN_AGE_YEARS else recent - 100


def parse_birth_date(raw: object, today: date) -> tuple[date | None, str | None]:
    """Day, month and year in the ways people type them, or AAAA-MM-JJ as machines and `<input type=date>` send it."""
    text = _text(raw)
    if not text:
        return None, DATE_MISSING
    if len(text) > _MAX_LENGTH:
        return None, DATE_UNREADABLE
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
        if len(match.group(3)) == 2:
            year = full_year(year, today)
    else:
        return None, DATE_UNREADABLE
    try:
        value = date(year, month, day)
    except ValueError:
        return None, DATE_NOT_REAL
    if value > today:
        return None, DATE_IN_FUTURE
    if value.year < OLDEST_YEAR:
        return None, DATE_TOO_OLD
    return value, None


def parse_lookup(values: dict, today: date) -> LookupQuery:
    query = LookupQuery()
    query.dossier_number, number_error = parse_dossier_number(values.get(NUMBER_FIELD))
    query.birth_date, date_error = parse_birth_date(values.get(BIRTH_DATE_FIELD), today)
    if number_error:
        query.errors[NUMBER_FIELD] = number_error
    if date_error:
        query.errors[BIRTH_DATE_FIELD] = date_error
    return query
