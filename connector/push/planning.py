"""1. Plan: what each dossier needs, written to `push_outbox` as `pending` rows
and committed before anything is sent; a pending row the dossier no longer
needs is `superseded`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, true

from connector.push.intents import Current, Intent, Target, plan
from connector.push.kinds import KINDS, Shown
from connector.push.live import LiveDemarche
from connector.push.outbox import OWED, row_for
from connector.push.run import PushRun
from core import models
from core.models import OutboxStatus
from core.snapshot import SNAPSHOT_LOADS, DossierSnapshot, snapshot_of

BATCH_SIZE = 200  # dossiers planned per database round


@dataclass(frozen=True)
class Wants:
    """What the connector wants each dossier to show on DS, and what it asks of DS besides."""

    target_for: Callable[[DossierSnapshot], Target]  # the APT rules (mappings.target.target_for)
    managed_labels: frozenset[str]  # the labels push adds and removes; any other is left alone
    # The payload of passing a complete dossier en_construction to instruction; None: never.
    instruction: dict | None = None
    # A message to the applicant only about a dossier they acted on this recently
    # (WIF_PUSH_MESSAGE_RECENT_DAYS, docs/ds-push.md#recent-dossiers-only).
    message_recent: timedelta = timedelta(days=60)


def current_state(dossier: models.Dossier, rows: list[models.PushOutbox], live: LiveDemarche) -> Current:
    """DS as last fetched, overlaid with what we delivered after that fetch
    (adding a label does not bump dateDerniereModification, docs/ds-push.md#labels-do-not-bump)."""
    raw = dossier.raw or {}
    key_of_id = {ds_id: key for key, ds_id in live.annotation_ids.items()}
    annotations = {}
    for champ in raw.get("annotations") or []:
        key = key_of_id.get(champ.get("champDescriptorId") or champ.get("id"))
        if key:
            annotations[key] = champ.get("stringValue")
    key_of_label = {ds_id: key for key, ds_id in live.label_ids.items()}
    labels = {key_of_label[label["id"]] for label in raw.get("labels") or [] if label.get("id") in key_of_label}
    shown = Shown(annotations, labels, (raw.get("groupeInstructeur") or {}).get("label"), set())
    for row in sorted(rows, key=lambda r: r.id):
        kind = KINDS[row.kind]
        # Only delivered rows: an undelivered one is planned again, finds its row and is checked or resent.
        if row.status != OutboxStatus.DELIVERED:
            continue
        if not kind.read_back or (row.delivered_at is not None and row.delivered_at > dossier.synced_at):
            kind.overlay(row.payload, shown)
    return Current(shown.annotations, frozenset(shown.label_keys), shown.groupe_label, frozenset(shown.messaged_codes))


def batches(run: PushRun, since: datetime | None) -> Iterator[list[tuple[models.Dossier, list[models.PushOutbox]]]]:
    owed = select(models.PushOutbox.dossier_number).where(models.PushOutbox.status.in_(OWED))
    recent = or_(models.Dossier.synced_at >= since, models.Dossier.number.in_(owed)) if since else true()
    chosen = models.Dossier.number.in_(sorted(run.only)) if run.only is not None else true()
    last = 0
    while True:
        with run.sessions() as session:
            dossiers = session.scalars(
                select(models.Dossier)
                .where(
                    models.Dossier.demarche_number == run.demarche_number,
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


def plan_due(run: PushRun, since: datetime | None, wants: Wants) -> int:
    """Write what each dossier needs as `pending` rows; the number of rows due now."""
    due = 0
    summary = run.summary
    for batch in batches(run, since):
        now = run.clock()
        with run.sessions() as session:
            for dossier, rows in batch:
                summary.dossiers += 1
                wanted = set()
                for intent in intents_for(run, dossier, rows, wants):
                    summary.planned += 1
                    summary.planned_by_kind[intent.kind] = summary.planned_by_kind.get(intent.kind, 0) + 1
                    if run.dry_run:
                        summary.messages_due += KINDS[intent.kind].asks_applicant
                        summary.listing.append(
                            f"  dossier {dossier.number}: {intent.kind} {KINDS[intent.kind].describe(intent.payload)}"
                        )
                        continue
                    row = row_for(session, dossier.number, intent, rows, now)
                    wanted.add(id(row))
                    if row.status == OutboxStatus.FAILED or (row.next_attempt_at and row.next_attempt_at > now):
                        summary.deferred += 1
                    elif row.status == OutboxStatus.PENDING:
                        due += 1
                        summary.messages_due += KINDS[intent.kind].asks_applicant
                for row in rows:
                    # Planned once, no longer wanted (the dossier changed): never send it.
                    unwanted = id(row) not in wanted and row.id is not None
                    if not run.dry_run and row.status == OutboxStatus.PENDING and unwanted:
                        session.merge(row, load=True).status = OutboxStatus.SUPERSEDED
            if not run.dry_run:
                session.commit()
    return due


def intents_for(run: PushRun, dossier: models.Dossier, rows: list[models.PushOutbox], wants: Wants) -> list[Intent]:
    """What the dossier needs of DS now, in the order to send it."""
    snapshot = snapshot_of(dossier)
    if snapshot.is_decided:
        # Decided dossiers are the agents': no label, annotation, groupe or message of ours rewrites what they
        # decided on (docs/ds-push.md#decided-dossiers); a row still pending for one is superseded, never sent.
        return []
    current = current_state(dossier, rows, run.live)
    intents = plan(wants.target_for(snapshot), current, wants.managed_labels)
    complete = dossier.state == "en_construction" and dossier.completeness_status == "complet"
    if wants.instruction is not None and complete:
        intents.append(Intent("instruction", wants.instruction))
    return recent_enough(run, sendable(run, intents, dossier, current.groupe_label), snapshot, wants)


def recent_enough(run: PushRun, intents: list[Intent], snapshot: DossierSnapshot, wants: Wants) -> list[Intent]:
    """Drop the message to the applicant when they have not acted on the dossier for longer than
    `wants.message_recent`: a first push on a back catalogue asks no one about a request filed long ago."""
    acted = snapshot.applicant_activity_at()
    if acted is None or run.clock() - acted <= wants.message_recent:
        return intents
    kept = [intent for intent in intents if not KINDS[intent.kind].asks_applicant]
    run.summary.messages_held_back += len(intents) - len(kept)
    return kept


def sendable(run: PushRun, intents: list[Intent], dossier: models.Dossier, groupe_label: str | None) -> list[Intent]:
    """Drop what cannot succeed, before sending anything for the dossier.
    `groupe_label` is the dossier's groupe as DS has it now."""
    live, summary = run.live, run.summary
    after = Shown({}, set(), groupe_label, set())  # the dossier as each kept intent leaves it
    kept = []
    for intent in intents:
        kind = KINDS[intent.kind]
        payload = kind.usable(intent.payload, live)
        if payload is None:
            if kind.name == "groupe":  # the routing table names a groupe DS lacks: the summary says so
                label = intent.payload["groupe_label"]
                summary.skipped_missing_groupe[label] = summary.skipped_missing_groupe.get(label, 0) + 1
            continue
        if kind.as_instructeur:
            members = live.groupes.get(after.groupe_label or "", {}).get("instructeurs", set())
            if run.instructeur_id not in members:
                label = after.groupe_label or "?"
                summary.skipped_not_member[label] = summary.skipped_not_member.get(label, 0) + 1
                continue
        if kind.only_en_construction and dossier.state != "en_construction":
            # Once instruction has begun, asking the applicant is the agent's decision.
            continue
        kind.overlay(payload, after)
        kept.append(Intent(intent.kind, payload))
    return kept
