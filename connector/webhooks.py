"""DS webhooks, as a hint to look now (NOTES §17).

Two kinds reach us:

- the legacy webhook: one URL per démarche, form-encoded, **no signature**.
  Its URL carries a secret of ours; its body is never trusted: only the
  dossier number is kept, as a hint to fetch that dossier from DS;
- the signed batches: JSON `{webhook_id, demarche_number, events: [{sequence,
  type, dossier_number, timestamp}]}`, signed with HMAC-SHA256 in
  `X-Webhook-Signature-256: sha256=<hex>`. Either configured secret verifies
  (the previous one stays valid during a rotation). Delivery is at least
  once and `sequence` only grows: an event at or below the highest sequence
  seen for that webhook is a replay.

A hint records the dossier number (`dossier_hints`) and nothing else; the
scheduler fetches hinted dossiers with `getDossier` within seconds. The
periodic poll stays the source of truth: a lost or forged hint changes
nothing the next poll would not.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Mapping

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.models import DossierHint, WebhookCounter, WebhookCursor

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Webhook-Signature-256"
MAX_EVENTS = 100  # DS sends at most 100 events a batch
# Events that can change what the connector computes or must show. Messages,
# avis and labels do not (and our own label writes would echo back).
RELEVANT_EVENTS = frozenset({
    "dossier_depose", "dossier_en_instruction", "dossier_accepte", "dossier_refuse", "dossier_sans_suite",
    "dossier_repasse_en_construction", "dossier_repasse_en_instruction", "dossier_modifie",
    "groupe_instructeur_change", "dossier_supprime", "dossier_restaure",
})

# Counter names, shown by `wif status`.
ACCEPTED_LEGACY, FORGED_LEGACY, MALFORMED_LEGACY = "legacy_accepted", "legacy_forged", "legacy_malformed"
ACCEPTED_SIGNED, BAD_SIGNATURE, REPLAYED, MALFORMED_SIGNED = "signed_accepted", "signed_bad_signature", "signed_replayed", "signed_malformed"


class MalformedWebhook(ValueError):
    """The body is not what DS sends."""


@dataclass(frozen=True)
class Event:
    sequence: int
    type: str
    dossier_number: int


@dataclass(frozen=True)
class SignedBatch:
    webhook_id: str
    demarche_number: int
    events: tuple[Event, ...]


def sign(secret: str, body: bytes) -> str:
    """The header value DS sends for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secrets: Iterable[str], body: bytes, header: str | None) -> bool:
    """Constant-time check of `X-Webhook-Signature-256` against every configured secret."""
    if not header or not header.startswith("sha256="):
        return False
    given = header.strip().encode()
    valid = False
    for secret in secrets:
        # Every secret is tried, so the time taken does not tell which one matched.
        valid |= hmac.compare_digest(sign(secret, body).encode(), given)
    return valid


def legacy_secret_valid(expected: str, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool):
        raise MalformedWebhook(f"{what} is not a number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MalformedWebhook(f"{what} is not a number") from None
    if number <= 0 or number >= 2**63:
        raise MalformedWebhook(f"{what} is out of range")
    return number


def legacy_dossier_number(form: Mapping[str, str]) -> int:
    """The only field of a legacy webhook we use: `dossier_id` (the dossier number)."""
    return _positive_int(form.get("dossier_id"), "dossier_id")


def parse_signed(body: bytes) -> SignedBatch:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedWebhook("the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list) or not isinstance(data.get("webhook_id"), str):
        raise MalformedWebhook("webhook_id and events are required")
    if not data["webhook_id"] or len(data["webhook_id"]) > 100:
        raise MalformedWebhook("webhook_id is empty or too long")
    if len(data["events"]) > MAX_EVENTS:
        raise MalformedWebhook(f"more than {MAX_EVENTS} events")
    events = []
    for event in data["events"]:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedWebhook("an event has no type")
        events.append(Event(_positive_int(event.get("sequence"), "sequence"), event["type"][:60],
                            _positive_int(event.get("dossier_number"), "dossier_number")))
    return SignedBatch(data["webhook_id"], _positive_int(data.get("demarche_number"), "demarche_number"), tuple(events))


@dataclass(frozen=True)
class Hint:
    demarche_number: int
    dossier_number: int
    received_at: datetime


@dataclass
class HintInbox:
    """The database side of webhooks: counters, replay cursor, hints to fetch."""

    sessions: sessionmaker[Session]
    now: Callable[[], datetime] = utcnow

    def count(self, name: str, increment: int = 1) -> None:
        with self.sessions() as session:
            self._count(session, name, increment)
            session.commit()

    def _count(self, session: Session, name: str, increment: int) -> None:
        now = self.now()
        changed = session.execute(
            update(WebhookCounter).where(WebhookCounter.name == name)
            .values(count=WebhookCounter.count + increment, last_at=now)
        ).rowcount
        if not changed:
            try:
                with session.begin_nested():
                    session.add(WebhookCounter(name=name, count=increment, last_at=now))
            except IntegrityError:  # another request created it meanwhile
                session.execute(update(WebhookCounter).where(WebhookCounter.name == name)
                                .values(count=WebhookCounter.count + increment, last_at=now))

    def counters(self) -> dict[str, int]:
        with self.sessions() as session:
            return dict(session.execute(select(WebhookCounter.name, WebhookCounter.count)).all())

    def record_legacy(self, demarche_number: int, dossier_number: int) -> None:
        with self.sessions() as session:
            self._hint(session, demarche_number, dossier_number, "legacy")
            self._count(session, ACCEPTED_LEGACY, 1)
            session.commit()

    def record_signed(self, batch: SignedBatch) -> tuple[int, int]:
        """Hints for the batch's new events; (new events, replayed events)."""
        with self.sessions() as session:
            # Lock the cursor row (PostgreSQL) so two deliveries of one batch do not both pass.
            cursor = session.scalars(
                select(WebhookCursor).where(WebhookCursor.webhook_id == batch.webhook_id).with_for_update()
            ).first()
            last = cursor.last_sequence if cursor else 0
            fresh = [e for e in batch.events if e.sequence > last]
            replayed = len(batch.events) - len(fresh)
            for number in sorted({e.dossier_number for e in fresh if e.type in RELEVANT_EVENTS}):
                self._hint(session, batch.demarche_number, number, "signed")
            if fresh:
                highest = max(e.sequence for e in fresh)
                if cursor is None:
                    session.add(WebhookCursor(webhook_id=batch.webhook_id, last_sequence=highest, updated_at=self.now()))
                else:
                    cursor.last_sequence, cursor.updated_at = highest, self.now()
            if fresh or not batch.events:
                self._count(session, ACCEPTED_SIGNED, 1)
            if replayed:
                self._count(session, REPLAYED, replayed)
            try:
                session.commit()
            except IntegrityError:  # the same first batch, delivered twice at once: the other one won
                session.rollback()
                self.count(REPLAYED, len(batch.events))
                return 0, len(batch.events)
        return len(fresh), replayed

    def _hint(self, session: Session, demarche_number: int, dossier_number: int, source: str) -> None:
        now = self.now()
        changed = session.execute(
            update(DossierHint)
            .where(DossierHint.demarche_number == demarche_number, DossierHint.dossier_number == dossier_number)
            .values(received_at=now, source=source)
        ).rowcount
        if not changed:
            try:
                with session.begin_nested():
                    session.add(DossierHint(demarche_number=demarche_number, dossier_number=dossier_number,
                                            source=source, received_at=now))
            except IntegrityError:
                session.execute(
                    update(DossierHint)
                    .where(DossierHint.demarche_number == demarche_number, DossierHint.dossier_number == dossier_number)
                    .values(received_at=now, source=source)
                )

    def pending(self, limit: int = 200) -> list[Hint]:
        """Hints received since they were last handled, oldest first."""
        with self.sessions() as session:
            rows = session.execute(
                select(DossierHint.demarche_number, DossierHint.dossier_number, DossierHint.received_at)
                .where(or_(DossierHint.handled_at.is_(None), DossierHint.handled_at < DossierHint.received_at))
                .order_by(DossierHint.received_at)
                .limit(limit)
            ).all()
        return [Hint(*row) for row in rows]

    def handled(self, hints: Iterable[Hint], at: datetime) -> None:
        """`at` is when their handling started: a hint received since stays pending."""
        with self.sessions() as session:
            for hint in hints:
                session.execute(
                    update(DossierHint)
                    .where(DossierHint.demarche_number == hint.demarche_number,
                           DossierHint.dossier_number == hint.dossier_number,
                           DossierHint.received_at <= at)
                    .values(handled_at=at)
                )
            session.commit()
