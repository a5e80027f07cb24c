"""Answer one public lookup: (dossier number, birth date) → in force / granted, not started yet / expired /
no published authorisation matches.

An authorisation is in force from its first day to its last, both included (docs/apt-validity-check.md).
A wrong birth date, an unknown number and a withdrawn record give the same
answer; and the same work is done in each case (one HMAC, one constant-time
comparison) so the response time does not tell them apart either.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.models import ValidityRecord, ValidityState
from validity.derive import birth_date_hash

# Compared against when the number is unknown, so that branch costs the same
# as a real comparison. No HMAC output can equal it: it is not hexadecimal.
_DUMMY_HASH = "x" * 64


class Outcome(str, enum.Enum):
    VALID = "valide"  # in force today
    NOT_STARTED = "accordee_a_venir"  # granted, in force from its start date only
    EXPIRED = "expiree"
    # Nothing published matches: a typing error, a request not decided, a record withdrawn… The service does not
    # know that the student has no authorisation, so the answer does not say so.
    NO_MATCH = "aucune_correspondance"


@dataclass(frozen=True)
class AuthorisationDetails:
    dossier_number: int
    start: date
    end: date
    siret: str | None
    employer_name: str | None
    masked_name: str


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    details: AuthorisationDetails | None = None  # only when a published authorisation matched


NO_MATCH = Answer(Outcome.NO_MATCH)


def answer_for(record: Row[Any], today: date) -> Answer:
    """The answer for a record (a row of validity_records) whose pair matched. The dates are checked here, against
    today: a record may have started or expired since the last sync."""
    if record.state == ValidityState.WITHDRAWN.value:
        return NO_MATCH
    if today < record.apt_start:
        outcome = Outcome.NOT_STARTED
    elif record.apt_end < today:
        outcome = Outcome.EXPIRED
    else:
        outcome = Outcome.VALID
    details = AuthorisationDetails(
        dossier_number=record.dossier_number,
        start=record.apt_start,
        end=record.apt_end,
        siret=record.siret,
        employer_name=record.employer_name,
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
        return NO_MATCH
    return answer_for(record, today)
