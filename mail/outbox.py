"""Exactly-once delivery through the notification outbox.

The row is written (pending) before any send; a send is preceded by a
claim (pending → sending, attempts + 1) in its own transaction and followed
by the outcome in another. A crash between the SMTP acceptance and the
outcome's commit leaves the row `sending`: after STALE_SENDING it is taken
again, so that edge is at-least-once (one possible duplicate, with the same
Message-ID), never a lost message.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Callable, Iterable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from mail.mailer import (
    Mailer,
    MailerUnavailable,
    PermanentDeliveryError,
    TransientDeliveryError,
    redact_addresses,
)
from core.models import BACKLOG_STATUSES, CANCELLED, FAILED, PENDING, SENDING, SENT, Notification

log = logging.getLogger(__name__)

STALE_SENDING = timedelta(minutes=15)


def recipient_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def dossier_scope(number: int) -> str:
    return f"dossier:{number}"


def service_scope(service: str) -> str:
    return f"service:{service}"




@dataclass(frozen=True)
class Backlog:
    name: str
    pending: int
    failed: int


def backlog(session: Session) -> Backlog:
    """Counts for `wif status`."""
    counts = dict(
        session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    )
    return Backlog(
        name="notifications",
        pending=sum(counts.get(status, 0) for status in BACKLOG_STATUSES),
        failed=counts.get(FAILED, 0),
    )


@dataclass(frozen=True)
class OutboxEntry:
    scope: str
    dossier_number: int | None
    event: str
    template: str
    role: str
    recipient_hash: str


class Cancel(Exception):
    """Raised by a composer: the message no longer applies (state moved on, address changed)."""


# Builds the e-mail of a row, reading current data; raises Cancel when it no longer applies.
Composer = Callable[[Session, Notification], EmailMessage]


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    unavailable: bool = False
    sent_by_message: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"sent={self.sent} retry={self.retried} failed={self.failed} cancelled={self.cancelled}"
        return text + (" smtp=unavailable" if self.unavailable else "")


def _insert(session: Session):
    return (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(Notification)


def enqueue(session: Session, entries: Iterable[OutboxEntry], now: datetime) -> int:
    """Insert the rows not yet in the outbox; returns how many are new."""
    created = 0
    for entry in entries:
        statement = (
            _insert(session)
            .values(
                **asdict(entry), status=PENDING, attempts=0, created_at=now, next_attempt_at=now
            )
            .on_conflict_do_nothing(index_elements=["scope", "event", "recipient_hash"])
            .returning(Notification.id)
        )
        # rowcount is not reliable for ON CONFLICT on every driver; RETURNING is.
        created += len(session.execute(statement).all())
    return created


def _claimable(now: datetime):
    return or_(
        and_(Notification.status == PENDING, Notification.next_attempt_at <= now),
        and_(Notification.status == SENDING, Notification.claimed_at < now - STALE_SENDING),
    )


def due_ids(session: Session, now: datetime, scope_prefix: str | None = None, limit: int = 1000) -> list[int]:
    query = select(Notification.id).where(_claimable(now)).order_by(Notification.id).limit(limit)
    if scope_prefix:
        query = query.where(Notification.scope.startswith(scope_prefix))
    return list(session.scalars(query))


def _claim(session: Session, row_id: int, now: datetime) -> bool:
    result = session.execute(
        update(Notification)
        .where(Notification.id == row_id, _claimable(now))
        .values(status=SENDING, claimed_at=now, attempts=Notification.attempts + 1)
    )
    return result.rowcount == 1


def retry_delay(attempts: int, base_seconds: int) -> timedelta:
    return timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0))


def deliver(
    factory: sessionmaker[Session],
    mailer: Mailer,
    compose: Composer,
    now: datetime,
    *,
    max_attempts: int,
    retry_base_seconds: int,
    scope_prefix: str | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    with factory() as session:
        candidates = due_ids(session, now, scope_prefix)
    for row_id in candidates:
        with transaction(factory) as session:
            if not _claim(session, row_id, now):
                continue  # another process took it
        if not _deliver_one(factory, mailer, compose, row_id, now, max_attempts, retry_base_seconds, report):
            break
    return report


def _deliver_one(factory, mailer, compose, row_id, now, max_attempts, retry_base_seconds, report) -> bool:
    """Send one claimed row and record the outcome; False stops the batch."""
    with factory() as session:
        row = session.get(Notification, row_id)
        try:
            message = compose(session, row)
        except Cancel as reason:
            _record(factory, row_id, status=CANCELLED, last_error=str(reason))
            report.cancelled += 1
            return True
        except Exception as error:  # a bug in composing must not lose the row nor stop the others
            log.exception("notification %s: cannot compose %s", row_id, row.template)
            _reschedule(factory, row, now, f"compose: {type(error).__name__}", max_attempts, retry_base_seconds, report)
            return True
    try:
        mailer.send(message)
    except TransientDeliveryError as error:
        _reschedule(factory, row, now, str(error), max_attempts, retry_base_seconds, report)
        return True
    except PermanentDeliveryError as error:
        log.warning("notification %s (%s, %s) refused permanently: %s", row_id, row.template, row.role, error)
        _record(factory, row_id, status=FAILED, last_error=str(error))
        report.failed += 1
        return True
    except MailerUnavailable as error:
        # The server, not the message, is the problem: the attempt does not count.
        log.warning("mail server unavailable, stopping this batch: %s", error)
        _record(factory, row_id, status=PENDING, last_error=str(error), attempts=row.attempts - 1,
                next_attempt_at=now + retry_delay(1, retry_base_seconds))
        report.unavailable = True
        return False
    _record(factory, row_id, status=SENT, last_error=None, sent_at=now)
    report.sent += 1
    name = f"{row.template}:{row.role}"
    report.sent_by_message[name] = report.sent_by_message.get(name, 0) + 1
    return True


def _reschedule(factory, row, now, error, max_attempts, retry_base_seconds, report) -> None:
    error = redact_addresses(error)
    if row.attempts >= max_attempts:
        _record(factory, row.id, status=FAILED, last_error=f"gave up after {row.attempts} attempts: {error}")
        report.failed += 1
        return
    _record(factory, row.id, status=PENDING, last_error=error,
            next_attempt_at=now + retry_delay(row.attempts, retry_base_seconds))
    report.retried += 1


def _record(factory, row_id: int, **values) -> None:
    with transaction(factory) as session:
        session.execute(update(Notification).where(Notification.id == row_id).values(**values))
