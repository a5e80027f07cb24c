"""Plain dossier snapshots for the pure rules' tests: every field with a dull default."""

from __future__ import annotations

from datetime import UTC, datetime

from core.snapshot import DossierSnapshot

DEFAULTS = dict(
    number=4242,
    demarche_number=1,
    ds_id="RG9zc2llci00MjQy",
    state="en_construction",
    removed=False,
    groupe_label=None,
    service=None,
    departement=None,
    employer_departement=None,
    target_groupe_label=None,
    routing_reason=None,
    out_of_scope=False,
    completeness_status=None,
    completed_at=None,
    rules_revision=None,
    findings=(),
    mapping_issues=(),
    date_depot=None,
    date_traitement=None,
    date_derniere_modification=datetime(2026, 1, 1, tzinfo=UTC),
    champs_modified_at=None,
    history=(),
    messages=(),
    usager_email=None,
    student_first_name=None,
    student_last_name=None,
    birth_date=None,
    permit_expiry=None,
    school=None,
    diploma=None,
    study_year=None,
    course_related=None,
    employer_email=None,
    company_name=None,
    siret=None,
    contract_start=None,
    contract_end=None,
    annual_hours=None,
    hours_year_start=None,
    hours_cap=None,
    hours_limit_kind=None,
    apt_start=None,
    apt_end=None,
)


def make_snapshot(**values) -> DossierSnapshot:
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"DossierSnapshot has no field {sorted(unknown)}")
    return DossierSnapshot(**{**DEFAULTS, **values})
