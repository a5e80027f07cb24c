"""Writes a DS dossier and the rows the domain computed for it (mapped
records, routing, findings) to the local SQL model. Upserts are keyed by the
dossier number, so a page written twice leaves the database as it was after
the first time.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import BigInteger, Integer, Numeric, String, Table, delete, select, update
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from sqlalchemy.orm import Session

from connector.datetimes import ds_datetime, parse_ds_datetime
from connector.storable import UNSTORABLE_CHARACTERS, storable_text
from core import models
from core.db import rows_changed

# DS traitement events → the state the dossier is in after them (docs/ds-sync.md#what-a-state-change-leaves-behind).
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


# What the database raises for one dossier's values (too large a number, a
# NUL, a lone surrogate, a text longer than its column): that dossier is set
# aside. Anything else (a lock, a lost connection, a constraint) is not about
# the values and stops the run as before.
_VALUE_ERRORS = (OverflowError, UnicodeError, ValueError, ArithmeticError)


def is_unstorable(error: BaseException) -> bool:
    if isinstance(error, DataError):
        return True
    if isinstance(error, DBAPIError):
        return False
    if isinstance(error, StatementError):  # raised while binding a value, before the database saw it
        return isinstance(error.orig, _VALUE_ERRORS)
    return isinstance(error, _VALUE_ERRORS)


def lock_for_writing(session: Session, demarche_number: int) -> None:
    """Open the transaction with a write (a no-op UPDATE), so that on SQLite it
    holds the write lock before the savepoints that follow read anything."""
    session.execute(
        update(models.SyncState)
        .where(models.SyncState.demarche_number == demarche_number)
        .values(demarche_number=models.SyncState.demarche_number)
    )


def _ds_text(value, length: int | None = None):
    """A string DS gave that goes to its own column: storable, and cut to the column."""
    if not isinstance(value, str):
        return value
    value = storable_text(value)
    return value[:length] if length else value


INT64, INT32 = (-(2**63), 2**63 - 1), (-(2**31), 2**31 - 1)
_ROW_TABLES: tuple[tuple[str, type[models.Base]], ...] = (
    ("student", models.Student),
    ("employer", models.Employer),
    ("contract", models.Contract),
)


def unstorable_values(rows: models.DossierRows) -> list[str]:
    """The columns whose value the database will refuse, as table.column (with
    the document's key for a file), never the value: it may be personal data."""
    found = []

    def check(table, column_name: str, value, where: str) -> None:
        column = table.__table__.columns.get(column_name)
        if column is None or value is None:
            return
        if isinstance(value, bool):
            return
        if isinstance(value, int) and isinstance(column.type, Integer):
            low, high = INT64 if isinstance(column.type, BigInteger) else INT32
            if not low <= value <= high:
                found.append(f"{where}: nombre hors limites")
        elif isinstance(value, (float, Decimal)) and isinstance(column.type, Numeric) and column.type.precision:
            limit = Decimal(10) ** (column.type.precision - (column.type.scale or 0))
            try:
                if not abs(Decimal(value)) < limit:
                    found.append(f"{where}: nombre hors limites")
            except ArithmeticError:
                found.append(f"{where}: nombre illisible")
        elif isinstance(value, str):
            if UNSTORABLE_CHARACTERS.search(value):
                found.append(f"{where}: caractère invalide")
            elif isinstance(column.type, String) and column.type.length and len(value) > column.type.length:
                found.append(f"{where}: texte trop long ({len(value)} caractères, {column.type.length} au plus)")

    for attribute, model in _ROW_TABLES:
        for name, value in getattr(rows, attribute).items():
            check(model, name, value, f"{model.__tablename__}.{name}")
    for name, value in rows.dossier.items():
        check(models.Dossier, name, value, f"dossiers.{name}")
    for document in rows.documents:
        key = document.get("document_key")
        for name, value in document.items():
            check(models.DocumentFile, name, value, f"document_files.{name} ({key})")
    for kind, table in (("issues", models.MappingIssue), ("findings", models.Finding)):
        for row in getattr(rows, kind):
            for name, value in row.items():
                check(table, name, value, f"{table.__tablename__}.{name}")
    return found


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
    if dossier is None:
        dossier = models.Dossier(number=raw["number"])
        session.add(dossier)
    previous_state = None if created else dossier.state
    _set_dossier_columns(dossier, raw, demarche_number, rows, now)
    _replace_children(session, dossier, rows, created)
    if known_history is None:
        known_history = recorded_history(session, [dossier.number]).get(dossier.number, set())
    _record_history(session, dossier, raw, previous_state, now, known_history)
    return dossier


def _dossier_values(raw: dict, demarche_number: int, rows: models.DossierRows, now: datetime) -> dict:
    groupe = raw.get("groupeInstructeur") or {}
    revision = ((raw.get("demarche") or {}).get("revision") or {}).get("id")
    values = {
        "ds_id": _ds_text(raw["id"], 100),
        "demarche_number": demarche_number,
        "state": _ds_text(raw["state"], 20),
        "archived": bool(raw.get("archived")),
        "date_depot": parse_ds_datetime(raw.get("dateDepot")),
        "date_passage_en_construction": parse_ds_datetime(raw.get("datePassageEnConstruction")),
        "date_passage_en_instruction": parse_ds_datetime(raw.get("datePassageEnInstruction")),
        "date_traitement": parse_ds_datetime(raw.get("dateTraitement")),
        "date_derniere_modification": parse_ds_datetime(raw["dateDerniereModification"]),
        "groupe_instructeur_number": groupe.get("number"),
        "groupe_instructeur_label": _ds_text(groupe.get("label"), 200),
        "revision_id": _ds_text(revision, 100),
        "usager_email": _ds_text((raw.get("usager") or {}).get("email"), 320),
        # Seen again in `dossiers`: a trashed dossier has been restored.
        "hidden_at": None,
        "hidden_reason": None,
        **rows.dossier,
        "checked_at": now,
        "raw": raw,
        "synced_at": now,
    }
    return values


def _completed_at(raw: dict, values: dict, now: datetime) -> datetime:
    # The moment the applicant's content became complete, not the moment we
    # looked: a first sync of old dossiers must not make them "complete today".
    return parse_ds_datetime(raw.get("dateDerniereModificationChamps")) or values["date_depot"] or now


def _set_dossier_columns(
    dossier: models.Dossier, raw: dict, demarche_number: int, rows: models.DossierRows, now: datetime
):
    values = _dossier_values(raw, demarche_number, rows, now)
    for column, value in values.items():
        setattr(dossier, column, value)
    if rows.complete and dossier.completed_at is None:
        dossier.completed_at = _completed_at(raw, values, now)


def insert_new_dossiers(
    session: Session, new: list[tuple[dict, models.DossierRows]], demarche_number: int, now: datetime
) -> None:
    """Dossiers never seen before, a page at a time, in a few multi-row
    INSERTs: what `save_dossier` would write, without building ORM objects
    (most of a first sync's client CPU went there)."""
    tables: dict[type[models.Base], list[dict]] = {
        model: []
        for model in (
            models.Dossier,
            models.Student,
            models.Employer,
            models.Contract,
            models.DocumentFile,
            models.MappingIssue,
            models.Finding,
            models.StateChange,
        )
    }
    for raw, rows in new:
        number = raw["number"]
        values = {"number": number, **_dossier_values(raw, demarche_number, rows, now)}
        if rows.complete:
            values["completed_at"] = _completed_at(raw, values, now)
        tables[models.Dossier].append(values)
        tables[models.Student].append({"dossier_number": number, **rows.student})
        tables[models.Employer].append({"dossier_number": number, **rows.employer})
        tables[models.Contract].append({"dossier_number": number, **rows.contract})
        tables[models.DocumentFile].extend({"dossier_number": number, **v} for v in rows.documents)
        tables[models.MappingIssue].extend({"dossier_number": number, **v} for v in rows.issues)
        tables[models.Finding].extend({"dossier_number": number, **v} for v in rows.findings)
        for from_state, to_state, event, occurred_at in _new_transitions(
            raw, None, values["state"], values["date_derniere_modification"], set()
        ):
            tables[models.StateChange].append(
                {
                    "dossier_number": number,
                    "from_state": from_state,
                    "to_state": to_state,
                    "event": event,
                    "occurred_at": occurred_at,
                    "observed_at": now,
                }
            )
    for model, rows_of_table in tables.items():
        # One INSERT per set of keys: a key left out keeps its column default.
        by_keys: dict[tuple, list[dict]] = {}
        for row in rows_of_table:
            by_keys.setdefault(tuple(row), []).append(row)
        for group in by_keys.values():
            # The table's INSERT (Core executemany), not the ORM bulk path, which plans row by row. A mapped
            # class's __table__ is a Table, which DeclarativeBase types as any FromClause.
            session.execute(cast(Table, model.__table__).insert(), group)


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
    transitions: list[tuple[str | None, str, str, datetime]] = []
    state: str | None = None
    for traitement in traitements:
        target = EVENT_STATES[traitement["event"]]
        if target != state:
            transitions.append((state, target, traitement["event"], ds_datetime(traitement["dateTraitement"])))
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
    transitions = _new_transitions(raw, previous_state, dossier.state, dossier.date_derniere_modification, known)
    for from_state, to_state, event, occurred_at in transitions:
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


def _new_transitions(
    raw: dict, previous_state: str | None, state: str, modified_at: datetime, known: set[tuple[str, datetime]]
) -> list[tuple[str | None, str, str, datetime]]:
    """The state history DS shows that is not recorded yet."""
    transitions = transitions_from_traitements(raw)
    last_state = transitions[-1][1] if transitions else previous_state
    if last_state != state:
        # DS gave no traitement for what we observe (malformed history): keep what we saw.
        transitions.append((last_state, state, "observed", modified_at))
    fresh = []
    for transition in transitions:
        key = (transition[1], transition[3])
        if key not in known:
            fresh.append(transition)
            known = known | {key}
    return fresh


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


# -- quarantine -------------------------------------------------------------


def quarantine(
    session: Session,
    demarche_number: int,
    number: int,
    status: str,
    error: str,
    now: datetime,
    path: str | None = None,
    champ: str | None = None,
) -> None:
    """Set a dossier aside (or record one more failed attempt), in the caller's
    transaction: a page's cursor never passes a dossier that is neither saved
    nor quarantined."""
    row = session.get(models.QuarantinedDossier, (demarche_number, number))
    if row is None:
        row = models.QuarantinedDossier(
            demarche_number=demarche_number, dossier_number=number, attempts=0, first_seen_at=now
        )
        session.add(row)
    row.status, row.error, row.last_attempt_at = status, error[:2000], now
    row.error_path = (path or None) and path[:500]
    row.champ = (champ or None) and champ[:300]
    row.attempts = (row.attempts or 0) + 1


def release(session: Session, demarche_number: int, numbers: list[int]) -> int:
    """These dossiers were just stored whole: out of quarantine."""
    if not numbers:
        return 0
    released = rows_changed(
        session,
        delete(models.QuarantinedDossier).where(
            models.QuarantinedDossier.demarche_number == demarche_number,
            models.QuarantinedDossier.dossier_number.in_(numbers),
        ),
    )
    return released or 0


def quarantined(session: Session, demarche_number: int | None = None) -> list[models.QuarantinedDossier]:
    query = select(models.QuarantinedDossier).order_by(
        models.QuarantinedDossier.demarche_number, models.QuarantinedDossier.dossier_number
    )
    if demarche_number is not None:
        query = query.where(models.QuarantinedDossier.demarche_number == demarche_number)
    return list(session.scalars(query))
