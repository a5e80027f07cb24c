"""Answer one public lookup: (dossier number, birth date) → valide / non valide / expirée.

A wrong birth date, an unknown number and a withdrawn record give the same
answer; and the same work is done in each case (one HMAC, one constant-time
comparison) so the response time does not tell them apart either.
"""
from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from validity.derive import birth_date_hash
from core.models import ValidityRecord, ValidityState

# Compared against when the number is unknown, so that branch costs the same
# as a real comparison. No HMAC output can equal it: it is not hexadecimal.
_DUMMY_HASH = "x" * 64


class Outcome(str, enum.Enum):
    VALID = "valide"
    NOT_VALID = "non_valide"
    EXPIRED = "expiree"


@dataclass(frozen=True)
class AuthorisationDetails:
    dossier_number: int
    start: date
    end: date
    siret: str | None
    masked_name: str


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    details: AuthorisationDetails | None = None  # only for valid or expired


NOT_VALID = Answer(Outcome.NOT_VALID)


def answer_for(record: ValidityRecord, today: date) -> Answer:
    """The answer for a record whose pair matched. The end date is checked
    here too: a record may have expired since the last sync."""
    if record.state == ValidityState.WITHDRAWN.value:
        return NOT_VALID
    outcome = Outcome.EXPIRED if record.apt_end < today else Outcome.VALID
    details = AuthorisationDetails(
        dossier_number=record.dossier_number,
        start=record.apt_start,
        end=record.apt_end,
        siret=record.siret,
        masked_name=record.masked_name,
    )
    return Answer(outcome, details)


_RECORDS = ValidityRecord.__table__


def lookup(session: Session, pepper: bytes, dossier_number: int, birth_date: date, today: date) -> Answer:
    # A plain row, not an ORM object: building one only when the number is
    # known was work a miss skipped, and time that told the two misses apart.
    record = session.execute(select(_RECORDS).where(_RECORDS.c.dossier_number == dossier_number)).first()
    given = birth_date_hash(pepper, dossier_number, birth_date)
    stored = record.birth_date_hash if record is not None else _DUMMY_HASH
    matches = hmac.compare_digest(given.encode(), stored.encode())
    if record is None or not matches:
        return NOT_VALID
    return answer_for(record, today)
