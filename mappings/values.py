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
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Numeric, String

from core import models
from mappings import normalize

# Where each part of a MappedDossier is stored.
RECORD_TABLES = {
    "student": models.Student.__table__,
    "employer": models.Employer.__table__,
    "contract": models.Contract.__table__,
    "agent": models.Dossier.__table__,  # the agents' APT dates
}
# NUL is refused by PostgreSQL in any text; a lone surrogate cannot be encoded in UTF-8 at all.
_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class Limit:
    """What a column holds, read once from its SQL type."""

    length: int | None = None  # characters of a String
    digits: int | None = None  # digits before the point of a Numeric…
    scale: int = 0  # …and after it
    bits: int | None = None  # of an Integer or BigInteger


def limit_of_column(column: ColumnElement[Any] | None) -> Limit:
    kind = column.type if column is not None else None
    if isinstance(kind, String):
        return Limit(length=kind.length)
    if isinstance(kind, Numeric) and kind.precision:
        return Limit(digits=kind.precision - (kind.scale or 0), scale=kind.scale or 0)
    if isinstance(kind, Integer):  # BigInteger is an Integer
        return Limit(bits=64 if isinstance(kind, BigInteger) else 32)
    return Limit()


@cache
def limit_of(path: str) -> Limit:
    """The limit of a record attribute, "part.attribute" (e.g. "student.first_name")."""
    part, attribute = path.split(".")
    table = RECORD_TABLES.get(part)
    return limit_of_column(table.columns.get(attribute) if table is not None else None)


FILE_LIMITS = {column.name: limit_of_column(column) for column in models.DocumentFile.__table__.columns}
ISSUE_FIELD_LIMIT = limit_of_column(models.MappingIssue.__table__.columns["field"])


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


def fit(value, limit: Limit, code: bool = False) -> tuple[object, Problem | None]:
    """The value as its column can store it, and what was wrong with it (None when nothing was).

    Text too long is cut to the column (`code`: a code too long is no code, it is dropped);
    a number the column cannot hold is dropped.
    """
    if isinstance(value, str):
        length = limit.length
        if (
            (length is None or len(value) <= length)
            and _NUL not in value
            and (value.isascii() or not _SURROGATE.search(value))
        ):
            return value, None  # nearly always
        text, changed = clean_characters(value)
        problem = Problem("invalid_characters", "caractères invalides retirés") if changed else None
        if length and len(text) > length:
            if code:
                return None, Problem("invalid_value", f"valeur illisible « {quoted(text)} »")
            cut = f"texte de {len(text)} caractères tronqué à {length}"
            return text[:length].rstrip(), Problem("text_truncated", f"{problem.reason}, {cut}" if problem else cut)
        return text, problem
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None, Problem("invalid_number", f"valeur illisible « {value} »")
        if limit.digits is not None:
            try:
                rounded = value.quantize(Decimal(1).scaleb(-limit.scale))
            except InvalidOperation:  # more digits than the decimal context holds: far too big anyway
                rounded = None
            if rounded is None or abs(rounded) >= Decimal(10) ** limit.digits:
                return None, Problem("invalid_number", f"nombre hors limites « {quoted(value)} »")
        return value, None
    if isinstance(value, int) and not isinstance(value, bool) and limit.bits is not None:
        if not -(2 ** (limit.bits - 1)) <= value < 2 ** (limit.bits - 1):
            return None, Problem("invalid_number", f"nombre hors limites « {quoted(value)} »")
    return value, None


def outside(value: Decimal | None, bounds: dict | None) -> str | None:
    """Why a number is not plausible (rules.yaml `plausible_numbers`), or None."""
    if value is None or bounds is None:
        return None
    if bounds["min"] <= value <= bounds["max"]:
        return None
    unit = f" {bounds['unit']}" if bounds.get("unit") else ""
    return f"valeur invraisemblable « {quoted(value)} » (attendu de {bounds['min']} à {bounds['max']}{unit})"
