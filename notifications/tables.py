"""Notification outbox: one row per (scope, event, recipient), sent exactly once.

`scope` is "dossier:<number>" for messages about a dossier and
"service:<name>" for digests. The recipient is kept as a hash: the address
is read again from the dossier (or the service table) when sending, so the
outbox holds no personal data.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.models import Base

# pending → sending → sent | failed | cancelled; `sending` left behind by a
# crash is taken again after STALE_SENDING (at-least-once, see mailer docs).
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
BACKLOG_STATUSES = (PENDING, SENDING)


def recipient_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def dossier_scope(number: int) -> str:
    return f"dossier:{number}"


def service_scope(service: str) -> str:
    return f"service:{service}"


class Notification(Base):
    __tablename__ = "notification_outbox"
    __table_args__ = (
        UniqueConstraint("scope", "event", "recipient_hash", name="uq_notification_once"),
        Index("ix_notification_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(240))
    dossier_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    event: Mapped[str] = mapped_column(String(60))
    template: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))  # applicant | employer | agents
    recipient_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


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
