"""1. Plan: what each dossier needs, written to `push_outbox` as `pending` rows
and committed before anything is sent; a pending row the dossier no longer
needs is `superseded`."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import or_, select, true

from connector.push.intents import Current, Intent, plan
from connector.push.live import LiveDemarche
from connector.push.outbox import outbox_row
from connector.push.summary import PushSummary
from core import models
from core.snapshot import SNAPSHOT_LOADS, snapshot_of

if TYPE_CHECKING:
    from connector.push.pusher import Pusher

BATCH_SIZE = 200  # dossiers planned per database round


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


def batches(pusher: Pusher, demarche_number: int, since: datetime | None, only: frozenset[int] | None = None
             ) -> Iterator[list[tuple[models.Dossier, list[models.PushOutbox]]]]:
    owed = select(models.PushOutbox.dossier_number).where(models.PushOutbox.status.in_(("pending", "sending")))
    recent = or_(models.Dossier.synced_at >= since, models.Dossier.number.in_(owed)) if since else true()
    chosen = models.Dossier.number.in_(sorted(only)) if only is not None else true()
    last = 0
    while True:
        with pusher.sessions() as session:
            dossiers = session.scalars(
                select(models.Dossier)
                .where(
                    models.Dossier.demarche_number == demarche_number,
                    models.Dossier.number > last,
                    models.Dossier.deleted_at.is_(None),
                    models.Dossier.hidden_at.is_(None),
                    models.Dossier.checked_at.is_not(None),
                    recent,
                    chosen,
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


def plan_due(pusher: Pusher, demarche_number: int, since: datetime | None, only: frozenset[int] | None, live: LiveDemarche,
          managed: frozenset[str], summary: PushSummary) -> int:
    """Write what each dossier needs as `pending` rows; the number of rows due now."""
    due = 0
    for batch in batches(pusher, demarche_number, since, only):
        now = pusher.now()
        with pusher.sessions() as session:
            for dossier, rows in batch:
                summary.dossiers += 1
                current = current_state(dossier, rows, live)
                intents = plan(pusher.target_for(snapshot_of(dossier)), current, managed)
                intents = sendable(pusher, intents, dossier, current.groupe_label, live, summary)
                if pusher.pass_complete_to_instruction and dossier.state == "en_construction" and dossier.completeness_status == "complet":
                    intents.append(Intent("instruction", {"disable_notification": pusher.disable_notification}))
                wanted = set()
                for intent in intents:
                    summary.planned += 1
                    summary.planned_by_kind[intent.kind] = summary.planned_by_kind.get(intent.kind, 0) + 1
                    if pusher.dry_run:
                        summary.messages_due += intent.kind == "message"
                        print(f"  dossier {dossier.number}: {intent.kind} {_describe(intent)}")
                        continue
                    row = outbox_row(session, dossier, intent, rows, now)
                    wanted.add(id(row))
                    if row.status == "failed" or (row.next_attempt_at and row.next_attempt_at > now):
                        summary.deferred += 1
                    elif row.status == "pending":
                        due += 1
                        summary.messages_due += intent.kind == "message"
                for row in rows:
                    # Planned once, no longer wanted (the dossier changed): never send it.
                    if not pusher.dry_run and row.status == "pending" and id(row) not in wanted and row.id is not None:
                        session.merge(row, load=True).status = "superseded"
            if not pusher.dry_run:
                session.commit()
    return due


def sendable(pusher: Pusher, intents: list[Intent], dossier: models.Dossier, groupe_label: str | None, live: LiveDemarche, summary: PushSummary) -> list[Intent]:
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
            if pusher.instructeur_id not in members:
                summary.skipped_not_member[groupe_label or "?"] = summary.skipped_not_member.get(groupe_label or "?", 0) + 1
                continue
        if intent.kind == "message" and dossier.state != "en_construction":
            # With the correction flag DS takes an en_instruction dossier back to en_construction
            # (NOTES §13): once instruction has begun, asking the applicant is the agent's decision.
            continue
        kept.append(intent)
    return kept


def _describe(intent: Intent) -> str:
    if intent.kind == "annotations":
        return ", ".join(sorted(intent.payload["values"]))
    if intent.kind == "message":
        return f"({len(intent.payload['codes'])} finding(s), correction={intent.payload.get('correction')})"
    return str(next(iter(intent.payload.values()), ""))
