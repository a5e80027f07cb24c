"""Push the connector's results back to DS, exactly once, in few requests.

1. Plan: every mutation a dossier needs is written to `push_outbox`
   (`pending`) and committed; a pending row the dossier no longer needs is
   `superseded`.
2. Deliver: due rows travel many to a request (aliased root fields,
   `connector.batch`), in dossier order, the groupe change first. Rows are
   marked `sending` and committed before the request leaves; each alias's
   result then settles its own row.
3. A circuit breaker stands between 1 and 2: a run that would message more
   than a share of the dossiers it considers (WIF_PUSH_MAX_MESSAGE_SHARE) sends
   nothing at all until it is forced (`hold_messages_share`).
4. A request whose answer is lost (network, 5xx, a kill before recording)
   leaves its rows `sending`: *uncertain*. Before any of them is sent again,
   the dossier is read back from DS (`getDossier`): a message is looked for
   among the dossier's messages, labels, groupe, annotations and state are
   compared. Rows a previous run left `sending` are settled the same way at
   the start of the next run.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator, Mapping, Protocol

from sqlalchemy import case, or_, select, true
from sqlalchemy.orm import Session, sessionmaker

from core import models
from connector.batch import BatchItem, BatchLimits, split
from connector.client import DSClient
from connector.errors import (
    DSAnswerLost, DSAuthenticationError, DSError, DSForbidden, DSUnavailable, Rejection, classify_rejection,
)
from connector.push_plan import Current, Intent, Target, plan
from core.clock import utcnow
from core.settings import PushSettings
from core.snapshot import SNAPSHOT_LOADS, DossierSnapshot, snapshot_of

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 200  # dossiers planned per database round
DELIVERY_ROWS = 1000  # outbox rows loaded per database round
# A request slower than this halves the next ones: DS stops a request at 30 s (NOTES §5).
SLOW_REQUEST_SECONDS = 12.0
# Read-backs carry the whole dossier fragment: fewer per request.
READ_LIMITS = BatchLimits(max_items=20)
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
    label: str
    type: str  # DS type_champ


class LabelDefinition(Protocol):
    key: str
    name: str


class PushDefinition(Protocol):
    """What push needs of the procedure definition: the annotations and labels it writes."""

    annotations: tuple[AnnotationDefinition, ...]
    labels: tuple[LabelDefinition, ...]


class PushBinding(Protocol):
    """The démarche's stored binding (mappings.binding.Binding): key → DS id."""

    def id_of(self, key: str) -> str | None: ...


def read_live(client: DSClient, demarche_number: int, procedure: PushDefinition, binding: PushBinding,
              demarche: dict | None = None) -> LiveDemarche:
    """Annotation and label ids from the binding only (never by label); `demarche`:
    getDemarcheDescriptor's answer when the caller already read it this run."""
    if demarche is None:
        demarche = client.execute("getDemarcheDescriptor", {"demarcheNumber": demarche_number})["demarche"]
    revision = demarche.get("publishedRevision") or demarche.get("activeRevision") or {}
    live_annotations = {d["id"] for d in revision.get("annotationDescriptors") or []}
    live = LiveDemarche({}, {}, {}, {})
    for annotation in procedure.annotations:
        ds_id = binding.id_of(annotation.key)
        if ds_id is None or ds_id not in live_annotations:
            live.missing.append(f"annotation « {annotation.label} »")
            continue
        live.annotation_ids[annotation.key] = ds_id
        live.annotation_types[annotation.key] = VALUE_KEYS.get(annotation.type, "text")
    live_labels = {label["id"] for label in demarche.get("labels") or []}
    for label in procedure.labels:
        ds_id = binding.id_of(label.key)
        if ds_id is not None and ds_id in live_labels:
            live.label_ids[label.key] = ds_id
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
    requests: int = 0  # mutation requests (batches)
    already_on_ds: int = 0  # uncertain mutations found applied when DS was read back
    uncertain: int = 0  # mutations whose answer was lost (read back from DS before any resend)
    earlier_uncertain: int = 0  # mutations a previous run left `sending` (e.g. killed), settled at the start
    skipped_not_member: dict[str, int] = field(default_factory=dict)
    skipped_missing_groupe: dict[str, int] = field(default_factory=dict)
    planned_by_kind: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)  # DS error message → dossiers
    messages_due: int = 0  # dossiers this run would send a message to the applicant (one message each at most)
    withdrawn: int = 0  # messages not sent: DS showed the dossier no longer en_construction just before
    held: bool = False  # the circuit breaker tripped: nothing was sent (dry run: nothing would be)
    forced: bool = False  # the circuit breaker would have tripped, but the run was forced
    max_message_share: float = PushSettings.max_message_share
    dry_run: bool = False

    @property
    def mutations_per_request(self) -> float:
        return self.sent / self.requests if self.requests else 0.0

    def _messages_text(self) -> str:
        share = self.messages_due / self.dossiers if self.dossiers else 0.0
        return (f"{self.messages_due} of {self.dossiers} dossiers ({share:.0%}) would get a message to the applicant, "
                f"above the {self.max_message_share:.0%} limit (WIF_PUSH_MAX_MESSAGE_SHARE)")

    def line(self) -> str:
        if self.held:
            # Never a "delivered" count here: nothing was.
            if self.dry_run:
                return (f"push démarche {self.demarche_number}: {self.dossiers} dossiers, {self.planned} mutations planned; "
                        f"a real run would HOLD them all: {self._messages_text()}; `--force` sends them")
            return (f"push démarche {self.demarche_number}: HELD, nothing sent: {self._messages_text()}; "
                    f"{self.planned} mutations kept unsent. If the form changed, check it (`wif procedure check`); "
                    f"if these messages are right, run `wif push --force`")
        delivered = f"{self.delivered} delivered"
        if self.already_on_ds:
            delivered += f" ({self.already_on_ds} already on DS)"
        text = (
            f"push démarche {self.demarche_number}: {self.dossiers} dossiers, {self.planned} mutations planned, "
            f"{delivered}, {self.failed} failed, {self.deferred} deferred"
        )
        if self.requests:
            text += f", {self.requests} requests"
        if self.earlier_uncertain:
            text += f"; {self.earlier_uncertain} mutation(s) left uncertain by an earlier run settled from DS"
        if self.skipped_not_member:
            text += f"; connector instructeur not in groupe(s) {sorted(self.skipped_not_member)}: run `wif procedure apply`"
        for message, count in sorted(self.refusals.items()):
            text += f"; DS refused ({count} dossier(s)): {message}"
        if self.skipped_missing_groupe:
            text += f"; groupe(s) missing on DS {sorted(self.skipped_missing_groupe)}: run `wif procedure apply`"
        if self.withdrawn:
            text += f"; {self.withdrawn} message(s) not sent: the dossier left en_construction on DS since the sync"
        if self.forced:
            text += f"; circuit breaker overridden (--force): {self._messages_text()}"
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
class Delivery:
    """One outbox row on its way, with what its mutation needs of the dossier."""

    row: models.PushOutbox
    ds_id: str
    state: str


class PushProgress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, mutations: int) -> None: ...
    def finish(self) -> None: ...


@dataclass
class Pusher:
    client: DSClient
    sessions: sessionmaker[Session]
    procedure: PushDefinition
    # Each démarche's binding, loaded once for the run (jobs.binding checks it first).
    bindings: Mapping[int, PushBinding]
    # The APT rules: what the dossier should show on DS (mappings.target.target_for).
    target_for: Callable[[DossierSnapshot], Target]
    instructeur_id: str
    dry_run: bool = False
    pass_complete_to_instruction: bool = False
    disable_notification: bool = False
    now: Callable[[], datetime] = utcnow
    backoff: timedelta = timedelta(minutes=5)
    limits: BatchLimits = field(default_factory=BatchLimits)
    # The circuit breaker (WIF_PUSH_MAX_MESSAGE_SHARE, WIF_PUSH_HOLD_MIN_MESSAGES); `force` overrides it.
    max_message_share: float = PushSettings.max_message_share
    hold_min_messages: int = PushSettings.hold_min_messages
    force: bool = False
    progress: PushProgress | None = None
    # getDemarcheDescriptor's answers the caller already read this run, by démarche (used once).
    demarches: dict[int, dict] = field(default_factory=dict)
    # Told the plan before anything is sent: (summary, mutations due, requests they need at most).
    announce: Callable[[PushSummary, int, int], None] | None = None
    # Test hooks: after each mutation is sent and recorded; after a request's
    # answer came back, before it is recorded (a kill there leaves rows `sending`).
    after_send: Callable[[models.PushOutbox], None] | None = None
    after_request: Callable[[list[models.PushOutbox]], None] | None = None

    def push(self, demarche_number: int, everything: bool = False, only: frozenset[int] | None = None) -> PushSummary:
        """Plan and send what DS lacks. Without `everything`, only dossiers
        synced since the last complete push, or still owed a mutation; with
        `only`, just those dossiers (a webhook's hint), and the checkpoint stays."""
        started = self.now()
        summary = PushSummary(demarche_number, max_message_share=self.max_message_share, dry_run=self.dry_run)
        requests_before = self.client.stats.requests
        binding = self.bindings.get(demarche_number)
        if binding is None:
            raise PushStopped(f"démarche {demarche_number} is not bound: nothing pushed; run `wif procedure bind`")
        live = read_live(self.client, demarche_number, self.procedure, binding, self.demarches.pop(demarche_number, None))
        for missing in live.missing:
            log.warning("push: %s is missing on the démarche: run `wif procedure check`", missing)
        if not self.dry_run:
            self._settle_uncertain(demarche_number, live, summary, only)
        managed = frozenset(label.key for label in self.procedure.labels)
        since = None if everything or only is not None else self._checkpoint(demarche_number)
        due = self._plan(demarche_number, since, only, live, managed, summary)
        if self._breaker_trips(summary):
            if not self.force:
                # The planned rows stay pending, owed: the next run plans them again and holds again until forced.
                summary.held = True
                summary.requests = self.client.stats.requests - requests_before
                log.warning("%s", summary.line())
                return summary
            summary.forced = True
            log.warning("push démarche %s: circuit breaker overridden by --force: %d message(s) for %d dossier(s)",
                        demarche_number, summary.messages_due, summary.dossiers)
        if self.announce:
            self.announce(summary, due, -(-due // max(1, self.limits.max_items)))
        if not self.dry_run and due:
            self._deliver_due(demarche_number, only, live, summary, due)
        summary.requests = self.client.stats.requests - requests_before
        # Dossiers skipped for a cause DS-side (groupe, membership, a missing
        # label or annotation) must be planned again once `procedure apply` ran.
        if only is None and not (self.dry_run or live.missing or summary.skipped_not_member or summary.skipped_missing_groupe):
            self._advance_checkpoint(demarche_number, started)
        return summary

    def _breaker_trips(self, summary: PushSummary) -> bool:
        """Would this run message too many of the dossiers it considers? Many applicants asked to
        correct at once is what a misread form (other ids, renamed champs) looks like; the whole run
        is held, annotations and labels too, because they come from the same reading of the form."""
        return (summary.messages_due > self.hold_min_messages
                and summary.messages_due > self.max_message_share * summary.dossiers)

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

    def _batches(self, demarche_number: int, since: datetime | None, only: frozenset[int] | None = None
                 ) -> Iterator[list[tuple[models.Dossier, list[models.PushOutbox]]]]:
        owed = select(models.PushOutbox.dossier_number).where(models.PushOutbox.status.in_(("pending", "sending")))
        recent = or_(models.Dossier.synced_at >= since, models.Dossier.number.in_(owed)) if since else true()
        chosen = models.Dossier.number.in_(sorted(only)) if only is not None else true()
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

    # -- 1. plan -------------------------------------------------------------

    def _plan(self, demarche_number: int, since: datetime | None, only: frozenset[int] | None, live: LiveDemarche,
              managed: frozenset[str], summary: PushSummary) -> int:
        """Write what each dossier needs as `pending` rows; the number of rows due now."""
        due = 0
        for batch in self._batches(demarche_number, since, only):
            now = self.now()
            with self.sessions() as session:
                for dossier, rows in batch:
                    summary.dossiers += 1
                    current = current_state(dossier, rows, live)
                    intents = plan(self.target_for(snapshot_of(dossier)), current, managed)
                    intents = self._sendable(intents, dossier, current.groupe_label, live, summary)
                    if self.pass_complete_to_instruction and dossier.state == "en_construction" and dossier.completeness_status == "complet":
                        intents.append(Intent("instruction", {"disable_notification": self.disable_notification}))
                    wanted = set()
                    for intent in intents:
                        summary.planned += 1
                        summary.planned_by_kind[intent.kind] = summary.planned_by_kind.get(intent.kind, 0) + 1
                        if self.dry_run:
                            summary.messages_due += intent.kind == "message"
                            print(f"  dossier {dossier.number}: {intent.kind} {_describe(intent)}")
                            continue
                        row = self._outbox_row(session, dossier, intent, rows, now)
                        wanted.add(id(row))
                        if row.status == "failed" or (row.next_attempt_at and row.next_attempt_at > now):
                            summary.deferred += 1
                        elif row.status == "pending":
                            due += 1
                            summary.messages_due += intent.kind == "message"
                    for row in rows:
                        # Planned once, no longer wanted (the dossier changed): never send it.
                        if not self.dry_run and row.status == "pending" and id(row) not in wanted and row.id is not None:
                            session.merge(row, load=True).status = "superseded"
                if not self.dry_run:
                    session.commit()
        return due

    def _outbox_row(self, session: Session, dossier: models.Dossier, intent: Intent, rows: list[models.PushOutbox], now: datetime) -> models.PushOutbox:
        for index, row in enumerate(rows):
            if row.kind == intent.kind and row.payload_hash == intent.payload_hash and row.status in ("pending", "sending", "failed"):
                merged = session.merge(row, load=True)
                rows[index] = merged
                return merged
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
            if intent.kind == "message" and dossier.state != "en_construction":
                # With the correction flag DS takes an en_instruction dossier back to en_construction
                # (NOTES §13): once instruction has begun, asking the applicant is the agent's decision.
                continue
            kept.append(intent)
        return kept

    # -- 2. deliver ----------------------------------------------------------

    def _due(self, session: Session, demarche_number: int, only: frozenset[int] | None, now: datetime) -> list[Delivery]:
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

    def _deliver_due(self, demarche_number: int, only: frozenset[int] | None, live: LiveDemarche,
                     summary: PushSummary, total: int) -> None:
        if self.progress:
            self.progress.start(total)
        try:
            while True:
                with self.sessions() as session:
                    deliveries = self._due(session, demarche_number, only, self.now())
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
                deliveries = self._still_en_construction(deliveries, summary)
                if not deliveries:
                    continue
                items = [self._item(d, live) for d in deliveries]
                start = 0
                while start < len(deliveries):
                    # The limits may shrink after a timeout: split what is left each time.
                    size = len(split(items[start:start + self.limits.max_items], self.limits)[0])
                    self._send_chunk(deliveries[start:start + size], items[start:start + size], live, summary)
                    if self.progress:
                        self.progress.advance(size)
                    start += size
        finally:
            if self.progress:
                self.progress.finish()

    def _still_en_construction(self, deliveries: list[Delivery], summary: PushSummary) -> list[Delivery]:
        """Messages go only to dossiers DS still shows en_construction: an agent may have started
        instruction since our sync, and the correction flag would take the dossier back (NOTES §13).
        A dossier whose state cannot be read now gets its message later, never blind."""
        numbers = sorted({d.row.dossier_number for d in deliveries if d.row.kind == "message"})
        if not numbers:
            return deliveries
        states: dict[int, str | None] = {}
        items = [BatchItem("getDossierState", {"dossierNumber": n}) for n in numbers]
        try:
            for chunk_numbers, chunk in _chunks(numbers, items, STATE_LIMITS):
                for number, result in zip(chunk_numbers, self.client.execute_batch(chunk).results):
                    if result.data is not None:
                        states[number] = result.data.get("state")
                    elif not result.timed_out:
                        states[number] = None  # no longer on DS
        except DSError as error:
            log.warning("push: the state of %d dossier(s) could not be read before messaging them: %s", len(numbers), error)
        held = [d for d in deliveries if d.row.kind == "message" and states.get(d.row.dossier_number, "?") != "en_construction"]
        if not held:
            return deliveries
        now = self.now()
        with self.sessions() as session:
            for delivery in held:
                row = session.get(models.PushOutbox, delivery.row.id)
                number = delivery.row.dossier_number
                if number in states:
                    row.status = "superseded"
                    row.last_error = f"not sent: the dossier is {states[number] or 'gone'} on DS"
                    summary.withdrawn += 1
                else:
                    self._retry_later(session, row, "not sent: the dossier's state could not be read", now, summary)
            session.commit()
        kept = {id(d) for d in deliveries} - {id(d) for d in held}
        return [d for d in deliveries if id(d) in kept]

    def _item(self, delivery: Delivery, live: LiveDemarche) -> BatchItem:
        row, payload = delivery.row, delivery.row.payload
        base = {"clientMutationId": f"wif-{row.id}", "dossierId": delivery.ds_id}
        if row.kind == "groupe":
            variables = {**base, "groupeInstructeurId": live.groupes[payload["groupe_label"]]["id"]}
        elif row.kind == "annotations":
            annotations = [
                {"id": live.annotation_ids[key], "value": {live.annotation_types[key]: value}}
                for key, value in payload["values"].items()
            ]
            variables = {**base, "instructeurId": self.instructeur_id, "annotations": annotations}
        elif row.kind in ("label_add", "label_remove"):
            variables = {**base, "labelId": live.label_ids[payload["label_key"]]}
        elif row.kind == "message":
            variables = {**base, "instructeurId": self.instructeur_id, "body": payload["body"]}
            if payload.get("correction") and delivery.state == "en_construction":
                variables["correction"] = payload["correction"]
        elif row.kind == "instruction":
            variables = {**base, "instructeurId": self.instructeur_id, "disableNotification": payload["disable_notification"]}
        else:
            raise ValueError(f"unknown push intent {row.kind}")
        return BatchItem(MUTATION_OF[row.kind], {"input": variables})

    def _send_chunk(self, chunk: list[Delivery], items: list[BatchItem], live: LiveDemarche, summary: PushSummary) -> None:
        now = self.now()
        with self.sessions() as session:
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
                answer = self.client.execute_batch(items)
            except DSAnswerLost as error:
                log.warning("push: %s", error)
                summary.uncertain += len(rows)
                self._settle(session, rows, live, summary, now)
                session.commit()
                return
            except DSUnavailable as error:  # never reached DS (429s, refused connections)
                for row in rows:
                    self._retry_later(session, row, str(error), now, summary)
                session.commit()
                return
            except (DSAuthenticationError, DSForbidden):
                for row in rows:
                    row.status, row.attempts = "pending", row.attempts - 1
                session.commit()
                raise
            except DSError as error:  # the whole request was refused: nothing ran
                for row in rows:
                    self._mark(session, row, "failed", str(error), now)
                    summary.failed += 1
                session.commit()
                log.error("push: %d mutation(s) refused by DS: %s", len(rows), error)
                return
            if self.after_request:
                self.after_request(rows)
            uncertain = []
            for index, (row, result) in enumerate(zip(rows, answer.results)):
                if result.data is not None:
                    try:
                        self._record(session, row, items[index].operation, result.data, live, now, summary)
                    except PushStopped:
                        for untouched in rows[index + 1:]:  # nothing was applied with a read-only token
                            untouched.status, untouched.attempts = "pending", untouched.attempts - 1
                        session.commit()
                        raise
                elif result.timed_out:
                    uncertain.append(row)
                else:
                    self._mark(session, row, "failed", str(result.error), now)
                    summary.failed += 1
                    log.error("push dossier %s %s: %s", row.dossier_number, row.kind, result.error)
            if answer.timed_out or answer.seconds > SLOW_REQUEST_SECONDS:
                smaller = max(1, len(rows) // 2)
                if smaller < self.limits.max_items:
                    log.warning("push: DS %s after %.1fs: %d mutations per request from now on",
                                "timed out" if answer.timed_out else "was slow", answer.seconds, smaller)
                    self.limits = BatchLimits(smaller, self.limits.max_tokens, self.limits.max_complexity)
            session.commit()
            if uncertain:
                summary.uncertain += len(uncertain)
                self._settle(session, uncertain, live, summary, now)
                session.commit()
        if self.after_send:
            for row in rows:
                self.after_send(row)

    def _record(self, session: Session, row: models.PushOutbox, operation: str, payload: dict,
                live: LiveDemarche, now: datetime, summary: PushSummary) -> None:
        errors = [e["message"] for e in payload.get("errors") or []]
        rejection = classify_rejection(operation, errors)
        if rejection is Rejection.READ_ONLY:
            self._mark(session, row, "failed", errors[0], now)
            session.commit()
            raise PushStopped(
                "DS refused the mutation: the API token is read-only. Push stopped; use a read/write token, "
                "or set WIF_PUSH_ENABLED=false for a read-only deployment."
            )
        if row.kind == "annotations" and payload.get("annotations") is not None and errors:
            saved_ids = {a.get("champDescriptorId") or a.get("id") for a in payload["annotations"]}
            saved = {k for k in row.payload["values"] if live.annotation_ids.get(k) in saved_ids}
            self._split_annotations(session, row, saved, "; ".join(errors), now, summary)
            for error in errors:
                summary.refusals[error] = summary.refusals.get(error, 0) + 1
            return
        if rejection in (None, Rejection.ALREADY_DONE):
            self._mark(session, row, "delivered", None, now)
            summary.delivered += 1
            return
        for error in errors:
            summary.refusals[error] = summary.refusals.get(error, 0) + 1
        self._retry_later(session, row, "; ".join(errors), now, summary)

    def _split_annotations(self, session: Session, row: models.PushOutbox, saved: set[str], error: str,
                           now: datetime, summary: PushSummary, *, backoff: bool = True) -> None:
        """Some values of the row are on DS: those are delivered (a row of their
        own), only the others are sent again."""
        values = row.payload["values"]
        done = {k: v for k, v in values.items() if k in saved}
        rest = {k: v for k, v in values.items() if k not in saved}
        if done:
            session.add(models.PushOutbox(
                dossier_number=row.dossier_number, kind="annotations", payload={"values": done},
                payload_hash=Intent("annotations", {"values": done}).payload_hash, status="delivered", attempts=row.attempts,
                client_mutation_id=row.client_mutation_id, created_at=row.created_at, delivered_at=now,
            ))
            summary.delivered += 1
        row.payload = {"values": rest}
        row.payload_hash = Intent("annotations", {"values": rest}).payload_hash
        if backoff:
            self._retry_later(session, row, error, now, summary)
        else:
            self._resend(session, row, error, now, summary)

    def _retry_later(self, session: Session, row: models.PushOutbox, error: str, now: datetime, summary: PushSummary) -> None:
        if row.attempts >= MAX_ATTEMPTS:
            self._mark(session, row, "failed", error, now)
            summary.failed += 1
            log.error("push dossier %s %s failed after %d attempts: %s", row.dossier_number, row.kind, row.attempts, error)
            return
        row.status = "pending"
        row.last_error = error[:2000]
        row.next_attempt_at = now + self.backoff * 2 ** (row.attempts - 1)
        summary.deferred += 1

    def _resend(self, session: Session, row: models.PushOutbox, error: str, now: datetime, summary: PushSummary) -> None:
        """DS was read and the mutation is not there: due again at once."""
        if row.attempts >= MAX_ATTEMPTS:
            self._mark(session, row, "failed", error, now)
            summary.failed += 1
            return
        row.status = "pending"
        row.last_error = error[:2000]
        row.next_attempt_at = None

    def _mark(self, session: Session, row: models.PushOutbox, status: str, error: str | None, now: datetime) -> None:
        row.status = status
        row.last_error = error[:2000] if error else None
        if status == "delivered":
            row.delivered_at = now

    # -- 3. uncertain rows: read DS before any resend ------------------------

    def _settle_uncertain(self, demarche_number: int, live: LiveDemarche, summary: PushSummary,
                          only: frozenset[int] | None) -> None:
        """Rows a previous run left `sending` (killed, or DS unreachable when
        it tried to read back): settled from what DS shows now."""
        now = self.now()
        with self.sessions() as session:
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
                self._settle(session, rows, live, summary, now)
                session.commit()

    def _settle(self, session: Session, rows: list[models.PushOutbox], live: LiveDemarche,
                summary: PushSummary, now: datetime) -> None:
        """Read each dossier back from DS, then mark each row delivered (it is
        there) or due again (it is not). If DS cannot be read, the rows stay
        `sending` for the next run: nothing is resent blind."""
        numbers = sorted({row.dossier_number for row in rows})
        items = [BatchItem("getDossier", {"dossierNumber": n}) for n in numbers]
        shown: dict[int, dict | None] = {}
        for chunk_numbers, chunk in _chunks(numbers, items, READ_LIMITS):
            answer = self.client.execute_batch(chunk)
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
                self._mark(session, row, "failed", "the dossier is no longer on DS", now)
                summary.failed += 1
                continue
            if row.kind == "annotations":
                saved = _annotations_on_ds(row, dossier, live)
                if saved == set(row.payload["values"]):
                    self._mark(session, row, "delivered", None, now)
                    summary.delivered += 1
                    summary.already_on_ds += 1
                else:
                    self._split_annotations(session, row, saved, "not found on DS after a lost answer", now, summary,
                                            backoff=False)
                    summary.already_on_ds += bool(saved)
                continue
            if _arrived(row, dossier, live):
                self._mark(session, row, "delivered", None, now)
                summary.delivered += 1
                summary.already_on_ds += 1
            else:
                self._resend(session, row, "not found on DS after a lost answer", now, summary)


def _chunks(keys: list, items: list[BatchItem], limits: BatchLimits):
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


def _describe(intent: Intent) -> str:
    if intent.kind == "annotations":
        return ", ".join(sorted(intent.payload["values"]))
    if intent.kind == "message":
        return f"({len(intent.payload['codes'])} finding(s), correction={intent.payload.get('correction')})"
    return str(next(iter(intent.payload.values()), ""))
