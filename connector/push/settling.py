"""3. Uncertain rows: a request whose answer is lost (network, 5xx, a kill
before recording) leaves its rows `sending`. Before any of them is sent again,
the dossier is read back from DS (`getDossier`) and each row's kind says
whether its effect is there. Rows a previous run left `sending` are settled
the same way at the start of the next run."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.batch import BatchItem, BatchLimits, split
from connector.push.kinds import KINDS
from connector.push.outbox import mark, resend, split_parts
from connector.push.run import PushRun
from core import models
from core.models import OutboxStatus

log = logging.getLogger(__name__)

# Read-backs carry the whole dossier fragment: fewer per request.
READ_LIMITS = BatchLimits(max_items=20)
NOT_FOUND = "not found on DS after a lost answer"


def settle_uncertain(run: PushRun) -> None:
    """Rows a previous run left `sending` (killed, or DS unreachable when
    it tried to read back): settled from what DS shows now."""
    now = run.clock()
    with run.sessions() as session:
        query = (
            select(models.PushOutbox)
            .join(models.Dossier, models.Dossier.number == models.PushOutbox.dossier_number)
            .where(
                models.Dossier.demarche_number == run.demarche_number, models.PushOutbox.status == OutboxStatus.SENDING
            )
            .order_by(models.PushOutbox.dossier_number, models.PushOutbox.id)
        )
        if run.only is not None:
            query = query.where(models.PushOutbox.dossier_number.in_(sorted(run.only)))
        rows = session.scalars(query).all()
        if rows:
            log.info("push: %d mutation(s) left uncertain by an earlier run: reading DS", len(rows))
            run.summary.earlier_uncertain += len(rows)
            settle(run, session, rows, now)
            session.commit()


def settle(run: PushRun, session: Session, rows: Sequence[models.PushOutbox], now: datetime) -> None:
    """Read each dossier back from DS, then mark each row delivered (it is
    there) or due again (it is not). If DS cannot be read, the rows stay
    `sending` for the next run: nothing is resent blind."""
    shown = read_back(run, sorted({row.dossier_number for row in rows}))
    for row in rows:
        if row.dossier_number in shown:
            settle_row(run, session, row, shown[row.dossier_number], now)


def read_back(run: PushRun, numbers: list[int]) -> dict[int, dict | None]:
    """Each dossier as DS shows it now (None: gone from DS, deleted or trashed); a dossier not read is left out."""
    items = [BatchItem("getDossier", {"dossierNumber": n}) for n in numbers]
    shown: dict[int, dict | None] = {}
    for chunk_numbers, chunk in chunks(numbers, items, READ_LIMITS):
        answer = run.client.execute_batch(chunk)
        for number, result in zip(chunk_numbers, answer.results, strict=False):
            if result.data is not None:
                shown[number] = result.data
            elif not result.timed_out:
                shown[number] = None
    return shown


def settle_row(run: PushRun, session: Session, row: models.PushOutbox, dossier: dict | None, now: datetime) -> None:
    summary = run.summary
    if dossier is None:
        mark(row, OutboxStatus.FAILED, "the dossier is no longer on DS", now)
        summary.failed += 1
        return
    kind = KINDS[row.kind]
    if kind.parts is not None:
        saved = kind.parts.on_ds(row.payload, dossier, run.live)
        if saved != set(row.payload[kind.parts.key]):
            split_parts(session, row, kind.parts, saved, NOT_FOUND, now, summary, backoff=False)
            summary.already_on_ds += bool(saved)
            return
    if kind.arrived(row.payload, dossier, run.live):
        mark(row, OutboxStatus.DELIVERED, None, now)
        summary.delivered += 1
        summary.already_on_ds += 1
    else:
        resend(row, NOT_FOUND, now, summary)


def chunks(keys: list, items: list[BatchItem], limits: BatchLimits) -> Iterator[tuple[list, list[BatchItem]]]:
    """The items split within the limits, each chunk with its keys."""
    start = 0
    for chunk in split(items, limits):
        yield keys[start : start + len(chunk)], chunk
        start += len(chunk)
