"""Exactly-once delivery through the notification outbox.

The row is written (pending) before any send; a send is preceded by a
claim (pending → sending, attempts + 1) in its own transaction and followed
by the outcome in another. A crash between the SMTP acceptance and the
outcome's commit leaves the row `sending`: after STALE_SENDING it is taken
again, so that edge is at-least-once (one possible duplicate, with the same
Message-ID), never a lost message.

A mail server that refuses every message is not a batch of bad addresses
(docs/mail-refusals.md): the same refusal, not about the recipient, for
SYSTEMIC_REFUSALS different recipients in a row stops the batch, keeps those
messages due without charging them an attempt, and alerts the team.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from core.db import rows_changed, transaction
from core.models import BACKLOG_STATUSES, CANCELLED, FAILED, PENDING, SENDING, SENT, Notification
from mail.mailer import (
    Mailer,
    MailerUnavailable,
    PermanentDeliveryError,
    TransientDeliveryError,
    redact_addresses,
)

log = logging.getLogger(__name__)

STALE_SENDING = timedelta(minutes=15)
# Different recipients refused in a row with the same reply, not about them: the server refuses us.
SYSTEMIC_REFUSALS = 3
# The start of `last_error` of the messages kept due by such a stop (mail.alerts reads them).
KEPT_BY_REFUSAL = "kept due: the mail server refused every message with"


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
    counts = dict(session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all())
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
    refused_by_server: str | None = None  # the reply of a server refusing every message (batch stopped)
    kept: int = 0  # messages that reply kept due, not charged an attempt
    sent_by_message: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"sent={self.sent} retry={self.retried} failed={self.failed} cancelled={self.cancelled}"
        if self.refused_by_server:
            text += f" smtp=refusing every message ({self.refused_by_server}; {self.kept} kept due)"
        return text + (" smtp=unavailable" if self.unavailable else "")


class RefusalAlert(Protocol):
    """Tells the team the mail server refuses every message (mail.alerts)."""

    def __call__(
        self, factory: sessionmaker[Session], mailer: Mailer, now: datetime, reply: str, kept: int
    ) -> None: ...

    def send_due(self, factory: sessionmaker[Session], mailer: Mailer, now: datetime) -> None: ...


@dataclass
class _Refusals:
    """The messages refused in a row with the same reply, not about their recipient,
    held `sending` until it is known whether the server refuses them all."""

    reply: str | None = None
    rows: list[Notification] = field(default_factory=list)

    def recipients(self) -> int:
        return len({row.recipient_hash for row in self.rows})


def _insert(session: Session):
    return (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(Notification)


def enqueue(session: Session, entries: Iterable[OutboxEntry], now: datetime) -> int:
    """Insert the rows not yet in the outbox; returns how many are new."""
    created = 0
    for entry in entries:
        statement = (
            _insert(session)
            .values(**asdict(entry), status=PENDING, attempts=0, created_at=now, next_attempt_at=now)
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
    claimed = rows_changed(
        session,
        update(Notification)
        .where(Notification.id == row_id, _claimable(now))
        .values(status=SENDING, claimed_at=now, attempts=Notification.attempts + 1),
    )
    return claimed == 1


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
    alert: RefusalAlert | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    refusals = _Refusals()
    policy = (now, max_attempts, retry_base_seconds)
    if alert is not None:
        alert.send_due(factory, mailer, now)
    with factory() as session:
        candidates = due_ids(session, now, scope_prefix)
    for row_id in candidates:
        with transaction(factory) as session:
            if not _claim(session, row_id, now):
                continue  # another process took it
        if not _deliver_one(factory, mailer, compose, row_id, policy, report, refusals):
            break
    else:
        _settle_refusals(factory, refusals, policy, report)  # too few in a row to be the server's
    if report.refused_by_server:
        log.error(
            "mail server refuses every message (%s): batch stopped, %d message(s) kept due, %s",
            report.refused_by_server,
            report.kept,
            "the team is alerted" if alert else "no alert",
        )
        if alert is not None:
            alert(factory, mailer, now, report.refused_by_server, report.kept)
    return report


def _deliver_one(factory, mailer, compose, row_id, policy, report, refusals: _Refusals) -> bool:
    """Send one claimed row and record the outcome; False stops the batch."""
    now, max_attempts, retry_base_seconds = policy
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
        if not error.about_recipient:
            return _refused(factory, row, str(error), policy, report, refusals)
        log.warning("notification %s (%s, %s) refused permanently: %s", row_id, row.template, row.role, error)
        _record(factory, row_id, status=FAILED, last_error=str(error))
        report.failed += 1
        return True
    except MailerUnavailable as error:
        # The server, not the message, is the problem: the attempt does not count.
        log.warning("mail server unavailable, stopping this batch: %s", error)
        for held in [*refusals.rows, row]:
            _record(
                factory,
                held.id,
                status=PENDING,
                last_error=str(error),
                attempts=held.attempts - 1,
                next_attempt_at=now + retry_delay(1, retry_base_seconds),
            )
        refusals.rows.clear()
        report.unavailable = True
        return False
    _settle_refusals(factory, refusals, policy, report)  # one got through: those were about the message
    _record(factory, row_id, status=SENT, last_error=None, sent_at=now)
    report.sent += 1
    name = f"{row.template}:{row.role}"
    report.sent_by_message[name] = report.sent_by_message.get(name, 0) + 1
    return True


def _refused(factory, row, reply: str, policy, report, refusals: _Refusals) -> bool:
    """A refusal not about the recipient: held until it is known whether it is the server refusing them all."""
    now, _, retry_base_seconds = policy
    if refusals.reply != reply:
        _settle_refusals(factory, refusals, policy, report)
        refusals.reply = reply
    refusals.rows.append(row)
    if refusals.recipients() < SYSTEMIC_REFUSALS:
        return True
    for held in refusals.rows:
        _record(
            factory,
            held.id,
            status=PENDING,
            last_error=f"{KEPT_BY_REFUSAL} {reply}",
            attempts=held.attempts - 1,
            next_attempt_at=now + retry_delay(1, retry_base_seconds),
        )
    report.refused_by_server, report.kept = reply, len(refusals.rows)
    refusals.rows.clear()
    return False


def _settle_refusals(factory, refusals: _Refusals, policy, report) -> None:
    """The refusals held were each about its message: retried later like a 4xx, failed after max_attempts."""
    now, max_attempts, retry_base_seconds = policy
    for held in refusals.rows:
        log.warning("notification %s (%s, %s) refused: %s", held.id, held.template, held.role, refusals.reply)
        _reschedule(factory, held, now, refusals.reply, max_attempts, retry_base_seconds, report)
    refusals.rows.clear()
    refusals.reply = None


def _reschedule(factory, row, now, error, max_attempts, retry_base_seconds, report) -> None:
    error = redact_addresses(error)
    if row.attempts >= max_attempts:
        _record(factory, row.id, status=FAILED, last_error=f"gave up after {row.attempts} attempts: {error}")
        report.failed += 1
        return
    _record(
        factory,
        row.id,
        status=PENDING,
        last_error=error,
        next_attempt_at=now + retry_delay(row.attempts, retry_base_seconds),
    )
    report.retried += 1


def _record(factory, row_id: int, **values) -> None:
    with transaction(factory) as session:
        session.execute(update(Notification).where(Notification.id == row_id).values(**values))
