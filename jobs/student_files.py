"""Keep each student's file across dossiers in step with the local copy (mappings.student_file).

Called by the sync after each page, in the page's transaction, once the page's dossiers are evaluated and
written: one query gathers every live dossier sharing a birth date with the page's students (indexed), the
pure functions match them on the titre number too, and each dossier of a student the page touched gets its
file again. A dossier outside the page whose file changed (its student's new request adds hours) is marked
synced now, so that the next push takes its new annotation and label to DS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from core import models
from core.clock import utcnow
from mappings import student_file
from mappings.checks import Finding, Rules
from mappings.student_file import Request

log = logging.getLogger(__name__)


def _request(dossier: models.Dossier) -> Request:
    student, employer, contract = dossier.student, dossier.employer, dossier.contract
    return Request(
        number=dossier.number,
        state=dossier.state,
        demarche_number=dossier.demarche_number,
        permit_number=student.permit_number if student else None,
        birth_date=student.birth_date if student else None,
        siret=employer.siret if employer else None,
        contract_type=contract.contract_type if contract else None,
        job_title=contract.job_title if contract else None,
        start=contract.start if contract else None,
        end=contract.end if contract else None,
        hours_per_week=contract.hours_per_week if contract else None,
        monthly_salary=contract.monthly_gross_salary if contract else None,
        apt_start=dossier.apt_start,
        apt_end=dossier.apt_end,
        year_start=contract.hours_year_start if contract else None,
        year_hours=contract.annual_hours if contract else None,
        limit_hours=contract.hours_cap if contract else None,
        limit_kind=contract.hours_limit_kind if contract else None,
    )


def _gather(session: Session, numbers: list[int]) -> list[models.Dossier]:
    """Every dossier born on the day of one of these dossiers' students: one query (and its loads)."""
    births = select(models.Student.birth_date).where(
        models.Student.dossier_number.in_(numbers), models.Student.birth_date.is_not(None)
    )
    return list(
        session.scalars(
            select(models.Dossier)
            .join(models.Dossier.student)
            .outerjoin(models.Dossier.employer)
            .outerjoin(models.Dossier.contract)
            .where(models.Student.birth_date.in_(births))
            .options(
                contains_eager(models.Dossier.student),
                contains_eager(models.Dossier.employer),
                contains_eager(models.Dossier.contract),
                selectinload(models.Dossier.findings),
                selectinload(models.Dossier.mapping_issues),
            )
        ).unique()
    )


def _facts(findings) -> list[tuple]:
    return [(f.code, f.severity, f.field, f.message) for f in findings]


def refresh_student_files(session: Session, numbers: list[int], rules: Rules, now: Callable = utcnow) -> list[int]:
    """The files of these dossiers and of their students' other dossiers; returns the dossiers outside `numbers`
    whose file changed."""
    if not numbers:
        return []
    page = set(numbers)
    gathered = _gather(session, numbers)
    requests = {dossier.number: _request(dossier) for dossier in gathered}
    # A page's trashed dossier touches its student too: the others' files lose it.
    touched = {student_file.student_key(requests[n]) for n in page if n in requests} - {None}
    live = [d for d in gathered if d.deleted_at is None and d.hidden_at is None]
    stored = [requests[d.number] for d in live]
    writes, changed = [], []
    for dossier in live:
        request = requests[dossier.number]
        if dossier.number not in page and student_file.student_key(request) not in touched:
            continue  # a namesake by birth date only, or a student the page did not touch
        found = student_file.student_file(request, stored, rules)
        own = [Finding(f.code, f.severity, f.message, f.field) for f in dossier.findings]
        status = student_file.status_with_file(own, found.findings, [issue.code for issue in dossier.mapping_issues])
        before = (
            _facts(f for f in own if f.code in student_file.CODES),
            dossier.student_file,
            dossier.completeness_status,
        )
        if before == (_facts(found.findings), found.text, status):
            continue
        if dossier.number not in page:
            dossier.synced_at = now()
            changed.append(dossier.number)
        writes.append((dossier, found, status))
    if writes:
        session.execute(
            delete(models.Finding).where(
                models.Finding.dossier_number.in_([dossier.number for dossier, _, _ in writes]),
                models.Finding.code.in_(student_file.CODES),
            )
        )
    for dossier, found, status in writes:
        session.add_all(
            models.Finding(
                dossier_number=dossier.number,
                code=f.code,
                severity=f.severity,
                field=f.field,
                message=f.message,
                rules_revision=dossier.rules_revision,
            )
            for f in found.findings
        )
        session.expire(dossier, ["findings"])
        dossier.completeness_status = status
        dossier.student_file = found.text
    session.flush()
    return changed


def student_file_refresher(
    rules: Rules, then: Callable[[Session, list[int]], None] | None = None
) -> Callable[[Session, list[int]], None]:
    """The sync's `after_page`: the students' files first, then `then` (e.g. the validity records)."""

    def after_page(session: Session, numbers: list[int]) -> None:
        try:
            with session.begin_nested():  # a failure undoes the files only, never the page
                refresh_student_files(session, numbers, rules)
        except Exception as error:  # noqa: BLE001 — the files wait for the next page of these students
            # The type only: the message could quote personal data.
            log.error("students' files of %d dossiers not refreshed (%s)", len(numbers), type(error).__name__)
        if then is not None:
            then(session, numbers)

    return after_page
