"""Pure rules that turn a dossier's facts into its public validity record.

No database, clock or environment here: `store.py` gathers the facts and
the pepper, these functions decide.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from core.models import ValidityState
from core.snapshot import DossierSnapshot
from mappings import apt_period

ACCEPTED = "accepte"
MASK = "***"
VISIBLE_LETTERS = 2


@dataclass(frozen=True)
class Period:
    start: date
    end: date


@dataclass(frozen=True)
class DerivedRecord:
    dossier_number: int
    birth_date_hash: str
    masked_name: str
    siret: str | None
    employer_name: str | None
    apt_start: date
    apt_end: date
    state: ValidityState


def published_period(facts: DossierSnapshot) -> Period | None:
    """The APT period an employer may be told: the agents' own dates, exactly
    as entered, and only when the APT-period rule (`mappings.apt_period`)
    finds nothing wrong with them. Nothing is ever inferred from the
    contract: the validity check publishes decisions, not guesses.
    """
    problems = apt_period.period_problems(facts.apt_start, facts.apt_end, facts.permit_expiry, apt_period.max_months())
    if problems or facts.apt_start is None or facts.apt_end is None:  # a date missing is a problem
        return None
    return Period(facts.apt_start, facts.apt_end)


def _mask_word(word: str | None) -> str:
    letters = unicodedata.normalize("NFC", (word or "").strip())
    if not letters:
        return MASK
    # Never show a whole short name: at most all letters but one.
    visible = letters[: max(1, min(VISIBLE_LETTERS, len(letters) - 1))]
    return visible[0].upper() + visible[1:].lower() + MASK


def mask_name(first_name: str | None, last_name: str | None) -> str:
    """ "Karima Benali" → "Ka*** Be***": enough for the employer to recognise
    the employee, not enough to identify a stranger. The mask has a fixed
    length so it does not leak the length of the name."""
    return f"{_mask_word(first_name)} {_mask_word(last_name)}"


def birth_date_hash(pepper: bytes, dossier_number: int, birth_date: date) -> str:
    """HMAC-SHA256 of the (number, birth date) pair under the secret pepper.

    The number is in the message so a hash copied from one record matches no
    other record.
    """
    message = f"{dossier_number}:{birth_date.isoformat()}".encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def state_on(period: Period, today: date) -> ValidityState:
    return ValidityState.EXPIRED if period.end < today else ValidityState.VALID


def derive_record(facts: DossierSnapshot, pepper: bytes, today: date) -> DerivedRecord | None:
    """The record to publish for this dossier, or None when nothing may be
    published (not accepted, removed, no birth date, no valid agents' period): the store
    then withdraws any record it had."""
    if facts.state != ACCEPTED or facts.removed or facts.birth_date is None:
        return None
    period = published_period(facts)
    if period is None:
        return None
    return DerivedRecord(
        dossier_number=facts.number,
        birth_date_hash=birth_date_hash(pepper, facts.number, facts.birth_date),
        masked_name=mask_name(facts.student_first_name, facts.student_last_name),
        siret=facts.siret,
        employer_name=facts.company_name,
        apt_start=period.start,
        apt_end=period.end,
        state=state_on(period, today),
    )


def past_retention(end: date, today: date, keep_days: int) -> bool:
    """An expired record is kept `keep_days` after its end, then purged."""
    return end + timedelta(days=keep_days) < today
