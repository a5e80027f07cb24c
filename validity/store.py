"""Keep the validity records in step with the local dossiers.

Called by the sync after each page (same session, same transaction, so a
record never runs ahead of its dossier). Both functions are idempotent: a
rerun with the same data changes nothing, `updated_at` included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from core.db import rows_changed
from core.models import Dossier, ValidityRecord, ValidityState
from core.settings import ValiditySettings
from core.snapshot import SNAPSHOT_LOADS, snapshot_of
from validity.derive import DerivedRecord, derive_record, past_retention

logger = logging.getLogger(__name__)

PUBLISHED_FIELDS = ("birth_date_hash", "masked_name", "siret", "employer_name", "apt_start", "apt_end", "state")


def _load_dossiers(session: Session, numbers: list[int]) -> dict[int, Dossier]:
    query = select(Dossier).where(Dossier.number.in_(numbers)).options(*SNAPSHOT_LOADS)
    return {dossier.number: dossier for dossier in session.scalars(query)}


def _load_records(session: Session, numbers: list[int]) -> dict[int, ValidityRecord]:
    query = select(ValidityRecord).where(ValidityRecord.dossier_number.in_(numbers))
    return {record.dossier_number: record for record in session.scalars(query)}


def _values(derived: DerivedRecord) -> dict:
    values = {name: getattr(derived, name) for name in PUBLISHED_FIELDS}
    values["state"] = derived.state.value
    return values


def _apply(record: ValidityRecord, values: dict, now: datetime) -> bool:
    changed = {name: value for name, value in values.items() if getattr(record, name) != value}
    for name, value in changed.items():
        setattr(record, name, value)
    if changed:
        record.updated_at = now
    return bool(changed)


def _withdraw(record: ValidityRecord | None, now: datetime) -> bool:
    if record is None or record.state == ValidityState.WITHDRAWN.value:
        return False
    record.state = ValidityState.WITHDRAWN.value
    record.updated_at = now
    return True


def refresh_validity(
    session: Session,
    dossier_numbers: Iterable[int],
    today: date,
    *,
    pepper: bytes,
    keep_days: int = ValiditySettings.keep_days,
) -> None:
    """Create, update or withdraw the record of each given dossier.

    A number with no local dossier (deleted) withdraws its record. An APT that ended more
    than `keep_days` ago is not created again after the purge removed it.
    """
    numbers = sorted(set(dossier_numbers))
    if not numbers:
        return
    if not pepper:
        raise ValueError("refresh_validity needs the pepper: hashes nobody could verify must not be published")
    now = datetime.now(UTC)
    dossiers = _load_dossiers(session, numbers)
    records = _load_records(session, numbers)
    counts = {"created": 0, "updated": 0, "withdrawn": 0}
    for number in numbers:
        dossier = dossiers.get(number)
        derived = derive_record(snapshot_of(dossier), pepper, today) if dossier else None
        record = records.get(number)
        if derived is None:
            counts["withdrawn"] += _withdraw(record, now)
        elif record is not None:
            counts["updated"] += _apply(record, _values(derived), now)
        elif not (derived.state is ValidityState.EXPIRED and past_retention(derived.apt_end, today, keep_days)):
            session.add(ValidityRecord(dossier_number=number, updated_at=now, **_values(derived)))
            counts["created"] += 1
    session.flush()
    if any(counts.values()):
        logger.info("validity records: %(created)d created, %(updated)d updated, %(withdrawn)d withdrawn", counts)


def refresh_all(session: Session, today: date, *, pepper: bytes, keep_days: int = ValiditySettings.keep_days) -> None:
    """Refresh every accepted dossier and every existing record, e.g. after
    the pepper was rotated (all hashes change) or on first deployment."""
    accepted = select(Dossier.number).where(Dossier.state == "accepte")
    published = select(ValidityRecord.dossier_number)
    numbers = set(session.scalars(accepted)) | set(session.scalars(published))
    refresh_validity(session, numbers, today, pepper=pepper, keep_days=keep_days)


def purge_expired(session: Session, today: date, keep_days: int) -> int:
    """Mark valid records whose end has passed as expired, then delete the
    expired ones ended more than `keep_days` ago and the withdrawn ones not
    touched for `keep_days`. Returns the number of records deleted."""
    now = datetime.now(UTC)
    session.execute(
        update(ValidityRecord)
        .where(ValidityRecord.state == ValidityState.VALID.value, ValidityRecord.apt_end < today)
        .values(state=ValidityState.EXPIRED.value, updated_at=now)
    )
    cutoff_day = date.fromordinal(today.toordinal() - keep_days)
    cutoff_time = datetime(cutoff_day.year, cutoff_day.month, cutoff_day.day, tzinfo=UTC)
    purged = (
        rows_changed(
            session,
            delete(ValidityRecord).where(
                or_(
                    (ValidityRecord.state == ValidityState.EXPIRED.value) & (ValidityRecord.apt_end < cutoff_day),
                    (ValidityRecord.state == ValidityState.WITHDRAWN.value) & (ValidityRecord.updated_at < cutoff_time),
                )
            ),
        )
        or 0
    )
    if purged:
        logger.info("validity records: %d purged", purged)
    return purged
