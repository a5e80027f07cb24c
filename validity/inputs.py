"""Parse and validate the two fields of a lookup; messages are in French.

Shared by the HTML form and the JSON endpoint so both accept and refuse the
same inputs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

NUMBER_FIELD = "numero"
BIRTH_DATE_FIELD = "date_naissance"

# DS dossier numbers are positive integers; 12 digits leaves ample room and
# keeps absurd values out of the database query.
_NUMBER = re.compile(r"[0-9]{1,12}")
_FRENCH_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MAX_LENGTH = 40

NUMBER_MISSING = "Indiquez le numéro de dossier."
NUMBER_INVALID = "Le numéro de dossier doit être composé uniquement de chiffres, par exemple 1234567."
DATE_MISSING = "Indiquez la date de naissance de l'étudiant."
DATE_INVALID = "La date de naissance doit être une date réelle au format JJ/MM/AAAA, par exemple 21/03/2001."


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
    if len(text) > _MAX_LENGTH or not _NUMBER.fullmatch(text) or int(text) == 0:
        return None, NUMBER_INVALID
    return int(text), None


def parse_birth_date(raw: object, today: date) -> tuple[date | None, str | None]:
    """JJ/MM/AAAA as people write it, or AAAA-MM-JJ as machines and
    `<input type=date>` send it."""
    text = _text(raw)
    if not text:
        return None, DATE_MISSING
    if len(text) > _MAX_LENGTH:
        return None, DATE_INVALID
    if match := _FRENCH_DATE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None, DATE_INVALID
    try:
        value = date(year, month, day)
    except ValueError:
        return None, DATE_INVALID
    if value.year < 1900 or value > today:
        return None, DATE_INVALID
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
