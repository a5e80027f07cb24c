"""In-memory state of the sandbox: démarches, dossiers, deletions, tokens.

One re-entrant lock guards everything; the server holds it while a GraphQL
request executes, so a request sees a consistent store. Dossiers are kept
compact (slots, champ values as plain Python values keyed by the sandbox's champ names);
GraphQL champ objects are built only when a query asks for them.
"""
from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sandbox.demarche import (
    CONNECTOR_INSTRUCTEUR_EMAIL,
    CONNECTOR_INSTRUCTEUR_NUMBER,
    Demarche,
    Groupe,
    Instructeur,
    Label,
    Revision,
    build_revisions,
)
from sandbox.form import Form, load_form
from sandbox.ids import gid

ONE_MICROSECOND = timedelta(microseconds=1)
# The API token every sandbox accepts (tests add others: read-only, expired, per démarche).
SANDBOX_TOKEN = "sandbox-token"
STATES = ("en_construction", "en_instruction", "accepte", "refuse", "sans_suite")
TERMINAL_STATES = ("accepte", "refuse", "sans_suite")
DECISION_EVENTS = {"accepte": "accepte", "refuse": "refuse", "sans_suite": "classe_sans_suite"}
# Traitement event → webhook event type (NOTES §17.2).
STATE_EVENTS = {
    "passe_en_instruction": "dossier_en_instruction", "repasse_en_instruction": "dossier_repasse_en_instruction",
    "repasse_en_construction": "dossier_repasse_en_construction", "accepte": "dossier_accepte",
    "refuse": "dossier_refuse", "classe_sans_suite": "dossier_sans_suite",
}


@dataclass(slots=True)
class Token:
    value: str
    expired: bool = False
    write: bool = True
    demarches: frozenset[int] | None = None  # None: every démarche

    def can_read(self, demarche_number: int) -> bool:
        return self.demarches is None or demarche_number in self.demarches


# Who runs a persisted query without a token: DS's context with no démarche and no write access.
ANONYMOUS = Token("", write=False, demarches=frozenset())


@dataclass(slots=True)
class MessageRecord:
    number: int
    email: str
    body: str
    created_at: datetime
    correction: str | None = None

    @property
    def id(self) -> str:
        return gid("Commentaire", self.number)


@dataclass(slots=True)
class TraitementRecord:
    event: str
    state: str
    at: datetime
    email: str | None = None
    motivation: str | None = None


@dataclass(slots=True)
class DeletedRecord:
    number: int
    dossier_number: int
    demarche: int
    state: str
    reason: str
    deleted_at: datetime


@dataclass(slots=True)
class DossierRecord:
    number: int
    demarche: int
    revision: int  # index in Demarche.revisions
    state: str
    depose_at: datetime
    groupe: int
    usager_email: str
    values: dict
    annotations: dict = field(default_factory=dict)
    updated_at: datetime | None = None
    champs_updated_at: datetime | None = None
    annotations_updated_at: datetime | None = None
    en_instruction_at: datetime | None = None
    processed_at: datetime | None = None
    labels: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    traitements: list = field(default_factory=list)
    hidden_at: datetime | None = None
    hidden_by: str | None = None  # "administration" or "usager"
    hidden_reason: str | None = None
    archived: bool = False
    motivation: str | None = None
    anomaly: tuple | None = None  # ("missing_champ", key) or ("extra_champ", stable_id)
    intent: str | None = None
    annotation_defect: str | None = None  # "missing" or "inverted" agent APT dates

    @property
    def id(self) -> str:
        return gid("Dossier", self.number)

    @property
    def en_construction_at(self) -> datetime:
        last = [t.at for t in self.traitements if t.event == "repasse_en_construction"]
        return last[-1] if last else self.depose_at


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.demarches: dict[int, Demarche] = {}
        self.dossiers: dict[int, DossierRecord] = {}
        self.deleted: dict[int, list[DeletedRecord]] = {}
        self.tokens: dict[str, Token] = {}
        self.instructeurs: dict[int, Instructeur] = {}
        self.mutation_log: list[tuple[str, dict]] = []
        # Called with (event type, dossier, previous state) on every change; the
        # webhook sender (sandbox.webhooks) listens here.
        self.listeners: list = []
        self._by_depose: dict[int, list[tuple[datetime, int]]] = {}
        self._by_updated: dict[int, list[tuple[datetime, int]]] = {}
        self._trash: dict[int, list[tuple[datetime, int]]] = {}
        self._last_time = datetime(2000, 1, 1, tzinfo=timezone.utc)
        self._counters: dict[str, int] = {}
        self.instructeurs[CONNECTOR_INSTRUCTEUR_NUMBER] = Instructeur(CONNECTOR_INSTRUCTEUR_NUMBER, CONNECTOR_INSTRUCTEUR_EMAIL)
        self._counters["Instructeur"] = CONNECTOR_INSTRUCTEUR_NUMBER
        self.add_token(SANDBOX_TOKEN)

    # --- clock and ids ----------------------------------------------------
    def now(self) -> datetime:
        """Strictly increasing UTC clock: two bumps never share an updated_at."""
        with self.lock:
            self._last_time = max(datetime.now(timezone.utc), self._last_time + ONE_MICROSECOND)
            return self._last_time

    def observe_time(self, moment: datetime) -> None:
        """Seeded dates must stay before anything the clock gives later."""
        self._last_time = max(self._last_time, moment)

    def next_id(self, kind: str) -> int:
        with self.lock:
            self._counters[kind] = self._counters.get(kind, 0) + 1
            return self._counters[kind]

    # --- tokens -----------------------------------------------------------
    def add_token(self, value: str, expired: bool = False, write: bool = True, demarches=None) -> Token:
        token = Token(value, expired, write, frozenset(demarches) if demarches is not None else None)
        self.tokens[value] = token
        return token

    # --- démarches, groupes, instructeurs ----------------------------------
    def add_demarche(
        self,
        form: Form | None = None,
        groupe_labels: list[str] | None = None,
        created_at: datetime | None = None,
        number: int | None = None,
    ) -> Demarche:
        """A published démarche of `form` (default: the sandbox's form, with stable ids of its own)."""
        with self.lock:
            number = number or self.next_id("Procedure")
            self._counters["Procedure"] = max(self._counters.get("Procedure", 0), number)
            form = form or load_form(f"demarche-{number}")
            created_at = created_at or self.now()
            revisions = build_revisions(form, created_at, created_at + timedelta(days=180))
            for revision in revisions:
                revision.number = self.next_id("ProcedureRevision")
            labels = [Label(self.next_id("Label"), name, color) for name, color in form.labels]
            demarche = Demarche(number, form.title, revisions, labels, [])
            self.demarches[number] = demarche
            self.deleted[number] = []
            self._by_depose[number] = []
            self._by_updated[number] = []
            self._trash[number] = []
            for label in groupe_labels or ["défaut"]:
                groupe = self.add_groupe(number, label)
                self.add_instructeur(groupe.number, f"instructeur.{groupe.number}@example.gouv.fr")
            return demarche

    def publish_revision(self, demarche_number: int, *, labels: dict[str, str] | None = None,
                         removed: tuple[str, ...] = ()) -> Revision:
        """An administrateur publishes a new revision (labels reworded, champs removed): see Demarche.publish_revision."""
        with self.lock:
            return self.demarches[demarche_number].publish_revision(
                self.next_id("ProcedureRevision"), self.now(), labels=labels, removed=removed)

    def add_groupe(self, demarche_number: int, label: str, closed: bool = False) -> Groupe:
        """A groupe with the connector's instructeur in it, as groupeInstructeurCreer does."""
        with self.lock:
            groupe = Groupe(self.next_id("GroupeInstructeur"), label, closed=closed)
            groupe.instructeurs.append(self.instructeurs[CONNECTOR_INSTRUCTEUR_NUMBER])
            self.demarches[demarche_number].groupes.append(groupe)
            return groupe

    def remove_groupe(self, demarche_number: int, groupe_number: int) -> None:
        """DS refuses to delete a groupe that holds dossiers: they move to the first remaining groupe first."""
        with self.lock:
            demarche = self.demarches[demarche_number]
            demarche.groupes = [g for g in demarche.groupes if g.number != groupe_number]
            if not demarche.groupes:
                raise ValueError("a démarche keeps at least one groupe instructeur")
            for dossier in self.dossiers.values():
                if dossier.demarche == demarche_number and dossier.groupe == groupe_number:
                    self.move_to_groupe(dossier.number, demarche.groupes[0].number)

    def find_groupe(self, groupe_number: int) -> tuple[Demarche, Groupe] | None:
        for demarche in self.demarches.values():
            groupe = demarche.groupe(groupe_number)
            if groupe:
                return demarche, groupe
        return None

    def instructeur_by_email(self, email: str, create: bool = True) -> Instructeur | None:
        with self.lock:
            for instructeur in self.instructeurs.values():
                if instructeur.email == email:
                    return instructeur
            if not create:
                return None
            instructeur = Instructeur(self.next_id("Instructeur"), email)
            self.instructeurs[instructeur.number] = instructeur
            return instructeur

    def add_instructeur(self, groupe_number: int, email: str) -> Instructeur:
        with self.lock:
            _, groupe = self.find_groupe(groupe_number)
            instructeur = self.instructeur_by_email(email)
            if not groupe.has_instructeur(instructeur.number):
                groupe.instructeurs.append(instructeur)
            return instructeur

    def remove_instructeur(self, groupe_number: int, instructeur_number: int) -> None:
        with self.lock:
            _, groupe = self.find_groupe(groupe_number)
            groupe.instructeurs = [i for i in groupe.instructeurs if i.number != instructeur_number]

    # --- dossiers: loading ------------------------------------------------
    def load_dossiers(self, records: list[DossierRecord], deleted: list[DeletedRecord] = ()) -> None:
        """Bulk insert of generated dossiers (indexes sorted once at the end)."""
        with self.lock:
            for record in records:
                self.dossiers[record.number] = record
                self.observe_time(record.updated_at)
                if record.hidden_at:
                    self._trash[record.demarche].append((record.hidden_at, record.number))
                else:
                    self._by_depose[record.demarche].append((record.depose_at, record.number))
                    self._by_updated[record.demarche].append((record.updated_at, record.number))
                self._counters["Dossier"] = max(self._counters.get("Dossier", 0), record.number)
                for message in record.messages:
                    self._counters["Commentaire"] = max(self._counters.get("Commentaire", 0), message.number)
            for entry in deleted:
                self.deleted.setdefault(entry.demarche, []).append(entry)
                self.observe_time(entry.deleted_at)
                self._counters["DeletedDossier"] = max(self._counters.get("DeletedDossier", 0), entry.number)
            for index in (*self._by_depose.values(), *self._by_updated.values(), *self._trash.values()):
                index.sort()
            for entries in self.deleted.values():
                entries.sort(key=lambda e: (e.deleted_at, e.number))

    # --- dossiers: reading ------------------------------------------------
    def dossier(self, number: int) -> DossierRecord:
        try:
            return self.dossiers[number]
        except KeyError:
            raise KeyError(f"no dossier {number} in the sandbox") from None

    def ordered(self, demarche_number: int, by_updated: bool) -> list[tuple[datetime, int]]:
        return (self._by_updated if by_updated else self._by_depose)[demarche_number]

    def trash_index(self, demarche_number: int) -> list[tuple[datetime, int]]:
        return self._trash[demarche_number]

    def visible_dossiers(self, demarche_number: int = 1) -> list[DossierRecord]:
        """What `dossiers` returns, in (depose_at, number) order."""
        with self.lock:
            return [self.dossiers[n] for _, n in self._by_depose[demarche_number]]

    def intent(self, number: int) -> str | None:
        return self.dossier(number).intent

    def intents(self, demarche_number: int = 1, visible_only: bool = True) -> dict[int, str]:
        with self.lock:
            records = self.visible_dossiers(demarche_number) if visible_only else [
                d for d in self.dossiers.values() if d.demarche == demarche_number
            ]
            return {d.number: d.intent for d in records}

    def emit(self, event: str, dossier: DossierRecord, previous_state: str | None = None) -> None:
        for listener in list(self.listeners):
            listener(event, dossier, previous_state)

    # --- dossiers: changes (each bumps updated_at unless said otherwise) ---
    def bump(self, dossier: DossierRecord) -> datetime:
        with self.lock:
            visible = dossier.hidden_at is None
            if visible:
                self._remove(self._by_updated[dossier.demarche], (dossier.updated_at, dossier.number))
            dossier.updated_at = self.now()
            if visible:
                bisect.insort(self._by_updated[dossier.demarche], (dossier.updated_at, dossier.number))
            return dossier.updated_at

    def modify(self, number: int, **champ_values) -> DossierRecord:
        """Change champ values (keys of the procedure), as a merged usager edit."""
        with self.lock:
            dossier = self.dossier(number)
            dossier.values.update(champ_values)
            dossier.champs_updated_at = self.bump(dossier)
            self.emit("dossier_modifie", dossier)
            return dossier

    def set_annotations(self, number: int, **values) -> DossierRecord:
        with self.lock:
            dossier = self.dossier(number)
            dossier.annotations.update(values)
            dossier.annotations_updated_at = self.bump(dossier)
            self.emit("dossier_modifie", dossier)
            return dossier

    def set_state(self, number: int, state: str, email: str | None = None, motivation: str | None = None) -> DossierRecord:
        if state not in STATES:
            raise ValueError(f"unknown dossier state {state!r}")
        with self.lock:
            dossier = self.dossier(number)
            at = self.now()
            event = _event_for(dossier.state, state)
            dossier.traitements.append(TraitementRecord(event, state, at, email, motivation))
            if state == "en_instruction":
                dossier.en_instruction_at = at
            if state in TERMINAL_STATES:
                dossier.processed_at = at
                dossier.motivation = motivation
            previous, dossier.state = dossier.state, state
            self.bump(dossier)
            self.emit(STATE_EVENTS[event], dossier, previous)
            return dossier

    def add_message(self, number: int, email: str, body: str, correction: str | None = None) -> MessageRecord:
        with self.lock:
            dossier = self.dossier(number)
            message = MessageRecord(self.next_id("Commentaire"), email, body, self.now(), correction)
            dossier.messages.append(message)
            self.bump(dossier)
            self.emit("message_cree", dossier)
            return message

    def set_archived(self, number: int, archived: bool = True) -> None:
        with self.lock:
            dossier = self.dossier(number)
            dossier.archived = archived
            self.bump(dossier)

    def move_to_groupe(self, number: int, groupe_number: int) -> None:
        with self.lock:
            dossier = self.dossier(number)
            dossier.groupe = groupe_number
            self.bump(dossier)
            self.emit("groupe_instructeur_change", dossier)

    def add_label(self, number: int, label_number: int) -> None:
        """Labels do not touch the dossier in DS (NOTES §7.2): no bump."""
        with self.lock:
            self.dossier(number).labels.append(label_number)
            self.emit("dossier_label_ajoute", self.dossier(number))

    def remove_label(self, number: int, label_number: int) -> None:
        with self.lock:
            self.dossier(number).labels.remove(label_number)
            self.emit("dossier_label_supprime", self.dossier(number))

    def trash(self, number: int, by: str | None = None) -> None:
        """Put in the trash: gone from `dossiers`, listed in pendingDeletedDossiers."""
        with self.lock:
            dossier = self.dossier(number)
            if dossier.hidden_at:
                return
            by = by or ("usager" if dossier.state == "en_construction" else "administration")
            self._remove(self._by_depose[dossier.demarche], (dossier.depose_at, dossier.number))
            self._remove(self._by_updated[dossier.demarche], (dossier.updated_at, dossier.number))
            dossier.updated_at = dossier.hidden_at = self.now()
            dossier.hidden_by = by
            dossier.hidden_reason = "user_request" if by == "usager" else "instructeur_request"
            bisect.insort(self._trash[dossier.demarche], (dossier.hidden_at, dossier.number))
            self.emit("dossier_supprime", dossier)

    def restore(self, number: int) -> None:
        with self.lock:
            dossier = self.dossier(number)
            if not dossier.hidden_at:
                return
            self._remove(self._trash[dossier.demarche], (dossier.hidden_at, dossier.number))
            dossier.hidden_at = dossier.hidden_by = dossier.hidden_reason = None
            dossier.updated_at = self.now()
            bisect.insort(self._by_depose[dossier.demarche], (dossier.depose_at, dossier.number))
            bisect.insort(self._by_updated[dossier.demarche], (dossier.updated_at, dossier.number))
            self.emit("dossier_restaure", dossier)

    def delete(self, number: int, reason: str = "user_request") -> DeletedRecord:
        """Permanent deletion: the dossier only remains as a deletedDossiers row."""
        with self.lock:
            dossier = self.dossier(number)
            if dossier.hidden_at:
                self._remove(self._trash[dossier.demarche], (dossier.hidden_at, dossier.number))
            else:
                self._remove(self._by_depose[dossier.demarche], (dossier.depose_at, dossier.number))
                self._remove(self._by_updated[dossier.demarche], (dossier.updated_at, dossier.number))
            del self.dossiers[number]
            entry = DeletedRecord(self.next_id("DeletedDossier"), number, dossier.demarche, dossier.state, reason, self.now())
            self.deleted[dossier.demarche].append(entry)
            self.emit("dossier_supprime", dossier)
            return entry

    @staticmethod
    def _remove(index: list, key: tuple) -> None:
        position = bisect.bisect_left(index, key)
        if position < len(index) and index[position] == key:
            del index[position]


def _event_for(old_state: str, new_state: str) -> str:
    if new_state == "en_instruction":
        return "repasse_en_instruction" if old_state in TERMINAL_STATES else "passe_en_instruction"
    if new_state == "en_construction":
        return "repasse_en_construction"
    return DECISION_EVENTS[new_state]
