"""Synthetic dossiers for the notification, digest and scheduler tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.models import Dossier, Employer, Finding, StateChange, Student

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def days_ago(days: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


def add_dossier(
    session,
    number: int,
    *,
    state: str = "en_construction",
    history: list[tuple[str, datetime]] | None = None,
    usager_email: str | None = "etudiant{n}@example.org",
    employer_email: str | None = "rh{n}@entreprise.example",
    first_name: str = "Amina",
    last_name: str = "Testeuse",
    company_name: str = "Société Exemple",
    completeness_status: str | None = None,
    completed_at: datetime | None = None,
    blocking: list[str | tuple[str, str, str | None]] = (),  # a message, or (code, message, field)
    warnings: list[str] = (),
    apt_start: date | None = None,
    apt_end: date | None = None,
    permit_expiry: date | None = date(2027, 9, 30),
    messages: list[dict] = (),
    service: str | None = "MOE Paris",
    demarche_number: int = 1,
    last_modified: datetime | None = None,
    champs_modified_at: datetime | None = None,
) -> Dossier:
    history = history if history is not None else [("en_construction", days_ago(1))]
    times = [when for _, when in history]
    decided = [when for to_state, when in history if to_state in ("accepte", "refuse", "sans_suite")]
    dossier = Dossier(
        number=number,
        ds_id=f"RG9zc2llci0{number}",
        demarche_number=demarche_number,
        state=state,
        date_depot=min(times) if times else None,
        date_traitement=max(decided) if decided else None,
        date_derniere_modification=last_modified or (max(times) if times else NOW),
        usager_email=usager_email.format(n=number) if usager_email else None,
        completeness_status=completeness_status,
        completed_at=completed_at,
        apt_start=apt_start,
        apt_end=apt_end,
        service=service,
        groupe_instructeur_label=f"{service} – groupe" if service else None,
        raw={
            "number": number,
            "messages": list(messages),
            "dateDerniereModificationChamps": champs_modified_at.isoformat() if champs_modified_at else None,
        },
        synced_at=NOW,
    )
    dossier.student = Student(first_name=first_name, last_name=last_name, permit_expiry=permit_expiry)
    dossier.employer = Employer(
        company_name=company_name, email=employer_email.format(n=number) if employer_email else None
    )
    previous = None
    for to_state, when in history:
        dossier.history.append(
            StateChange(from_state=previous, to_state=to_state, event=None, occurred_at=when, observed_at=NOW)
        )
        previous = to_state
    for item in blocking:
        code, message, field = item if isinstance(item, tuple) else ("missing", item, None)
        dossier.findings.append(
            Finding(code=code, severity="blocking", message=message, field=field, rules_revision="t")
        )
    for message in warnings:
        dossier.findings.append(Finding(code="warn", severity="warning", message=message, rules_revision="t"))
    session.add(dossier)
    return dossier
