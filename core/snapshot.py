"""One plain, read-only snapshot of a stored dossier: what push, the
notifications and the validity check read, so that their rules stay pure
functions over plain values. This is the only mapper from the dossier rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from core.models import DECIDED_STATES, Dossier


@dataclass(frozen=True)
class FindingFact:
    code: str
    severity: str  # blocking | warning
    message: str
    field: str | None = None


@dataclass(frozen=True)
class IssueFact:
    """What the mapping could not read as the procedure says (mapping_issues)."""

    code: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class StateChangeFact:
    to_state: str
    occurred_at: datetime


@dataclass(frozen=True)
class MessageFact:
    sender_email: str
    created_at: datetime


@dataclass(frozen=True)
class DossierSnapshot:
    number: int
    demarche_number: int
    ds_id: str
    state: str
    removed: bool  # in the trash or permanently deleted on DS
    groupe_label: str | None  # the groupe instructeur on DS, as last fetched
    # Routing and completeness, as the rules left them.
    service: str | None
    departement: str | None
    employer_departement: str | None
    target_groupe_label: str | None
    routing_reason: str | None
    out_of_scope: bool
    completeness_status: str | None
    completed_at: datetime | None
    rules_revision: str | None
    findings: tuple[FindingFact, ...]
    mapping_issues: tuple[IssueFact, ...]
    # Dates on DS.
    date_depot: datetime | None
    date_traitement: datetime | None
    date_derniere_modification: datetime
    # dateDerniereModificationChamps: the applicant's last edit of the form
    # (annotations and messages do not move it, unlike dateDerniereModification).
    champs_modified_at: datetime | None
    history: tuple[StateChangeFact, ...]
    messages: tuple[MessageFact, ...]
    # People and contract.
    usager_email: str | None
    student_first_name: str | None
    student_last_name: str | None
    birth_date: date | None
    permit_expiry: date | None
    # The cursus, and the applicant's answer on the job's link with it.
    school: str | None
    diploma: str | None
    study_year: str | None
    course_related: bool | None
    employer_email: str | None
    company_name: str | None
    siret: str | None
    contract_start: date | None
    contract_end: date | None
    annual_hours: Decimal | None  # of the busiest titre year, from `hours_year_start`
    hours_year_start: date | None
    hours_cap: Decimal | None
    hours_limit_kind: str | None  # threshold | ceiling
    # The agents' APT period, from the private annotations.
    apt_start: date | None
    apt_end: date | None
    # The annotation « Dossier de l'étudiant », as the last sync left it (None: never computed).
    student_file: str | None = None

    @property
    def is_decided(self) -> bool:
        return self.state in DECIDED_STATES

    @property
    def blocking_findings(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity == "blocking")

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


def _aware(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _messages(raw: dict) -> tuple[MessageFact, ...]:
    """DS messages `{email createdAt}` kept in the raw JSON; the body is not needed."""
    out = []
    for message in raw.get("messages") or []:
        created_at = _aware(message.get("createdAt"))
        if created_at and message.get("email"):
            out.append(MessageFact(sender_email=message["email"], created_at=created_at))
    return tuple(out)


def snapshot_of(dossier: Dossier) -> DossierSnapshot:
    student, employer, contract, raw = dossier.student, dossier.employer, dossier.contract, dossier.raw or {}
    return DossierSnapshot(
        number=dossier.number,
        demarche_number=dossier.demarche_number,
        ds_id=dossier.ds_id,
        state=dossier.state,
        removed=dossier.deleted_at is not None or dossier.hidden_at is not None,
        groupe_label=dossier.groupe_instructeur_label,
        service=dossier.service,
        departement=dossier.departement,
        employer_departement=dossier.employer_departement,
        target_groupe_label=dossier.target_groupe_label,
        routing_reason=dossier.routing_reason,
        out_of_scope=bool(dossier.out_of_scope),
        completeness_status=dossier.completeness_status,
        completed_at=dossier.completed_at,
        rules_revision=dossier.rules_revision,
        findings=tuple(FindingFact(f.code, f.severity, f.message, f.field) for f in dossier.findings),
        mapping_issues=tuple(IssueFact(issue.code, issue.message, issue.field) for issue in dossier.mapping_issues),
        date_depot=dossier.date_depot,
        date_traitement=dossier.date_traitement,
        date_derniere_modification=dossier.date_derniere_modification,
        champs_modified_at=_aware(raw.get("dateDerniereModificationChamps")),
        history=tuple(StateChangeFact(c.to_state, c.occurred_at) for c in dossier.history),
        messages=_messages(raw),
        usager_email=dossier.usager_email,
        student_first_name=student.first_name if student else None,
        student_last_name=student.last_name if student else None,
        birth_date=student.birth_date if student else None,
        permit_expiry=student.permit_expiry if student else None,
        school=student.school if student else None,
        diploma=student.diploma if student else None,
        study_year=student.study_year if student else None,
        course_related=contract.course_related if contract else None,
        employer_email=employer.email if employer else None,
        company_name=employer.company_name if employer else None,
        siret=employer.siret if employer else None,
        contract_start=contract.start if contract else None,
        contract_end=contract.end if contract else None,
        annual_hours=contract.annual_hours if contract else None,
        hours_year_start=contract.hours_year_start if contract else None,
        hours_cap=contract.hours_cap if contract else None,
        hours_limit_kind=contract.hours_limit_kind if contract else None,
        apt_start=dossier.apt_start,
        apt_end=dossier.apt_end,
        student_file=dossier.student_file,
    )


# Everything snapshot_of reads, loaded with the dossiers in a few queries.
SNAPSHOT_LOADS = (
    selectinload(Dossier.student),
    selectinload(Dossier.employer),
    selectinload(Dossier.contract),
    selectinload(Dossier.findings),
    selectinload(Dossier.mapping_issues),
    selectinload(Dossier.history),
)


def iter_snapshots(
    session: Session, numbers: Iterable[int] | None = None, batch: int = 500
) -> Iterator[DossierSnapshot]:
    """Snapshots of every live dossier (not trashed, not deleted), in batches to bound memory."""
    query = (
        select(Dossier)
        .where(Dossier.deleted_at.is_(None), Dossier.hidden_at.is_(None))
        .options(*SNAPSHOT_LOADS)
        .order_by(Dossier.number)
    )
    if numbers is not None:
        query = query.where(Dossier.number.in_(list(numbers)))
    last = None
    while True:
        page = query if last is None else query.where(Dossier.number > last)
        rows = session.scalars(page.limit(batch)).all()
        if not rows:
            return
        for dossier in rows:
            yield snapshot_of(dossier)
        last = rows[-1].number
        session.expunge_all()


@dataclass(frozen=True)
class DelayFact:
    """One deposited dossier, decided or not: what the expected delays are computed from."""

    service: str | None
    state: str
    deposited_at: datetime | None
    decided_at: datetime | None


def delay_cohort(session: Session, since: datetime) -> list[DelayFact]:
    """Live dossiers (not trashed, not deleted) deposited since `since`, and those deposited earlier that still
    wait for a decision, in a single query."""
    rows = session.execute(
        select(Dossier.service, Dossier.state, Dossier.date_depot, Dossier.date_traitement).where(
            Dossier.date_depot.is_not(None),
            Dossier.deleted_at.is_(None),
            Dossier.hidden_at.is_(None),
            or_(Dossier.date_depot >= since, Dossier.state.not_in(sorted(DECIDED_STATES))),
        )
    )
    return [DelayFact(*row) for row in rows]
