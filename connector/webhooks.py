"""DS webhooks, as a hint to look now (docs/ds-webhooks.md#a-hint-never-data).

Two kinds reach us:

- the legacy webhook: one URL per démarche, form-encoded, **no signature**.
  Its URL carries a secret of ours; its body is never trusted: only the
  dossier number is kept, as a hint to fetch that dossier from DS;
- the signed batches: JSON `{webhook_id, demarche_number, events: [{sequence,
  type, dossier_number, timestamp}]}`, signed with HMAC-SHA256 in
  `X-Webhook-Signature-256: sha256=<hex>`. Either configured secret verifies
  (the previous one stays valid during a rotation). Delivery is at least
  once, and not in order: DS delivers batches concurrently and retries a
  failed one for about three days, so a later `sequence` may come first. An
  event is a replay when that webhook's event of that sequence was already
  received (docs/ds-webhook-sequence.md), not when a higher one was.

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
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.models import DossierHint, WebhookCounter, WebhookCursor, WebhookEvent

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Webhook-Signature-256"
MAX_EVENTS = 100  # DS sends at most 100 events a batch
# DS's body is an object of a list of flat objects: depth 3. Anything deeper is not DS.
MAX_DEPTH = 8
MAX_DIGITS = 19  # a number DS sends fits in 64 bits
# DS keeps an event 7 days; a day more for clocks and queues. Older, its sequence is forgotten.
KEEP_EVENTS = timedelta(days=8)
# Events that can change what the connector computes or must show. Messages,
# avis and labels do not (and our own label writes would echo back).
RELEVANT_EVENTS = frozenset(
    {
        "dossier_depose",
        "dossier_en_instruction",
        "dossier_accepte",
        "dossier_refuse",
        "dossier_sans_suite",
        "dossier_repasse_en_construction",
        "dossier_repasse_en_instruction",
        "dossier_modifie",
        "groupe_instructeur_change",
        "dossier_supprime",
        "dossier_restaure",
    }
)

# Counter names, shown by `wif status`.
ACCEPTED_LEGACY, FORGED_LEGACY, MALFORMED_LEGACY = "legacy_accepted", "legacy_forged", "legacy_malformed"
ACCEPTED_SIGNED, BAD_SIGNATURE, REPLAYED, MALFORMED_SIGNED = (
    "signed_accepted",
    "signed_bad_signature",
    "signed_replayed",
    "signed_malformed",
)


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


_DIGITS = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")


def _positive_int(value, what: str, form: bool = False) -> int:
    """A JSON integer, or in a form a text of digits: never a float (1.5 is not dossier 1), a bool, a sign."""
    if form and isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedWebhook(f"{what} is not a number")
    if value <= 0 or value >= 2**63:
        raise MalformedWebhook(f"{what} is out of range")
    return value


def legacy_dossier_number(form: Mapping[str, str]) -> int:
    """The only field of a legacy webhook we use: `dossier_id` (the dossier number)."""
    return _positive_int(form.get("dossier_id"), "dossier_id", form=True)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise MalformedWebhook("a number is too long")
    return int(text)


def _nesting(body: bytes) -> int:
    """How deep the JSON text nests, read before parsing it (a parser recurses)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse_signed(body: bytes) -> SignedBatch:
    if _nesting(body) > MAX_DEPTH:
        raise MalformedWebhook("the body nests deeper than DS's")
    try:
        # Floats as Decimal: exact, and never taken for an integer.
        data = json.loads(body, parse_int=_bounded_int, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError, as is MalformedWebhook
        raise error if isinstance(error, MalformedWebhook) else MalformedWebhook("the body is not JSON") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("events"), list)
        or not isinstance(data.get("webhook_id"), str)
    ):
        raise MalformedWebhook("webhook_id and events are required")
    if not data["webhook_id"] or len(data["webhook_id"]) > 100:
        raise MalformedWebhook("webhook_id is empty or too long")
    if len(data["events"]) > MAX_EVENTS:
        raise MalformedWebhook(f"more than {MAX_EVENTS} events")
    events = []
    for event in data["events"]:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedWebhook("an event has no type")
        events.append(
            Event(
                _positive_int(event.get("sequence"), "sequence"),
                event["type"][:60],
                _positive_int(event.get("dossier_number"), "dossier_number"),
            )
        )
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
        # One statement, so that two requests counting at once never collide on the first row.
        now = self.now()
        session.execute(
            _insert(session, WebhookCounter)
            .values(name=name, count=increment, last_at=now)
            .on_conflict_do_update(
                index_elements=["name"], set_={"count": WebhookCounter.count + increment, "last_at": now}
            )
        )

    def counters(self) -> dict[str, int]:
        with self.sessions() as session:
            return dict(session.execute(select(WebhookCounter.name, WebhookCounter.count)).all())

    def record_legacy(self, demarche_number: int, dossier_number: int) -> None:
        with self.sessions() as session:
            self._hint(session, demarche_number, dossier_number, "legacy")
            self._count(session, ACCEPTED_LEGACY, 1)
            session.commit()

    def record_signed(self, batch: SignedBatch) -> tuple[int, int]:
        """Hints for the batch's events not received before; (new events, replayed events)."""
        now = self.now()
        with self.sessions() as session:
            floor = self._forget_old_events(session, batch.webhook_id, now)
            candidates = sorted({e.sequence for e in batch.events if e.sequence > floor})
            fresh: set[int] = set()
            if candidates:
                # Insert or ignore, in one statement: of two deliveries of one event at once, exactly one inserts it.
                fresh = set(
                    session.scalars(
                        _insert(session, WebhookEvent)
                        .values(
                            [{"webhook_id": batch.webhook_id, "sequence": n, "received_at": now} for n in candidates]
                        )
                        .on_conflict_do_nothing(index_elements=["webhook_id", "sequence"])
                        .returning(WebhookEvent.sequence)
                    )
                )
            new = [e for e in batch.events if e.sequence in fresh]
            replayed = len(batch.events) - len(new)
            for number in sorted({e.dossier_number for e in new if e.type in RELEVANT_EVENTS}):
                self._hint(session, batch.demarche_number, number, "signed")
            if new or not batch.events:
                self._count(session, ACCEPTED_SIGNED, 1)
            if replayed:
                self._count(session, REPLAYED, replayed)
            session.commit()
        return len(new), replayed

    def _forget_old_events(self, session: Session, webhook_id: str, now: datetime) -> int:
        """Drop the events received longer ago than DS keeps them, raising the
        webhook's floor to the highest of them; returns the floor (an event at
        or below it was created before an event DS no longer keeps: a replay)."""
        floor = session.scalar(select(WebhookCursor.last_sequence).where(WebhookCursor.webhook_id == webhook_id))
        old = (WebhookEvent.webhook_id == webhook_id) & (WebhookEvent.received_at < now - KEEP_EVENTS)
        highest = session.scalar(select(func.max(WebhookEvent.sequence)).where(old))
        if highest is None:  # nearly always: no lock, deliveries of one webhook run side by side
            return floor or 0
        session.execute(
            _insert(session, WebhookCursor)
            .values(webhook_id=webhook_id, last_sequence=0, updated_at=now)
            .on_conflict_do_nothing(index_elements=["webhook_id"])
        )
        # Locked (PostgreSQL) so that two deliveries moving the floor at once keep the higher one.
        cursor = session.scalars(
            select(WebhookCursor).where(WebhookCursor.webhook_id == webhook_id).with_for_update()
        ).one()
        session.execute(delete(WebhookEvent).where(old))
        if highest > cursor.last_sequence:
            cursor.last_sequence, cursor.updated_at = highest, now
        return cursor.last_sequence

    def _hint(self, session: Session, demarche_number: int, dossier_number: int, source: str) -> None:
        # Insert or update in one statement: two requests hinting the same dossier at once both succeed.
        now = self.now()
        session.execute(
            _insert(session, DossierHint)
            .values(demarche_number=demarche_number, dossier_number=dossier_number, source=source, received_at=now)
            .on_conflict_do_update(
                index_elements=["demarche_number", "dossier_number"], set_={"received_at": now, "source": source}
            )
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
                    .where(
                        DossierHint.demarche_number == hint.demarche_number,
                        DossierHint.dossier_number == hint.dossier_number,
                        DossierHint.received_at <= at,
                    )
                    .values(handled_at=at)
                )
            session.commit()


def _insert(session: Session, model):
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    return (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)
