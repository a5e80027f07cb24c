"""3. Uncertain rows: a request whose answer is lost (network, 5xx, a kill
before recording) leaves its rows `sending`. Before any of them is sent again,
the dossier is read back from DS (`getDossier`): a message is looked for among
the dossier's messages, labels, groupe, annotations and state are compared.
Rows a previous run left `sending` are settled the same way at the start of
the next run."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.batch import BatchItem, BatchLimits, split
from connector.push.live import LiveDemarche
from connector.push.outbox import mark, resend, split_annotations
from connector.push.summary import PushSummary
from core import models

if TYPE_CHECKING:
    from connector.push.pusher import Pusher

log = logging.getLogger(__name__)

# Read-backs carry the whole dossier fragment: fewer per request.
READ_LIMITS = BatchLimits(max_items=20)


def settle_uncertain(pusher: Pusher, demarche_number: int, live: LiveDemarche, summary: PushSummary,
                      only: frozenset[int] | None) -> None:
    """Rows a previous run left `sending` (killed, or DS unreachable when
    it tried to read back): settled from what DS shows now."""
    now = pusher.now()
    with pusher.sessions() as session:
        query = (
            select(models.PushOutbox)
            .join(models.Dossier, models.Dossier.number == models.PushOutbox.dossier_number)
            .where(models.Dossier.demarche_number == demarche_number, models.PushOutbox.status == "sending")
            .order_by(models.PushOutbox.dossier_number, models.PushOutbox.id)
        )
        if only is not None:
            query = query.where(models.PushOutbox.dossier_number.in_(sorted(only)))
        rows = session.scalars(query).all()
        if rows:
            log.info("push: %d mutation(s) left uncertain by an earlier run: reading DS", len(rows))
            summary.earlier_uncertain += len(rows)
            settle(pusher, session, rows, live, summary, now)
            session.commit()


def settle(pusher: Pusher, session: Session, rows: list[models.PushOutbox], live: LiveDemarche,
            summary: PushSummary, now: datetime) -> None:
    """Read each dossier back from DS, then mark each row delivered (it is
    there) or due again (it is not). If DS cannot be read, the rows stay
    `sending` for the next run: nothing is resent blind."""
    numbers = sorted({row.dossier_number for row in rows})
    items = [BatchItem("getDossier", {"dossierNumber": n}) for n in numbers]
    shown: dict[int, dict | None] = {}
    for chunk_numbers, chunk in chunks(numbers, items, READ_LIMITS):
        answer = pusher.client.execute_batch(chunk)
        for number, result in zip(chunk_numbers, answer.results):
            if result.data is not None:
                shown[number] = result.data
            elif result.timed_out:
                continue  # not read: stays uncertain
            else:
                shown[number] = None  # gone from DS (deleted, trashed)
    for row in rows:
        if row.dossier_number not in shown:
            continue
        dossier = shown[row.dossier_number]
        if dossier is None:
            mark(session, row, "failed", "the dossier is no longer on DS", now)
            summary.failed += 1
            continue
        if row.kind == "annotations":
            saved = _annotations_on_ds(row, dossier, live)
            if saved == set(row.payload["values"]):
                mark(session, row, "delivered", None, now)
                summary.delivered += 1
                summary.already_on_ds += 1
            else:
                split_annotations(pusher, session, row, saved, "not found on DS after a lost answer", now, summary,
                                        backoff=False)
                summary.already_on_ds += bool(saved)
            continue
        if _arrived(row, dossier, live):
            mark(session, row, "delivered", None, now)
            summary.delivered += 1
            summary.already_on_ds += 1
        else:
            resend(session, row, "not found on DS after a lost answer", now, summary)


def chunks(keys: list, items: list[BatchItem], limits: BatchLimits):
    start = 0
    for chunk in split(items, limits):
        yield keys[start:start + len(chunk)], chunk
        start += len(chunk)


def _normalized(text: str | None) -> str:
    return " ".join((text or "").split())


def _arrived(row: models.PushOutbox, dossier: dict, live: LiveDemarche) -> bool:
    """Is the effect of this (non-annotation) mutation visible on the dossier DS shows?"""
    payload = row.payload
    if row.kind == "message":
        wanted = _normalized(payload["body"])
        return any(_normalized(m.get("body")) == wanted for m in dossier.get("messages") or [])
    if row.kind in ("label_add", "label_remove"):
        present = live.label_ids.get(payload["label_key"]) in {label.get("id") for label in dossier.get("labels") or []}
        return present if row.kind == "label_add" else not present
    if row.kind == "groupe":
        return (dossier.get("groupeInstructeur") or {}).get("label") == payload["groupe_label"]
    if row.kind == "instruction":
        return dossier.get("state") != "en_construction"
    raise ValueError(f"unknown push intent {row.kind}")


def _annotations_on_ds(row: models.PushOutbox, dossier: dict, live: LiveDemarche) -> set[str]:
    """Keys of the row whose value DS already shows."""
    shown = {}
    for champ in dossier.get("annotations") or []:
        shown[champ.get("champDescriptorId") or champ.get("id")] = champ.get("stringValue")
    return {key for key, value in row.payload["values"].items() if (shown.get(live.annotation_ids.get(key)) or "") == value}
