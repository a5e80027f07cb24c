"""The outbox rows' moves: found or created for an intent, delivered, due again
(at once or after a back-off), failed for good."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from connector.push.intents import Intent
from connector.push.summary import PushSummary
from core import models

if TYPE_CHECKING:
    from connector.push.pusher import Pusher

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def outbox_row(session: Session, dossier: models.Dossier, intent: Intent, rows: list[models.PushOutbox], now: datetime) -> models.PushOutbox:
    for index, row in enumerate(rows):
        if row.kind == intent.kind and row.payload_hash == intent.payload_hash and row.status in ("pending", "sending", "failed"):
            merged = session.merge(row, load=True)
            rows[index] = merged
            return merged
    row = models.PushOutbox(
        dossier_number=dossier.number,
        kind=intent.kind,
        payload=intent.payload,
        payload_hash=intent.payload_hash,
        status="pending",
        attempts=0,
        client_mutation_id="",
        created_at=now,
    )
    session.add(row)
    rows.append(row)
    return row


def split_annotations(pusher: Pusher, session: Session, row: models.PushOutbox, saved: set[str], error: str,
                       now: datetime, summary: PushSummary, *, backoff: bool = True) -> None:
    """Some values of the row are on DS: those are delivered (a row of their
    own), only the others are sent again."""
    values = row.payload["values"]
    done = {k: v for k, v in values.items() if k in saved}
    rest = {k: v for k, v in values.items() if k not in saved}
    if done:
        session.add(models.PushOutbox(
            dossier_number=row.dossier_number, kind="annotations", payload={"values": done},
            payload_hash=Intent("annotations", {"values": done}).payload_hash, status="delivered", attempts=row.attempts,
            client_mutation_id=row.client_mutation_id, created_at=row.created_at, delivered_at=now,
        ))
        summary.delivered += 1
    row.payload = {"values": rest}
    row.payload_hash = Intent("annotations", {"values": rest}).payload_hash
    if backoff:
        retry_later(pusher, session, row, error, now, summary)
    else:
        resend(session, row, error, now, summary)


def retry_later(pusher: Pusher, session: Session, row: models.PushOutbox, error: str, now: datetime, summary: PushSummary) -> None:
    if row.attempts >= MAX_ATTEMPTS:
        mark(session, row, "failed", error, now)
        summary.failed += 1
        log.error("push dossier %s %s failed after %d attempts: %s", row.dossier_number, row.kind, row.attempts, error)
        return
    row.status = "pending"
    row.last_error = error[:2000]
    row.next_attempt_at = now + pusher.backoff * 2 ** (row.attempts - 1)
    summary.deferred += 1


def resend(session: Session, row: models.PushOutbox, error: str, now: datetime, summary: PushSummary) -> None:
    """DS was read and the mutation is not there: due again at once."""
    if row.attempts >= MAX_ATTEMPTS:
        mark(session, row, "failed", error, now)
        summary.failed += 1
        return
    row.status = "pending"
    row.last_error = error[:2000]
    row.next_attempt_at = None


def mark(session: Session, row: models.PushOutbox, status: str, error: str | None, now: datetime) -> None:
    row.status = status
    row.last_error = error[:2000] if error else None
    if status == "delivered":
        row.delivered_at = now
