"""2. Deliver: due rows travel many to a request (aliased root fields,
`connector.batch`), in dossier order, the groupe change first. Rows are marked
`sending` and committed before the request leaves; each alias's result then
settles its own row."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from connector.batch import BatchItem, BatchLimits, split
from connector.errors import (
    DSAnswerLost, DSAuthenticationError, DSError, DSForbidden, DSUnavailable, Rejection, classify_rejection,
)
from connector.push.errors import PushStopped
from connector.push.live import LiveDemarche
from connector.push.outbox import mark, retry_later, split_annotations
from connector.push.settling import chunks, settle
from connector.push.summary import PushSummary
from core import models

if TYPE_CHECKING:
    from connector.push.pusher import Pusher

log = logging.getLogger(__name__)

DELIVERY_ROWS = 1000  # outbox rows loaded per database round
# A request slower than this halves the next ones: DS stops a request at 30 s (NOTES §5).
SLOW_REQUEST_SECONDS = 12.0
STATE_LIMITS = BatchLimits(max_items=100)  # a state read is three fields

MUTATION_OF = {
    "groupe": "dossierChangerGroupeInstructeur",
    "annotations": "dossierModifierAnnotations",
    "label_add": "dossierAjouterLabel",
    "label_remove": "dossierSupprimerLabel",
    "message": "dossierEnvoyerMessage",
    "instruction": "dossierPasserEnInstruction",
}
# Within a dossier: the groupe first (the others need an instructeur of the new groupe), then the rest in plan order.
KIND_ORDER = {"groupe": 0, "annotations": 1, "label_add": 2, "label_remove": 3, "message": 4, "instruction": 5}


@dataclass
class Delivery:
    """One outbox row on its way, with what its mutation needs of the dossier."""

    row: models.PushOutbox
    ds_id: str
    state: str


class PushProgress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, mutations: int) -> None: ...
    def finish(self) -> None: ...


def due(session: Session, demarche_number: int, only: frozenset[int] | None, now: datetime) -> list[Delivery]:
    kind_order = case(KIND_ORDER, value=models.PushOutbox.kind, else_=9)
    query = (
        select(models.PushOutbox, models.Dossier.ds_id, models.Dossier.state)
        .join(models.Dossier, models.Dossier.number == models.PushOutbox.dossier_number)
        .where(
            models.Dossier.demarche_number == demarche_number,
            models.Dossier.deleted_at.is_(None),
            models.Dossier.hidden_at.is_(None),
            models.PushOutbox.status == "pending",
            or_(models.PushOutbox.next_attempt_at.is_(None), models.PushOutbox.next_attempt_at <= now),
        )
        .order_by(models.PushOutbox.dossier_number, kind_order, models.PushOutbox.id)
        .limit(DELIVERY_ROWS)
    )
    if only is not None:
        query = query.where(models.PushOutbox.dossier_number.in_(sorted(only)))
    return [Delivery(row, ds_id, state) for row, ds_id, state in session.execute(query)]


def deliver_due(pusher: Pusher, demarche_number: int, only: frozenset[int] | None, live: LiveDemarche,
                 summary: PushSummary, total: int) -> None:
    if pusher.progress:
        pusher.progress.start(total)
    try:
        while True:
            with pusher.sessions() as session:
                deliveries = due(session, demarche_number, only, pusher.now())
                session.expunge_all()
                stale = [d.row.id for d in deliveries if d.row.kind == "message" and d.state != "en_construction"]
                if stale:  # planned while en_construction; the dossier has moved since: never sent
                    for row in session.scalars(select(models.PushOutbox).where(models.PushOutbox.id.in_(stale))):
                        row.status = "superseded"
                    session.commit()
                    deliveries = [d for d in deliveries if d.row.id not in set(stale)]
                session.expunge_all()
            if not deliveries:
                if stale:
                    continue
                return
            deliveries = still_en_construction(pusher, deliveries, summary)
            if not deliveries:
                continue
            items = [item(pusher, d, live) for d in deliveries]
            start = 0
            while start < len(deliveries):
                # The limits may shrink after a timeout: split what is left each time.
                size = len(split(items[start:start + pusher.limits.max_items], pusher.limits)[0])
                send_chunk(pusher, deliveries[start:start + size], items[start:start + size], live, summary)
                if pusher.progress:
                    pusher.progress.advance(size)
                start += size
    finally:
        if pusher.progress:
            pusher.progress.finish()


def still_en_construction(pusher: Pusher, deliveries: list[Delivery], summary: PushSummary) -> list[Delivery]:
    """Messages go only to dossiers DS still shows en_construction: an agent may have started
    instruction since our sync, and the correction flag would take the dossier back (NOTES §13).
    A dossier whose state cannot be read now gets its message later, never blind."""
    numbers = sorted({d.row.dossier_number for d in deliveries if d.row.kind == "message"})
    if not numbers:
        return deliveries
    states: dict[int, str | None] = {}
    items = [BatchItem("getDossierState", {"dossierNumber": n}) for n in numbers]
    try:
        for chunk_numbers, chunk in chunks(numbers, items, STATE_LIMITS):
            for number, result in zip(chunk_numbers, pusher.client.execute_batch(chunk).results):
                if result.data is not None:
                    states[number] = result.data.get("state")
                elif not result.timed_out:
                    states[number] = None  # no longer on DS
    except DSError as error:
        log.warning("push: the state of %d dossier(s) could not be read before messaging them: %s", len(numbers), error)
    held = [d for d in deliveries if d.row.kind == "message" and states.get(d.row.dossier_number, "?") != "en_construction"]
    if not held:
        return deliveries
    now = pusher.now()
    with pusher.sessions() as session:
        for delivery in held:
            row = session.get(models.PushOutbox, delivery.row.id)
            number = delivery.row.dossier_number
            if number in states:
                row.status = "superseded"
                row.last_error = f"not sent: the dossier is {states[number] or 'gone'} on DS"
                summary.withdrawn += 1
            else:
                retry_later(pusher, session, row, "not sent: the dossier's state could not be read", now, summary)
        session.commit()
    kept = {id(d) for d in deliveries} - {id(d) for d in held}
    return [d for d in deliveries if id(d) in kept]


def item(pusher: Pusher, delivery: Delivery, live: LiveDemarche) -> BatchItem:
    row, payload = delivery.row, delivery.row.payload
    base = {"clientMutationId": f"wif-{row.id}", "dossierId": delivery.ds_id}
    if row.kind == "groupe":
        variables = {**base, "groupeInstructeurId": live.groupes[payload["groupe_label"]]["id"]}
    elif row.kind == "annotations":
        annotations = [
            {"id": live.annotation_ids[key], "value": {live.annotation_types[key]: value}}
            for key, value in payload["values"].items()
        ]
        variables = {**base, "instructeurId": pusher.instructeur_id, "annotations": annotations}
    elif row.kind in ("label_add", "label_remove"):
        variables = {**base, "labelId": live.label_ids[payload["label_key"]]}
    elif row.kind == "message":
        variables = {**base, "instructeurId": pusher.instructeur_id, "body": payload["body"]}
        if payload.get("correction") and delivery.state == "en_construction":
            variables["correction"] = payload["correction"]
    elif row.kind == "instruction":
        variables = {**base, "instructeurId": pusher.instructeur_id, "disableNotification": payload["disable_notification"]}
    else:
        raise ValueError(f"unknown push intent {row.kind}")
    return BatchItem(MUTATION_OF[row.kind], {"input": variables})


def send_chunk(pusher: Pusher, chunk: list[Delivery], items: list[BatchItem], live: LiveDemarche, summary: PushSummary) -> None:
    now = pusher.now()
    with pusher.sessions() as session:
        loaded = {r.id: r for r in session.scalars(
            select(models.PushOutbox).where(models.PushOutbox.id.in_([d.row.id for d in chunk])))}
        rows = [loaded[d.row.id] for d in chunk]
        for row in rows:
            row.status = "sending"
            row.attempts += 1
            row.client_mutation_id = f"wif-{row.id}"
        session.commit()
        summary.sent += len(rows)
        try:
            answer = pusher.client.execute_batch(items)
        except DSAnswerLost as error:
            log.warning("push: %s", error)
            summary.uncertain += len(rows)
            settle(pusher, session, rows, live, summary, now)
            session.commit()
            return
        except DSUnavailable as error:  # never reached DS (429s, refused connections)
            for row in rows:
                retry_later(pusher, session, row, str(error), now, summary)
            session.commit()
            return
        except (DSAuthenticationError, DSForbidden):
            for row in rows:
                row.status, row.attempts = "pending", row.attempts - 1
            session.commit()
            raise
        except DSError as error:  # the whole request was refused: nothing ran
            for row in rows:
                mark(session, row, "failed", str(error), now)
                summary.failed += 1
            session.commit()
            log.error("push: %d mutation(s) refused by DS: %s", len(rows), error)
            return
        if pusher.after_request:
            pusher.after_request(rows)
        uncertain = []
        for index, (row, result) in enumerate(zip(rows, answer.results)):
            if result.data is not None:
                try:
                    record(pusher, session, row, items[index].operation, result.data, live, now, summary)
                except PushStopped:
                    for untouched in rows[index + 1:]:  # nothing was applied with a read-only token
                        untouched.status, untouched.attempts = "pending", untouched.attempts - 1
                    session.commit()
                    raise
            elif result.timed_out:
                uncertain.append(row)
            else:
                mark(session, row, "failed", str(result.error), now)
                summary.failed += 1
                log.error("push dossier %s %s: %s", row.dossier_number, row.kind, result.error)
        if answer.timed_out or answer.seconds > SLOW_REQUEST_SECONDS:
            smaller = max(1, len(rows) // 2)
            if smaller < pusher.limits.max_items:
                log.warning("push: DS %s after %.1fs: %d mutations per request from now on",
                            "timed out" if answer.timed_out else "was slow", answer.seconds, smaller)
                pusher.limits = BatchLimits(smaller, pusher.limits.max_tokens, pusher.limits.max_complexity)
        session.commit()
        if uncertain:
            summary.uncertain += len(uncertain)
            settle(pusher, session, uncertain, live, summary, now)
            session.commit()
    if pusher.after_send:
        for row in rows:
            pusher.after_send(row)


def record(pusher: Pusher, session: Session, row: models.PushOutbox, operation: str, payload: dict,
            live: LiveDemarche, now: datetime, summary: PushSummary) -> None:
    errors = [e["message"] for e in payload.get("errors") or []]
    rejection = classify_rejection(operation, errors)
    if rejection is Rejection.READ_ONLY:
        mark(session, row, "failed", errors[0], now)
        session.commit()
        raise PushStopped(
            "DS refused the mutation: the API token is read-only. Push stopped; use a read/write token, "
            "or set WIF_PUSH_ENABLED=false for a read-only deployment."
        )
    if row.kind == "annotations" and payload.get("annotations") is not None and errors:
        saved_ids = {a.get("champDescriptorId") or a.get("id") for a in payload["annotations"]}
        saved = {k for k in row.payload["values"] if live.annotation_ids.get(k) in saved_ids}
        split_annotations(pusher, session, row, saved, "; ".join(errors), now, summary)
        for error in errors:
            summary.refusals[error] = summary.refusals.get(error, 0) + 1
        return
    if rejection in (None, Rejection.ALREADY_DONE):
        mark(session, row, "delivered", None, now)
        summary.delivered += 1
        return
    for error in errors:
        summary.refusals[error] = summary.refusals.get(error, 0) + 1
    retry_later(pusher, session, row, "; ".join(errors), now, summary)
