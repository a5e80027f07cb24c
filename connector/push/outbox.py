"""The outbox rows' moves: found or created for an intent, delivered, due again
(at once or after a back-off), failed for good."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from connector.push.intents import Intent
from connector.push.kinds import Parts
from connector.push.summary import PushSummary
from core import models
from core.models import OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = timedelta(minutes=5)  # before the second attempt of a refused mutation, doubled at each attempt
OWED = (OutboxStatus.PENDING, OutboxStatus.SENDING)  # still to be sent, or to be read back from DS


def row_for(
    session: Session, dossier_number: int, intent: Intent, rows: list[models.PushOutbox], now: datetime
) -> models.PushOutbox:
    """The dossier's row for this intent: the one already planned (even failed: not planned twice), or a new one."""
    for index, row in enumerate(rows):
        same = row.kind == intent.kind and row.payload_hash == intent.payload_hash
        if same and row.status in (*OWED, OutboxStatus.FAILED):
            merged = session.merge(row, load=True)
            rows[index] = merged
            return merged
    row = models.PushOutbox(
        dossier_number=dossier_number,
        kind=intent.kind,
        payload=intent.payload,
        payload_hash=intent.payload_hash,
        status=OutboxStatus.PENDING,
        attempts=0,
        client_mutation_id="",
        created_at=now,
    )
    session.add(row)
    rows.append(row)
    return row


def split_parts(
    session: Session,
    row: models.PushOutbox,
    parts: Parts,
    saved: set[str],
    error: str,
    now: datetime,
    summary: PushSummary,
    *,
    backoff: bool = True,
) -> None:
    """Some values of the row are on DS: those are delivered (a row of their
    own), only the others are sent again."""
    values = row.payload[parts.key]
    done = {parts.key: {k: v for k, v in values.items() if k in saved}}
    rest = {parts.key: {k: v for k, v in values.items() if k not in saved}}
    if done[parts.key]:
        session.add(
            models.PushOutbox(
                dossier_number=row.dossier_number,
                kind=row.kind,
                payload=done,
                payload_hash=Intent(row.kind, done).payload_hash,
                status=OutboxStatus.DELIVERED,
                attempts=row.attempts,
                client_mutation_id=row.client_mutation_id,
                created_at=row.created_at,
                delivered_at=now,
            )
        )
        summary.delivered += 1
    row.payload = rest
    row.payload_hash = Intent(row.kind, rest).payload_hash
    if backoff:
        retry_later(row, error, now, summary)
    else:
        resend(row, error, now, summary)


def retry_later(row: models.PushOutbox, error: str, now: datetime, summary: PushSummary) -> None:
    if row.attempts >= MAX_ATTEMPTS:
        mark(row, OutboxStatus.FAILED, error, now)
        summary.failed += 1
        log.error("push dossier %s %s failed after %d attempts: %s", row.dossier_number, row.kind, row.attempts, error)
        return
    row.status = OutboxStatus.PENDING
    row.last_error = error[:2000]
    row.next_attempt_at = now + BACKOFF * 2 ** (row.attempts - 1)
    summary.deferred += 1


def resend(row: models.PushOutbox, error: str, now: datetime, summary: PushSummary) -> None:
    """DS was read and the mutation is not there: due again at once."""
    if row.attempts >= MAX_ATTEMPTS:
        mark(row, OutboxStatus.FAILED, error, now)
        summary.failed += 1
        return
    row.status = OutboxStatus.PENDING
    row.last_error = error[:2000]
    row.next_attempt_at = None


def mark(row: models.PushOutbox, status: OutboxStatus, error: str | None, now: datetime) -> None:
    row.status = status
    row.last_error = error[:2000] if error else None
    if status == OutboxStatus.DELIVERED:
        row.delivered_at = now


def unsend(rows: list[models.PushOutbox]) -> None:
    """Marked `sending`, but the request never reached DS: as they were before."""
    for row in rows:
        row.status, row.attempts = OutboxStatus.PENDING, row.attempts - 1
