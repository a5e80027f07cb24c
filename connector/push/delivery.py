"""2. Deliver: due rows travel many to a request (aliased root fields,
`connector.batch`), in dossier order, the groupe change first. Rows are marked
`sending` and committed before the request leaves; each alias's result then
settles its own row."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from connector.batch import BatchItem, BatchLimits, split
from connector.client import BatchAnswer
from connector.errors import (
    DSAnswerLost,
    DSAuthenticationError,
    DSError,
    DSForbidden,
    DSUnavailable,
    Rejection,
    classify_rejection,
)
from connector.push.errors import PushStopped
from connector.push.kinds import KINDS
from connector.push.outbox import mark, retry_later, split_parts, unsend
from connector.push.run import PushRun
from connector.push.settling import chunks, settle
from core import models
from core.models import DECIDED_STATES, OutboxStatus

log = logging.getLogger(__name__)

DELIVERY_ROWS = 1000  # outbox rows loaded per database round
# A request slower than this halves the next ones: DS stops a request at 30 s (docs/ds-push.md#request-limits).
SLOW_REQUEST_SECONDS = 12.0
STATE_LIMITS = BatchLimits(max_items=100)  # a state read is three fields
KIND_ORDER = {kind.name: kind.order for kind in KINDS.values()}
EN_CONSTRUCTION_ONLY = [kind.name for kind in KINDS.values() if kind.only_en_construction]
READ_ONLY_TOKEN = (
    "DS refused the mutation: the API token is read-only. Push stopped; use a read/write token, "
    "or set WIF_PUSH_ENABLED=false for a read-only deployment."
)


@dataclass
class Delivery:
    """One outbox row on its way, with what its mutation needs of the dossier."""

    row: models.PushOutbox
    ds_id: str
    state: str


def deliver_due(run: PushRun, total: int) -> None:
    """Send every due row of the run, `total` of them as planned (for the progress)."""
    if run.progress:
        run.progress.start(total)
    try:
        while True:
            deliveries, withdrawn = next_due(run)
            if not deliveries:
                if withdrawn:
                    continue
                return
            deliveries = still_en_construction(run, deliveries)
            if deliveries:
                deliver(run, deliveries)
    finally:
        if run.progress:
            run.progress.finish()


def next_due(run: PushRun) -> tuple[list[Delivery], bool]:
    """The next due rows, and whether some were withdrawn: rows only for dossiers en_construction, planned
    while the dossier was, whose dossier has moved since, and rows of a dossier decided since they were planned
    (docs/ds-push.md#decided-dossiers): they are never sent."""
    with run.sessions() as session:
        deliveries = due(session, run, run.clock())
        session.expunge_all()
        stale = [
            d.row.id
            for d in deliveries
            if d.state in DECIDED_STATES or (d.row.kind in EN_CONSTRUCTION_ONLY and d.state != "en_construction")
        ]
        if stale:
            for row in session.scalars(select(models.PushOutbox).where(models.PushOutbox.id.in_(stale))):
                row.status = OutboxStatus.SUPERSEDED
            session.commit()
            deliveries = [d for d in deliveries if d.row.id not in set(stale)]
        session.expunge_all()
    return deliveries, bool(stale)


def due(session: Session, run: PushRun, now: datetime) -> list[Delivery]:
    kind_order = case(KIND_ORDER, value=models.PushOutbox.kind, else_=len(KIND_ORDER))
    query = (
        select(models.PushOutbox, models.Dossier.ds_id, models.Dossier.state)
        .join(models.Dossier, models.Dossier.number == models.PushOutbox.dossier_number)
        .where(
            models.Dossier.demarche_number == run.demarche_number,
            models.Dossier.deleted_at.is_(None),
            models.Dossier.hidden_at.is_(None),
            models.PushOutbox.status == OutboxStatus.PENDING,
            or_(models.PushOutbox.next_attempt_at.is_(None), models.PushOutbox.next_attempt_at <= now),
        )
        .order_by(models.PushOutbox.dossier_number, kind_order, models.PushOutbox.id)
        .limit(DELIVERY_ROWS)
    )
    if run.only is not None:
        query = query.where(models.PushOutbox.dossier_number.in_(sorted(run.only)))
    return [Delivery(row, ds_id, state) for row, ds_id, state in session.execute(query)]


def deliver(run: PushRun, deliveries: list[Delivery]) -> None:
    """Send the deliveries in requests within the run's limits, which may shrink on the way."""
    items = [item(run, d) for d in deliveries]
    start = 0
    while start < len(deliveries):
        size = len(split(items[start : start + run.limits.max_items], run.limits)[0])
        send_chunk(run, deliveries[start : start + size], items[start : start + size])
        if run.progress:
            run.progress.advance(size)
        start += size


def still_en_construction(run: PushRun, deliveries: list[Delivery]) -> list[Delivery]:
    """Messages go only to dossiers DS still shows en_construction: an agent may have started
    instruction since our sync, and the correction flag would take the dossier back
    (docs/ds-push.md#correction-flag). A dossier whose state cannot be read now gets its message later,
    never blind."""
    numbers = sorted({d.row.dossier_number for d in deliveries if d.row.kind in EN_CONSTRUCTION_ONLY})
    if not numbers:
        return deliveries
    states = states_on_ds(run, numbers)
    held = [
        d
        for d in deliveries
        if d.row.kind in EN_CONSTRUCTION_ONLY and states.get(d.row.dossier_number, "?") != "en_construction"
    ]
    if not held:
        return deliveries
    now = run.clock()
    with run.sessions() as session:
        for delivery in held:
            row = session.get_one(models.PushOutbox, delivery.row.id)
            number = delivery.row.dossier_number
            if number in states:
                row.status = OutboxStatus.SUPERSEDED
                row.last_error = f"not sent: the dossier is {states[number] or 'gone'} on DS"
                run.summary.withdrawn += 1
            else:
                retry_later(row, "not sent: the dossier's state could not be read", now, run.summary)
        session.commit()
    kept = {id(d) for d in deliveries} - {id(d) for d in held}
    return [d for d in deliveries if id(d) in kept]


def states_on_ds(run: PushRun, numbers: list[int]) -> dict[int, str | None]:
    """Each dossier's state as DS shows it now (None: no longer on DS); a dossier not read is left out."""
    states: dict[int, str | None] = {}
    items = [BatchItem("getDossierState", {"dossierNumber": n}) for n in numbers]
    try:
        for chunk_numbers, chunk in chunks(numbers, items, STATE_LIMITS):
            for number, result in zip(chunk_numbers, run.client.execute_batch(chunk).results, strict=False):
                if result.data is not None:
                    states[number] = result.data.get("state")
                elif not result.timed_out:
                    states[number] = None
    except DSError as error:
        log.warning("push: the state of %d dossier(s) could not be read before messaging them: %s", len(numbers), error)
    return states


def item(run: PushRun, delivery: Delivery) -> BatchItem:
    row, kind = delivery.row, KINDS[delivery.row.kind]
    variables = {"clientMutationId": f"wif-{row.id}", "dossierId": delivery.ds_id}
    if kind.as_instructeur:
        variables["instructeurId"] = run.instructeur_id
    variables.update(kind.variables(row.payload, run.live, delivery.state))
    return BatchItem(kind.mutation, {"input": variables})


def send_chunk(run: PushRun, chunk: list[Delivery], items: list[BatchItem]) -> None:
    """One request: its rows marked `sending` first, then each settled by its own result."""
    now = run.clock()
    with run.sessions() as session:
        rows = mark_sending(session, chunk)
        run.summary.sent += len(rows)
        answer = send(run, session, rows, items, now)
        if answer is None:
            return
        uncertain = record_answer(run, session, rows, items, answer, now)
        adapt_limits(run, answer, len(rows))
        session.commit()
        if uncertain:
            run.summary.uncertain += len(uncertain)
            settle(run, session, uncertain, now)
            session.commit()


def mark_sending(session: Session, chunk: list[Delivery]) -> list[models.PushOutbox]:
    """Committed before the request leaves: a row found `sending` later is uncertain, read back before any resend."""
    loaded = {
        r.id: r
        for r in session.scalars(select(models.PushOutbox).where(models.PushOutbox.id.in_([d.row.id for d in chunk])))
    }
    rows = [loaded[d.row.id] for d in chunk]
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.attempts += 1
        row.client_mutation_id = f"wif-{row.id}"
    session.commit()
    return rows


def send(
    run: PushRun, session: Session, rows: list[models.PushOutbox], items: list[BatchItem], now: datetime
) -> BatchAnswer | None:
    """The request's answer; None when the request as a whole went wrong (its rows are settled here)."""
    summary = run.summary
    try:
        return run.client.execute_batch(items)
    except DSAnswerLost as error:
        log.warning("push: %s", error)
        summary.uncertain += len(rows)
        settle(run, session, rows, now)
    except DSUnavailable as error:  # never reached DS (429s, refused connections)
        for row in rows:
            retry_later(row, str(error), now, summary)
    except (DSAuthenticationError, DSForbidden):
        unsend(rows)
        session.commit()
        raise
    except DSError as error:  # the whole request was refused: nothing ran
        for row in rows:
            mark(row, OutboxStatus.FAILED, str(error), now)
            summary.failed += 1
        log.error("push: %d mutation(s) refused by DS: %s", len(rows), error)
    session.commit()
    return None


def record_answer(
    run: PushRun,
    session: Session,
    rows: list[models.PushOutbox],
    items: list[BatchItem],
    answer: BatchAnswer,
    now: datetime,
) -> list[models.PushOutbox]:
    """Settle each row by its alias's result; the rows DS did not get to (timed out) are returned: uncertain."""
    uncertain = []
    for index, (row, result) in enumerate(zip(rows, answer.results, strict=False)):
        if result.data is not None:
            try:
                record(run, session, row, items[index].operation, result.data, now)
            except PushStopped:
                unsend(rows[index + 1 :])  # nothing was applied with a read-only token
                session.commit()
                raise
        elif result.timed_out:
            uncertain.append(row)
        else:
            mark(row, OutboxStatus.FAILED, str(result.error), now)
            run.summary.failed += 1
            log.error("push dossier %s %s: %s", row.dossier_number, row.kind, result.error)
    return uncertain


def _keep_labels_read(session: Session, row: models.PushOutbox, label: dict) -> None:
    """DS does not touch a dossier when a label is added or removed (docs/ds-pagination.md#labels): no
    incremental read would bring the change back, so the stored copy of the dossier takes it now."""
    dossier = session.get(models.Dossier, row.dossier_number)
    if dossier is None or not isinstance(dossier.raw, dict):
        return
    labels = [entry for entry in dossier.raw.get("labels") or [] if entry.get("id") != label.get("id")]
    if row.kind == "label_add":
        labels.append({"id": label.get("id"), "name": label.get("name")})
    dossier.raw = {**dossier.raw, "labels": labels}


def record(
    run: PushRun, session: Session, row: models.PushOutbox, operation: str, payload: dict, now: datetime
) -> None:
    """One mutation's payload: delivered, partly saved, or refused (due again later)."""
    summary = run.summary
    errors = [e["message"] for e in payload.get("errors") or []]
    rejection = classify_rejection(operation, errors)
    if rejection is Rejection.READ_ONLY:
        mark(row, OutboxStatus.FAILED, errors[0], now)
        session.commit()
        raise PushStopped(READ_ONLY_TOKEN)
    parts = KINDS[row.kind].parts
    saved = parts.in_answer(row.payload, payload, run.live) if parts and errors else None
    if parts and saved is not None:
        split_parts(session, row, parts, saved, "; ".join(errors), now, summary)
        for error in errors:
            summary.refusals[error] = summary.refusals.get(error, 0) + 1
        return
    if rejection in (None, Rejection.ALREADY_DONE):
        mark(row, OutboxStatus.DELIVERED, None, now)
        summary.delivered += 1
        if row.kind in ("label_add", "label_remove") and payload.get("label"):
            _keep_labels_read(session, row, payload["label"])
        return
    for error in errors:
        summary.refusals[error] = summary.refusals.get(error, 0) + 1
    retry_later(row, "; ".join(errors), now, summary)


def adapt_limits(run: PushRun, answer: BatchAnswer, sent: int) -> None:
    """A request DS stopped, or answered slowly, halves the next ones for the rest of the run."""
    if not (answer.timed_out or answer.seconds > SLOW_REQUEST_SECONDS):
        return
    smaller = max(1, sent // 2)
    if smaller < run.limits.max_items:
        log.warning(
            "push: DS %s after %.1fs: %d mutations per request from now on",
            "timed out" if answer.timed_out else "was slow",
            answer.seconds,
            smaller,
        )
        run.limits = BatchLimits(smaller, run.limits.max_tokens, run.limits.max_complexity)
