"""What a mapped value must be before it goes into a record: text without NUL
or lone surrogates, no longer than its column, numbers finite and small
enough for their column. The limits are read from the SQL model (core.models),
so a column changed there changes them here.

Each function returns the value to keep and, when it had to change it, the
reason in French for the MappingIssue; it never raises.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import BigInteger, Column, Integer, Numeric, String

from core import models
from mappings import normalize

# Where each part of a MappedDossier is stored.
RECORD_TABLES = {
    "student": models.Student.__table__,
    "employer": models.Employer.__table__,
    "contract": models.Contract.__table__,
    "agent": models.Dossier.__table__,  # the agents' APT dates
}
FILE_COLUMNS = models.DocumentFile.__table__.columns
ISSUE_COLUMNS = models.MappingIssue.__table__.columns
# NUL is refused by PostgreSQL in any text; a lone surrogate cannot be encoded in UTF-8 at all.
_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def column_of(part: str, attribute: str) -> Column | None:
    table = RECORD_TABLES.get(part)
    if table is None:
        return None
    return table.columns.get(attribute)


def clean_characters(text: str) -> tuple[str, bool]:
    """NUL removed, lone surrogates replaced by U+FFFD; True when something was changed."""
    if _NUL not in text and not _SURROGATE.search(text):
        return text, False
    return _SURROGATE.sub(REPLACEMENT, text.replace(_NUL, "")), True


def printable(text: str) -> str:
    return clean_characters(text)[0]


def quoted(value) -> str:
    """A value as an issue message quotes it: cleaned and cut short (a message never carries 10,000 characters)."""
    return normalize.quoted(printable(str(value)))


@dataclass(frozen=True)
class Problem:
    code: str  # the MappingIssue code
    reason: str  # French, after « champ » :


def fit(value, column: Column | None, code: bool = False) -> tuple[object, Problem | None]:
    """The value as its column can store it, and what was wrong with it (None when nothing was).

    Text too long is cut to the column (`code`: a code too long is no code, it is dropped);
    a number the column cannot hold is dropped.
    """
    if value is None or isinstance(value, bool):
        return value, None
    kind = column.type if column is not None else None
    if isinstance(value, str):
        text, changed = clean_characters(value)
        problem = Problem("invalid_characters", "caractères invalides retirés") if changed else None
        length = kind.length if isinstance(kind, String) else None
        if length and len(text) > length:
            if code:
                return None, Problem("invalid_value", f"valeur illisible « {quoted(text)} »")
            cut = f"texte de {len(text)} caractères tronqué à {length}"
            return text[:length].rstrip(), Problem("text_truncated", f"{problem.reason}, {cut}" if problem else cut)
        return text, problem
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None, Problem("invalid_number", f"valeur illisible « {value} »")
        if isinstance(kind, Numeric) and kind.precision:
            scale = kind.scale or 0
            try:
                rounded = value.quantize(Decimal(1).scaleb(-scale))
            except InvalidOperation:  # more digits than the decimal context holds: far too big anyway
                rounded = None
            if rounded is None or abs(rounded) >= Decimal(10) ** (kind.precision - scale):
                return None, Problem("invalid_number", f"nombre hors limites « {quoted(value)} »")
        return value, None
    if isinstance(value, int) and isinstance(kind, (Integer, BigInteger)):
        low, high = _range_of(kind)
        if not low <= value <= high:
            return None, Problem("invalid_number", f"nombre hors limites « {quoted(value)} »")
    return value, None


def _range_of(kind) -> tuple[int, int]:
    bits = 64 if isinstance(kind, BigInteger) else 32
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def outside(value: Decimal | None, bounds: dict | None) -> str | None:
    """Why a number is not plausible (rules.yaml `plausible_numbers`), or None."""
    if value is None or bounds is None:
        return None
    if bounds["min"] <= value <= bounds["max"]:
        return None
    unit = f" {bounds['unit']}" if bounds.get("unit") else ""
    return (f"valeur invraisemblable « {quoted(value)} » (attendu de {bounds['min']} à "
            f"{bounds['max']}{unit})")
