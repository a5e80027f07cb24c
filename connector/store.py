"""Writes a DS dossier and the rows the domain computed for it (mapped
records, routing, findings) to the local SQL model. Upserts are keyed by the
dossier number, so a page written twice leaves the database as it was after
the first time.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import models
from connector.datetimes import parse_ds_datetime

# DS traitement events → the state the dossier is in after them (NOTES §9).
EVENT_STATES = {
    "depose": "en_construction",
    "depose_correction_usager": "en_construction",
    "depose_correction_instructeur": "en_construction",
    "repasse_en_construction": "en_construction",
    "passe_en_instruction": "en_instruction",
    "passe_en_instruction_automatiquement": "en_instruction",
    "repasse_en_instruction": "en_instruction",
    "accepte": "accepte",
    "accepte_automatiquement": "accepte",
    "refuse": "refuse",
    "refuse_automatiquement": "refuse",
    "classe_sans_suite": "sans_suite",
}


def is_unchanged(dossier: models.Dossier, raw: dict) -> bool:
    """Same number and same dateDerniereModification: the rescan's dedup key."""
    return (
        dossier.date_derniere_modification == parse_ds_datetime(raw["dateDerniereModification"])
        and dossier.hidden_at is None
        and dossier.deleted_at is None
    )


def save_dossier(
    session: Session,
    dossier: models.Dossier | None,
    raw: dict,
    demarche_number: int,
    rows: models.DossierRows,
    now: datetime,
    known_history: set[tuple[str, datetime]] | None = None,
) -> models.Dossier:
    """`known_history`: the dossier's recorded (to_state, occurred_at), when the
    caller loaded them for a whole page (see `recorded_history`); else queried here."""
    created = dossier is None
    if created:
        dossier = models.Dossier(number=raw["number"])
        session.add(dossier)
    previous_state = None if created else dossier.state
    _set_dossier_columns(dossier, raw, demarche_number, rows, now)
    _replace_children(session, dossier, rows, created)
    if known_history is None:
        known_history = recorded_history(session, [dossier.number]).get(dossier.number, set())
    _record_history(session, dossier, raw, previous_state, now, known_history)
    return dossier


def _set_dossier_columns(dossier: models.Dossier, raw: dict, demarche_number: int, rows: models.DossierRows, now: datetime):
    groupe = raw.get("groupeInstructeur") or {}
    revision = ((raw.get("demarche") or {}).get("revision") or {}).get("id")
    dossier.ds_id = raw["id"]
    dossier.demarche_number = demarche_number
    dossier.state = raw["state"]
    dossier.archived = bool(raw.get("archived"))
    dossier.date_depot = parse_ds_datetime(raw.get("dateDepot"))
    dossier.date_passage_en_construction = parse_ds_datetime(raw.get("datePassageEnConstruction"))
    dossier.date_passage_en_instruction = parse_ds_datetime(raw.get("datePassageEnInstruction"))
    dossier.date_traitement = parse_ds_datetime(raw.get("dateTraitement"))
    dossier.date_derniere_modification = parse_ds_datetime(raw["dateDerniereModification"])
    dossier.groupe_instructeur_number = groupe.get("number")
    dossier.groupe_instructeur_label = groupe.get("label")
    dossier.revision_id = revision
    dossier.usager_email = (raw.get("usager") or {}).get("email")
    # Seen again in `dossiers`: a trashed dossier has been restored.
    dossier.hidden_at = None
    dossier.hidden_reason = None
    for column, value in rows.dossier.items():
        setattr(dossier, column, value)
    if rows.complete and dossier.completed_at is None:
        # The moment the applicant's content became complete, not the moment we
        # looked: a first sync of old dossiers must not make them "complete today".
        dossier.completed_at = parse_ds_datetime(raw.get("dateDerniereModificationChamps")) or dossier.date_depot or now
    dossier.checked_at = now
    dossier.raw = raw
    dossier.synced_at = now


def _replace_children(session: Session, dossier: models.Dossier, rows: models.DossierRows, created: bool):
    number = dossier.number
    if not created:
        for table in (models.DocumentFile, models.MappingIssue, models.Finding):
            session.execute(delete(table).where(table.dossier_number == number))
        session.expire(dossier, ["documents", "mapping_issues", "findings"])
    _assign(dossier, "student", models.Student, rows.student)
    _assign(dossier, "employer", models.Employer, rows.employer)
    _assign(dossier, "contract", models.Contract, rows.contract)
    session.add_all(models.DocumentFile(dossier_number=number, **values) for values in rows.documents)
    session.add_all(models.MappingIssue(dossier_number=number, **values) for values in rows.issues)
    session.add_all(models.Finding(dossier_number=number, **values) for values in rows.findings)


def _assign(dossier: models.Dossier, attribute: str, model, values: dict) -> None:
    """Update the one-to-one row in place, or create it (new dossier, or a tombstone brought back)."""
    row = getattr(dossier, attribute)
    if row is None:
        setattr(dossier, attribute, model(**values))
        return
    for key, value in values.items():
        setattr(row, key, value)


def transitions_from_traitements(raw: dict) -> list[tuple[str | None, str, str, datetime]]:
    """(from_state, to_state, event, occurred_at) in order, from DS's full history."""
    traitements = sorted(
        (t for t in raw.get("traitements") or [] if t.get("event") in EVENT_STATES and t.get("dateTraitement")),
        key=lambda t: t["dateTraitement"],
    )
    transitions = []
    state = None
    for traitement in traitements:
        target = EVENT_STATES[traitement["event"]]
        if target != state:
            transitions.append((state, target, traitement["event"], parse_ds_datetime(traitement["dateTraitement"])))
            state = target
    return transitions


def recorded_history(session: Session, numbers: list[int]) -> dict[int, set[tuple[str, datetime]]]:
    """(to_state, occurred_at) already in the state history, per dossier, in one query."""
    known: dict[int, set[tuple[str, datetime]]] = {}
    rows = session.execute(
        select(models.StateChange.dossier_number, models.StateChange.to_state, models.StateChange.occurred_at).where(
            models.StateChange.dossier_number.in_(numbers)
        )
    )
    for number, to_state, occurred_at in rows:
        known.setdefault(number, set()).add((to_state, occurred_at))
    return known


def _record_history(
    session: Session,
    dossier: models.Dossier,
    raw: dict,
    previous_state: str | None,
    now: datetime,
    known: set[tuple[str, datetime]],
):
    transitions = transitions_from_traitements(raw)
    last_state = transitions[-1][1] if transitions else previous_state
    if last_state != dossier.state:
        # DS gave no traitement for what we observe (malformed history): keep what we saw.
        transitions.append((last_state, dossier.state, "observed", dossier.date_derniere_modification))
    for from_state, to_state, event, occurred_at in transitions:
        if (to_state, occurred_at) in known:
            continue
        session.add(
            models.StateChange(
                dossier_number=dossier.number,
                from_state=from_state,
                to_state=to_state,
                event=event,
                occurred_at=occurred_at,
                observed_at=now,
            )
        )
        known.add((to_state, occurred_at))


def mark_hidden(dossier: models.Dossier, node: dict) -> None:
    dossier.hidden_at = parse_ds_datetime(node["dateSupression"])
    dossier.hidden_reason = node.get("reason")


def mark_deleted(session: Session, dossier: models.Dossier, node: dict) -> None:
    """DS deleted the dossier for good: keep a tombstone for the statistics,
    drop the personal data as DS did."""
    dossier.deleted_at = parse_ds_datetime(node["dateSupression"])
    dossier.deleted_reason = node.get("reason")
    dossier.state = node.get("state") or dossier.state
    dossier.raw = {}
    dossier.usager_email = None
    for attribute in ("student", "employer", "contract"):
        setattr(dossier, attribute, None)
    for table in (models.DocumentFile, models.MappingIssue):
        session.execute(delete(table).where(table.dossier_number == dossier.number))
