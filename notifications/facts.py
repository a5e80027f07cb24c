"""Plain snapshots of what the sync stored, for the pure event and digest rules.

This is the only module of the package that reads the dossier tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.models import DECIDED_STATES, Dossier



@dataclass(frozen=True)
class StateChangeFact:
    to_state: str
    occurred_at: datetime


@dataclass(frozen=True)
class MessageFact:
    sender_email: str
    created_at: datetime


@dataclass(frozen=True)
class DossierFacts:
    number: int
    demarche_number: int
    state: str
    service: str | None
    groupe_label: str | None
    usager_email: str | None
    employer_email: str | None
    student_first_name: str | None
    student_last_name: str | None
    company_name: str | None
    completeness_status: str | None
    completed_at: datetime | None
    date_depot: datetime | None
    date_traitement: datetime | None
    date_derniere_modification: datetime
    # DS dateDerniereModificationChamps: the applicant's last edit of the form (annotations and
    # messages do not move it, unlike dateDerniereModification).
    champs_modified_at: datetime | None
    history: tuple[StateChangeFact, ...]
    blocking_findings: tuple[str, ...]
    apt_start: date | None
    apt_end: date | None
    permit_expiry: date | None
    messages: tuple[MessageFact, ...]

    @property
    def is_decided(self) -> bool:
        return self.state in DECIDED_STATES

    def first_entered(self, state: str) -> datetime | None:
        times = [change.occurred_at for change in self.history if change.to_state == state]
        return min(times) if times else None

    def last_entered(self, state: str) -> datetime | None:
        times = [change.occurred_at for change in self.history if change.to_state == state]
        return max(times) if times else None

    def applicant_activity_at(self) -> datetime | None:
        """Last time the applicant acted: deposit, resubmission or form edit."""
        times = [t for t in (self.date_depot, self.last_entered("en_construction"), self.champs_modified_at) if t]
        return max(times) if times else None


def _parse_ds_datetime(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def messages_from_raw(raw: dict | None) -> tuple[MessageFact, ...]:
    """DS messages `{id email createdAt body}` kept in the raw JSON; the body is not needed."""
    out = []
    for message in (raw or {}).get("messages") or []:
        created_at = _parse_ds_datetime(message.get("createdAt"))
        if created_at and message.get("email"):
            out.append(MessageFact(sender_email=message["email"], created_at=created_at))
    return tuple(out)


def facts_of(dossier: Dossier) -> DossierFacts:
    student, employer = dossier.student, dossier.employer
    return DossierFacts(
        number=dossier.number,
        demarche_number=dossier.demarche_number,
        state=dossier.state,
        service=dossier.service,
        groupe_label=dossier.groupe_instructeur_label,
        usager_email=dossier.usager_email,
        employer_email=employer.email if employer else None,
        student_first_name=student.first_name if student else None,
        student_last_name=student.last_name if student else None,
        company_name=employer.company_name if employer else None,
        completeness_status=dossier.completeness_status,
        completed_at=dossier.completed_at,
        date_depot=dossier.date_depot,
        date_traitement=dossier.date_traitement,
        date_derniere_modification=dossier.date_derniere_modification,
        champs_modified_at=_parse_ds_datetime((dossier.raw or {}).get("dateDerniereModificationChamps")),
        history=tuple(StateChangeFact(c.to_state, c.occurred_at) for c in dossier.history),
        blocking_findings=tuple(f.message for f in dossier.findings if f.severity == "blocking"),
        apt_start=dossier.apt_start,
        apt_end=dossier.apt_end,
        permit_expiry=student.permit_expiry if student else None,
        messages=messages_from_raw(dossier.raw),
    )


def _live_dossiers():
    return (
        select(Dossier)
        .where(Dossier.deleted_at.is_(None), Dossier.hidden_at.is_(None))
        .options(
            selectinload(Dossier.student),
            selectinload(Dossier.employer),
            selectinload(Dossier.findings),
            selectinload(Dossier.history),
        )
        .order_by(Dossier.number)
    )


def iter_facts(session: Session, numbers: Iterable[int] | None = None, batch: int = 500) -> Iterator[DossierFacts]:
    """Facts of every live dossier (not trashed, not deleted), in batches to bound memory."""
    query = _live_dossiers()
    if numbers is not None:
        query = query.where(Dossier.number.in_(list(numbers)))
    last = None
    while True:
        page = query if last is None else query.where(Dossier.number > last)
        rows = session.scalars(page.limit(batch)).all()
        if not rows:
            return
        for dossier in rows:
            yield facts_of(dossier)
        last = rows[-1].number
        session.expunge_all()
