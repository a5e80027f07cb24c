"""Push the connector's results back to DS, exactly once.

Every intended mutation is first written to `push_outbox` and committed,
then sent, then marked. A crash between sending and marking leaves a row in
`sending`: before sending a message again, the dossier is read back from DS
to see whether the first attempt arrived. Labels and groupe changes are
idempotent by nature (DS answers "already there"), annotations too.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator, Protocol

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, sessionmaker

from core import models
from connector.client import DSClient
from connector.errors import DSError, DSUnavailable, Rejection, classify_rejection
from connector.push_plan import Current, Intent, Target, plan
from core.clock import utcnow
from core.models import DECIDED_STATES
from core.snapshot import SNAPSHOT_LOADS, DossierSnapshot, snapshot_of

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 200


class PushStopped(RuntimeError):
    """Push cannot go on at all (read-only token): reported once, nothing retried."""


@dataclass
class LiveDemarche:
    """What push needs from the live démarche, read once per run."""

    annotation_ids: dict[str, str]  # procedure key → DS annotation id
    annotation_types: dict[str, str]  # procedure key → value key of AnnotationValueInput
    label_ids: dict[str, str]  # procedure label key → DS label id
    groupes: dict[str, dict]  # label → {id, instructeur ids}
    missing: list[str] = field(default_factory=list)  # what the definition names but DS lacks


VALUE_KEYS = {"text": "text", "textarea": "textarea", "drop_down_list": "dropDownList", "date": "date", "yes_no": "yesNo", "checkbox": "checkbox"}


class AnnotationDefinition(Protocol):
    key: str
    id: str
    label: str
    type: str  # DS type_champ


class LabelDefinition(Protocol):
    key: str
    name: str


class PushDefinition(Protocol):
    """What push needs of the procedure definition: the annotations and labels it writes."""

    annotations: tuple[AnnotationDefinition, ...]
    labels: tuple[LabelDefinition, ...]


def read_live(client: DSClient, demarche_number: int, procedure: PushDefinition) -> LiveDemarche:
    demarche = client.execute("getDemarcheDescriptor", {"demarcheNumber": demarche_number})["demarche"]
    revision = demarche.get("activeRevision") or {}
    descriptors = revision.get("annotationDescriptors") or []
    by_id = {d["id"]: d for d in descriptors}
    by_label = {d["label"]: d for d in descriptors}
    live = LiveDemarche({}, {}, {}, {})
    for annotation in procedure.annotations:
        descriptor = by_id.get(annotation.id) or by_label.get(annotation.label)
        if descriptor is None:
            live.missing.append(f"annotation « {annotation.label} »")
            continue
        live.annotation_ids[annotation.key] = descriptor["id"]
        live.annotation_types[annotation.key] = VALUE_KEYS.get(annotation.type, "text")
    names = {label["name"]: label["id"] for label in demarche.get("labels") or []}
    for label in procedure.labels:
        if label.name in names:
            live.label_ids[label.key] = names[label.name]
        else:
            live.missing.append(f"label « {label.name} »")
    for groupe in demarche.get("groupeInstructeurs") or []:
        if not groupe.get("closed"):
            live.groupes[groupe["label"]] = {"id": groupe["id"], "instructeurs": {i["id"] for i in groupe.get("instructeurs") or []}}
    return live


@dataclass
class PushSummary:
    demarche_number: int
    dossiers: int = 0
    planned: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    deferred: int = 0
    skipped_not_member: dict[str, int] = field(default_factory=dict)
    skipped_missing_groupe: dict[str, int] = field(default_factory=dict)
    planned_by_kind: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)  # DS error message → dossiers

    def line(self) -> str:
        text = (
            f"push démarche {self.demarche_number}: {self.dossiers} dossiers, {self.planned} mutations planned, "
            f"{self.delivered} delivered, {self.failed} failed, {self.deferred} deferred"
        )
        if self.skipped_not_member:
            text += f"; connector instructeur not in groupe(s) {sorted(self.skipped_not_member)}: run `wif procedure apply`"
        for message, count in sorted(self.refusals.items()):
            text += f"; DS refused ({count} dossier(s)): {message}"
        if self.skipped_missing_groupe:
            text += f"; groupe(s) missing on DS {sorted(self.skipped_missing_groupe)}: run `wif procedure apply`"
        return text


def current_state(dossier: models.Dossier, rows: list[models.PushOutbox], live: LiveDemarche) -> Current:
    """DS as last fetched, overlaid with what we delivered after that fetch
    (adding a label does not bump dateDerniereModification, NOTES §7.2)."""
    raw = dossier.raw or {}
    key_of_id = {ds_id: key for key, ds_id in live.annotation_ids.items()}
    annotations = {}
    for champ in raw.get("annotations") or []:
        key = key_of_id.get(champ.get("champDescriptorId") or champ.get("id"))
        if key:
            annotations[key] = champ.get("stringValue")
    key_of_label = {ds_id: key for key, ds_id in live.label_ids.items()}
    labels = {key_of_label[label["id"]] for label in raw.get("labels") or [] if label.get("id") in key_of_label}
    groupe = (raw.get("groupeInstructeur") or {}).get("label")
    messaged: set[str] = set()
    for row in sorted(rows, key=lambda r: r.id):
        # Only delivered messages cover their findings: an undelivered one is
        # planned again, finds its outbox row and is checked or resent.
        if row.kind == "message" and row.status == "delivered":
            messaged.update(row.payload["codes"])
        if row.status != "delivered" or row.delivered_at is None or row.delivered_at <= dossier.synced_at:
            continue
        if row.kind == "annotations":
            annotations.update(row.payload["values"])
        elif row.kind == "label_add":
            labels.add(row.payload["label_key"])
        elif row.kind == "label_remove":
            labels.discard(row.payload["label_key"])
        elif row.kind == "groupe":
            groupe = row.payload["groupe_label"]
    return Current(annotations, frozenset(labels), groupe, frozenset(messaged))


@dataclass
class Pusher:
    client: DSClient
    sessions: sessionmaker[Session]
    procedure: PushDefinition
    # The APT rules: what the dossier should show on DS (mappings.target.target_for).
    target_for: Callable[[DossierSnapshot], Target]
    instructeur_id: str
    dry_run: bool = False
    pass_complete_to_instruction: bool = False
    disable_notification: bool = False
    now: Callable[[], datetime] = utcnow
    backoff: timedelta = timedelta(minutes=5)
    # Test hook: called after each mutation is sent and recorded.
    after_send: Callable[[models.PushOutbox], None] | None = None

    def push(self, demarche_number: int, everything: bool = False) -> PushSummary:
        """Plan and send what DS lacks. Without `everything`, only dossiers
        synced since the last complete push, or still owed a mutation."""
        started = self.now()
        summary = PushSummary(demarche_number)
        live = read_live(self.client, demarche_number, self.procedure)
        for missing in live.missing:
            log.warning("push: %s is missing on the démarche: run `wif procedure check`", missing)
        managed = frozenset(label.key for label in self.procedure.labels)
        since = None if everything else self._checkpoint(demarche_number)
        for batch in self._batches(demarche_number, since):
            for dossier, rows in batch:
                summary.dossiers += 1
                current = current_state(dossier, rows, live)
                intents = plan(self.target_for(snapshot_of(dossier)), current, managed)
                intents = self._sendable(intents, dossier, current.groupe_label, live, summary)
                if self.pass_complete_to_instruction and dossier.state == "en_construction" and dossier.completeness_status == "complet":
                    intents.append(Intent("instruction", {"disable_notification": self.disable_notification}))
                for intent in intents:
                    summary.planned += 1
                    summary.planned_by_kind[intent.kind] = summary.planned_by_kind.get(intent.kind, 0) + 1
                    if self.dry_run:
                        print(f"  dossier {dossier.number}: {intent.kind} {_describe(intent)}")
                        continue
                    self._deliver(dossier, intent, rows, live, summary)
        # Dossiers skipped for a cause DS-side (groupe, membership, a missing
        # label or annotation) must be planned again once `procedure apply` ran.
        if not (self.dry_run or live.missing or summary.skipped_not_member or summary.skipped_missing_groupe):
            self._advance_checkpoint(demarche_number, started)
        return summary

    def _checkpoint(self, demarche_number: int) -> datetime | None:
        with self.sessions() as session:
            state = session.get(models.SyncState, demarche_number)
            return state.push_checkpoint if state else None

    def _advance_checkpoint(self, demarche_number: int, started: datetime) -> None:
        with self.sessions() as session:
            state = session.get(models.SyncState, demarche_number)
            if state is not None:
                state.push_checkpoint = started
                session.commit()

    def _batches(self, demarche_number: int, since: datetime | None) -> Iterator[list[tuple[models.Dossier, list[models.PushOutbox]]]]:
        owed = select(models.PushOutbox.dossier_number).where(models.PushOutbox.status.in_(("pending", "sending")))
        recent = or_(models.Dossier.synced_at >= since, models.Dossier.number.in_(owed)) if since else true()
        last = 0
        while True:
            with self.sessions() as session:
                dossiers = session.scalars(
                    select(models.Dossier)
                    .where(
                        models.Dossier.demarche_number == demarche_number,
                        models.Dossier.number > last,
                        models.Dossier.deleted_at.is_(None),
                        models.Dossier.hidden_at.is_(None),
                        models.Dossier.checked_at.is_not(None),
                        recent,
                    )
                    .order_by(models.Dossier.number)
                    .limit(BATCH_SIZE)
                    .options(*SNAPSHOT_LOADS)
                ).all()
                if not dossiers:
                    return
                numbers = [d.number for d in dossiers]
                rows: dict[int, list[models.PushOutbox]] = {n: [] for n in numbers}
                for row in session.scalars(select(models.PushOutbox).where(models.PushOutbox.dossier_number.in_(numbers))):
                    rows[row.dossier_number].append(row)
                session.expunge_all()
            yield [(d, rows[d.number]) for d in dossiers]
            last = numbers[-1]

    def _sendable(self, intents: list[Intent], dossier: models.Dossier, groupe_label: str | None, live: LiveDemarche, summary: PushSummary) -> list[Intent]:
        """Drop what cannot succeed, before sending anything for the dossier.
        `groupe_label` is the dossier's groupe as DS has it now."""
        kept = []
        for intent in intents:
            if intent.kind == "groupe":
                if intent.payload["groupe_label"] not in live.groupes:
                    summary.skipped_missing_groupe[intent.payload["groupe_label"]] = summary.skipped_missing_groupe.get(intent.payload["groupe_label"], 0) + 1
                    continue
                groupe_label = intent.payload["groupe_label"]
            if intent.kind in ("label_add", "label_remove") and intent.payload["label_key"] not in live.label_ids:
                continue
            if intent.kind == "annotations":
                values = {k: v for k, v in intent.payload["values"].items() if k in live.annotation_ids}
                if not values:
                    continue
                intent = Intent("annotations", {"values": values})
            if intent.kind in ("annotations", "message", "instruction"):
                # These take an instructeurId, who must belong to the dossier's groupe (NOTES §13).
                members = live.groupes.get(groupe_label, {}).get("instructeurs", set())
                if self.instructeur_id not in members:
                    summary.skipped_not_member[groupe_label or "?"] = summary.skipped_not_member.get(groupe_label or "?", 0) + 1
                    continue
            if intent.kind == "message" and dossier.state in DECIDED_STATES:
                continue
            kept.append(intent)
        return kept

    # -- delivery ------------------------------------------------------------

    def _deliver(self, dossier: models.Dossier, intent: Intent, rows: list[models.PushOutbox], live: LiveDemarche, summary: PushSummary) -> None:
        now = self.now()
        with self.sessions() as session:
            row = self._outbox_row(session, dossier, intent, rows, now)
            if row.status == "delivered":
                return
            if row.status == "failed" or (row.next_attempt_at and row.next_attempt_at > now):
                summary.deferred += 1
                return
            if row.status == "sending" and intent.kind == "message" and self._message_arrived(dossier, intent):
                self._mark(session, row, "delivered", None, now)
                return
            row.status = "sending"
            row.attempts += 1
            if row.client_mutation_id == "":
                session.flush()
                row.client_mutation_id = f"wif-{row.id}"
            session.commit()
            summary.sent += 1
            try:
                operation, payload = self._send(dossier, intent, row, live)
            except DSUnavailable as error:
                self._retry_later(session, row, str(error), now, summary)
                return
            except DSError as error:
                self._mark(session, row, "failed", str(error), now)
                summary.failed += 1
                log.error("push dossier %s %s: %s", dossier.number, intent.kind, error)
                return
            self._record(session, dossier, intent, row, operation, payload, live, now, summary)
        if self.after_send:
            self.after_send(row)

    def _outbox_row(self, session: Session, dossier: models.Dossier, intent: Intent, rows: list[models.PushOutbox], now: datetime) -> models.PushOutbox:
        for row in rows:
            if row.kind == intent.kind and row.payload_hash == intent.payload_hash and row.status in ("pending", "sending", "failed"):
                return session.merge(row, load=True)
        row = models.PushOutbox(
            dossier_number=dossier.number,
            kind=intent.kind,
            payload=intent.payload,
            payload_hash=intent.payload_hash,
            status="pending",
            attempts=0,
            client_mutation_id="",
            created_at=now,
        )
        session.add(row)
        rows.append(row)
        return row

    def _send(self, dossier: models.Dossier, intent: Intent, row: models.PushOutbox, live: LiveDemarche) -> tuple[str, dict]:
        base = {"clientMutationId": row.client_mutation_id, "dossierId": dossier.ds_id}
        if intent.kind == "groupe":
            variables = {**base, "groupeInstructeurId": live.groupes[intent.payload["groupe_label"]]["id"]}
            operation = "dossierChangerGroupeInstructeur"
        elif intent.kind == "annotations":
            annotations = [
                {"id": live.annotation_ids[key], "value": {live.annotation_types[key]: value}}
                for key, value in intent.payload["values"].items()
            ]
            variables = {**base, "instructeurId": self.instructeur_id, "annotations": annotations}
            operation = "dossierModifierAnnotations"
        elif intent.kind in ("label_add", "label_remove"):
            variables = {**base, "labelId": live.label_ids[intent.payload["label_key"]]}
            operation = "dossierAjouterLabel" if intent.kind == "label_add" else "dossierSupprimerLabel"
        elif intent.kind == "message":
            variables = {**base, "instructeurId": self.instructeur_id, "body": intent.payload["body"]}
            if intent.payload.get("correction") and dossier.state in ("en_construction", "en_instruction"):
                variables["correction"] = intent.payload["correction"]
            operation = "dossierEnvoyerMessage"
        elif intent.kind == "instruction":
            variables = {**base, "instructeurId": self.instructeur_id, "disableNotification": intent.payload["disable_notification"]}
            operation = "dossierPasserEnInstruction"
        else:
            raise ValueError(f"unknown push intent {intent.kind}")
        return operation, self.client.execute(operation, {"input": variables})[operation]

    def _record(self, session: Session, dossier: models.Dossier, intent: Intent, row: models.PushOutbox, operation: str,
                payload: dict, live: LiveDemarche, now: datetime, summary: PushSummary) -> None:
        errors = [e["message"] for e in payload.get("errors") or []]
        rejection = classify_rejection(operation, errors)
        if rejection is Rejection.READ_ONLY:
            self._mark(session, row, "failed", errors[0], now)
            raise PushStopped(
                "DS refused the mutation: the API token is read-only. Push stopped; use a read/write token, "
                "or set WIF_PUSH_ENABLED=false for a read-only deployment."
            )
        if intent.kind == "annotations" and payload.get("annotations") is not None and errors:
            self._record_partial(session, dossier, row, payload, errors, live, now, summary)
            return
        if rejection in (None, Rejection.ALREADY_DONE):
            self._mark(session, row, "delivered", None, now)
            summary.delivered += 1
            return
        for error in errors:
            summary.refusals[error] = summary.refusals.get(error, 0) + 1
        self._retry_later(session, row, "; ".join(errors), now, summary)

    def _record_partial(self, session, dossier, row, payload, errors, live: LiveDemarche, now, summary) -> None:
        """dossierModifierAnnotations saved some values: keep those as delivered
        and retry only the others."""
        saved_ids = {a.get("champDescriptorId") or a.get("id") for a in payload["annotations"]}
        saved = {k: v for k, v in row.payload["values"].items() if live.annotation_ids.get(k) in saved_ids}
        failed = {k: v for k, v in row.payload["values"].items() if k not in saved}
        if saved:
            delivered = models.PushOutbox(
                dossier_number=row.dossier_number, kind="annotations", payload={"values": saved},
                payload_hash=Intent("annotations", {"values": saved}).payload_hash, status="delivered", attempts=row.attempts,
                client_mutation_id=row.client_mutation_id, created_at=row.created_at, delivered_at=now,
            )
            session.add(delivered)
            summary.delivered += 1
        row.payload = {"values": failed}
        row.payload_hash = Intent("annotations", {"values": failed}).payload_hash
        for error in errors:
            summary.refusals[error] = summary.refusals.get(error, 0) + 1
        self._retry_later(session, row, "; ".join(errors), now, summary)

    def _retry_later(self, session: Session, row: models.PushOutbox, error: str, now: datetime, summary: PushSummary) -> None:
        if row.attempts >= MAX_ATTEMPTS:
            self._mark(session, row, "failed", error, now)
            summary.failed += 1
            log.error("push dossier %s %s failed after %d attempts: %s", row.dossier_number, row.kind, row.attempts, error)
            return
        row.status = "pending"
        row.last_error = error[:2000]
        row.next_attempt_at = now + self.backoff * 2 ** (row.attempts - 1)
        session.commit()
        summary.deferred += 1

    def _mark(self, session: Session, row: models.PushOutbox, status: str, error: str | None, now: datetime) -> None:
        row.status = status
        row.last_error = error[:2000] if error else None
        if status == "delivered":
            row.delivered_at = now
        session.commit()

    def _message_arrived(self, dossier: models.Dossier, intent: Intent) -> bool:
        """A previous run sent this message and crashed before recording it?"""
        fresh = self.client.execute("getDossier", {"dossierNumber": dossier.number})["dossier"]
        wanted = " ".join(intent.payload["body"].split())
        return any(" ".join((m.get("body") or "").split()) == wanted for m in fresh.get("messages") or [])


def _describe(intent: Intent) -> str:
    if intent.kind == "annotations":
        return ", ".join(sorted(intent.payload["values"]))
    if intent.kind == "message":
        return f"({len(intent.payload['codes'])} finding(s), correction={intent.payload.get('correction')})"
    return str(next(iter(intent.payload.values()), ""))
