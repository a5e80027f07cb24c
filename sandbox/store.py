"""In-memory state of the sandbox: démarches, dossiers, deletions, tokens, uploaded blobs.

One re-entrant lock guards everything; the server holds it while a GraphQL
request executes, so a request sees a consistent store. Dossiers are kept
compact (slots, champ values as plain Python values keyed by the sandbox's champ names);
GraphQL champ objects are built only when a query asks for them.

A state change does what DS's does besides the state: the instructeur who takes a
dossier follows it, DS writes its own message to the usager, a decision carries its
justificatif, an accepted dossier gets its attestation. A newly published revision
reaches the dossiers not yet decided `rebase_delay` seconds later, as DS's rebase job
does (docs/ds-revisions.md).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, overload

from sandbox.demarche import (
    ADMINISTRATEUR_NUMBER,
    CONNECTOR_INSTRUCTEUR_EMAIL,
    CONNECTOR_INSTRUCTEUR_NUMBER,
    Demarche,
    Groupe,
    Instructeur,
    Label,
    Revision,
    Service,
    build_revisions,
)
from sandbox.files import Blobs, StoredFile
from sandbox.form import Form, load_form
from sandbox.ids import gid

ONE_MICROSECOND = timedelta(microseconds=1)
# DS rebases a dossier onto a newly published revision this long after publishing (DossierRebaseConcern).
REBASE_DELAY_SECONDS = 30.0
# The sender of the messages DS writes itself on a state change (CONTACT_EMAIL).
DS_CONTACT_EMAIL = "contact@demarche.numerique.gouv.fr"
# The subject of DS's default e-mail for each state, which DS also posts as a message.
STATE_MESSAGES = {
    "en_instruction": "Votre dossier nº {number} va être examiné",
    "accepte": "Votre dossier nº {number} a été accepté ({title})",
    "refuse": "Votre dossier nº {number} a été refusé ({title})",
    "sans_suite": "Votre dossier nº {number} a été classé sans suite ({title})",
    "repasse_en_instruction": "Votre dossier nº {number} est repassé en instruction ({title})",
}
# The API token every sandbox accepts (tests add others: read-only, expired, per démarche).
SANDBOX_TOKEN = "sandbox-token"
STATES = ("en_construction", "en_instruction", "accepte", "refuse", "sans_suite")
TERMINAL_STATES = ("accepte", "refuse", "sans_suite")
DECISION_EVENTS = {"accepte": "accepte", "refuse": "refuse", "sans_suite": "classe_sans_suite"}
# Traitement event → webhook event type (docs/ds-webhooks.md#events).
STATE_EVENTS = {
    "passe_en_instruction": "dossier_en_instruction",
    "repasse_en_instruction": "dossier_repasse_en_instruction",
    "repasse_en_construction": "dossier_repasse_en_construction",
    "accepte": "dossier_accepte",
    "refuse": "dossier_refuse",
    "classe_sans_suite": "dossier_sans_suite",
}


@dataclass(slots=True)
class Token:
    value: str
    expired: bool = False
    write: bool = True
    demarches: frozenset[int] | None = None  # None: every démarche
    administrateur: int = ADMINISTRATEUR_NUMBER

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
    correction: str | None = None  # the reason of a correction request
    resolved_at: datetime | None = None  # when the usager answered the correction request
    discarded_at: datetime | None = None
    attachments: tuple[StoredFile, ...] = ()

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
    revision: int | None = None  # index of the revision the dossier was on


@dataclass(slots=True)
class AvisRecord:
    """An expert's opinion an instructeur asked for."""

    number: int
    question: str
    claimant_email: str
    expert_email: str
    asked_at: datetime
    answer: str | None = None
    answered_at: datetime | None = None
    question_label: str | None = None  # a yes/no question asked alongside
    question_answer: bool | None = None
    attachments: tuple[StoredFile, ...] = ()


@dataclass(slots=True)
class DeletedRecord:
    number: int
    dossier_number: int
    demarche: int
    state: str
    reason: str
    deleted_at: datetime
    groupe: int | None = None


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
    followers: list = field(default_factory=list)  # numbers of the instructeurs who follow the dossier
    avis: list = field(default_factory=list)
    justificatif: StoredFile | None = None  # joined to the decision
    connection: str = "password"  # how the usager signs in: password or france_connect
    usager_deleted: bool = False

    @property
    def id(self) -> str:
        return gid("Dossier", self.number)

    @property
    def en_construction_at(self) -> datetime:
        last = [t.at for t in self.traitements if t.event == "repasse_en_construction"]
        return last[-1] if last else self.depose_at


class Store:
    def __init__(self, rebase_delay: float = REBASE_DELAY_SECONDS) -> None:
        self.lock = threading.RLock()
        self.rebase_delay = rebase_delay
        self.blobs = Blobs()
        self._rebases: list[tuple[datetime, int]] = []  # (due, dossier number)
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
        self._last_time = datetime(2000, 1, 1, tzinfo=UTC)
        self._counters: dict[str, int] = {}
        self.instructeurs[CONNECTOR_INSTRUCTEUR_NUMBER] = Instructeur(
            CONNECTOR_INSTRUCTEUR_NUMBER, CONNECTOR_INSTRUCTEUR_EMAIL
        )
        self._counters["Instructeur"] = CONNECTOR_INSTRUCTEUR_NUMBER
        self.add_token(SANDBOX_TOKEN)

    # --- clock and ids ----------------------------------------------------
    def now(self) -> datetime:
        """Strictly increasing UTC clock: two bumps never share an updated_at."""
        with self.lock:
            self._last_time = max(datetime.now(UTC), self._last_time + ONE_MICROSECOND)
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
            service = (
                Service(
                    self.next_id("Service"),
                    form.service["nom"],
                    form.service["organisme"],
                    form.service["type_organisme"],
                    form.service.get("siret"),
                )
                if form.service
                else None
            )
            demarche = Demarche(
                number,
                form.title,
                revisions,
                labels,
                [],
                description=form.description,
                created_at=created_at,
                published_at=created_at,
                service=service,
                path=form.path,
                draft_number=self.next_id("ProcedureRevision"),
                draft_created_at=revisions[-1].created_at,
            )
            self._register(demarche)
            for label in groupe_labels or ["défaut"]:
                groupe = self.add_groupe(number, label)
                self.add_instructeur(groupe.number, f"instructeur.{groupe.number}@example.gouv.fr")
            return demarche

    def _register(self, demarche: Demarche) -> None:
        number = demarche.number
        self.demarches[number] = demarche
        self.deleted[number] = []
        self._by_depose[number] = []
        self._by_updated[number] = []
        self._trash[number] = []

    def clone_demarche(self, number: int, title: str | None, same_administrateur: bool) -> Demarche:
        """DS's demarcheCloner: a brouillon copy with the same champs (same stable ids), labels and,
        for the démarche's own administrateur, groupes; never its service (docs/ds-mutations.md#demarchecloner)."""
        with self.lock:
            source = self.demarches[number]
            now = self.now()
            active = source.active_revision
            clone = Demarche(
                self.next_id("Procedure"),
                title or source.title,
                [],
                [Label(self.next_id("Label"), label.name, label.color) for label in source.labels],
                [],
                state="brouillon",
                description=source.description,
                created_at=now,
                path=f"{source.path}-copie-{now:%Y%m%d%H%M%S}",
                duree_conservation=min(source.duree_conservation, 12),
                attestation=source.attestation,
                for_individual=source.for_individual,
                draft_number=self.next_id("ProcedureRevision"),
                draft_created_at=now,
                draft_champs=(active.champs, active.annotations),
            )
            self._register(clone)
            if same_administrateur:
                for groupe in source.groupes:
                    copy = Groupe(
                        self.next_id("GroupeInstructeur"), groupe.label, list(groupe.instructeurs), closed=groupe.closed
                    )
                    clone.groupes.append(copy)
            else:
                self.add_groupe(clone.number, "défaut")
            return clone

    def publish_revision(
        self, demarche_number: int, *, labels: dict[str, str] | None = None, removed: tuple[str, ...] = ()
    ) -> Revision:
        """An administrateur publishes a new revision (labels reworded, champs removed): see Demarche.publish_revision.
        The dossiers not yet decided move onto it `rebase_delay` seconds later."""
        with self.lock:
            demarche = self.demarches[demarche_number]
            now = self.now()
            revision = demarche.publish_revision(self.next_id("ProcedureRevision"), now, labels=labels, removed=removed)
            for dossier in self.dossiers.values():
                if dossier.demarche == demarche_number and dossier.state not in TERMINAL_STATES:
                    self.rebase_later(dossier, now)
            return revision

    # --- rebase ----------------------------------------------------------------
    def rebase_later(self, dossier: DossierRecord, now: datetime | None = None) -> None:
        due = (now or self.now()) + timedelta(seconds=self.rebase_delay)
        self._rebases.append((due, dossier.number))

    def apply_due_rebases(self, now: datetime | None = None) -> int:
        """Move the dossiers whose rebase is due onto the newest published revision; how many moved.

        DS re-checks at that time: a dossier decided meanwhile stays where it is. The move does not
        touch dateDerniereModification (DS updates the revision column alone)."""
        with self.lock:
            now = now or datetime.now(UTC)
            due = [r for r in self._rebases if r[0] <= now]
            if not due:
                return 0
            self._rebases = [r for r in self._rebases if r[0] > now]
            moved = 0
            for _, number in due:
                dossier = self.dossiers.get(number)
                if dossier is None or dossier.state in TERMINAL_STATES:
                    continue
                demarche = self.demarches[dossier.demarche]
                target = len(demarche.revisions) - 1
                if dossier.revision != target:
                    _add_rows_for_new_repetitions(
                        demarche.revisions[dossier.revision], demarche.revisions[target], dossier
                    )
                    dossier.revision = target
                    moved += 1
            return moved

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

    def groupe(self, groupe_number: int) -> Groupe:
        found = self.find_groupe(groupe_number)
        if found is None:
            raise KeyError(f"no groupe instructeur {groupe_number} in the sandbox")
        return found[1]

    @overload
    def instructeur_by_email(self, email: str, create: Literal[True] = True) -> Instructeur: ...
    @overload
    def instructeur_by_email(self, email: str, create: bool) -> Instructeur | None: ...

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
            groupe = self.groupe(groupe_number)
            instructeur = self.instructeur_by_email(email)
            if not groupe.has_instructeur(instructeur.number):
                groupe.instructeurs.append(instructeur)
            return instructeur

    def remove_instructeur(self, groupe_number: int, instructeur_number: int) -> None:
        with self.lock:
            groupe = self.groupe(groupe_number)
            groupe.instructeurs = [i for i in groupe.instructeurs if i.number != instructeur_number]

    # --- dossiers: loading ------------------------------------------------
    def load_dossiers(self, records: list[DossierRecord], deleted: Sequence[DeletedRecord] = ()) -> None:
        """Bulk insert of generated dossiers (indexes sorted once at the end)."""
        with self.lock:
            for record in records:
                if record.updated_at is None:
                    raise ValueError(f"dossier {record.number} is loaded without the date of its last change")
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

    def intents(self, demarche_number: int = 1, visible_only: bool = True) -> dict[int, str | None]:
        with self.lock:
            records = (
                self.visible_dossiers(demarche_number)
                if visible_only
                else [d for d in self.dossiers.values() if d.demarche == demarche_number]
            )
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

    def set_state(
        self,
        number: int,
        state: str,
        email: str | None = None,
        motivation: str | None = None,
        justificatif: StoredFile | None = None,
        notify: bool = False,
    ) -> DossierRecord:
        """Change a dossier's state as an instructeur (`email`) does. `notify`: also what DS does around
        a change made through its API (the instructeur follows, DS writes its message, rebase)."""
        if state not in STATES:
            raise ValueError(f"unknown dossier state {state!r}")
        with self.lock:
            dossier = self.dossier(number)
            at = self.now()
            event = _event_for(dossier.state, state)
            dossier.traitements.append(TraitementRecord(event, state, at, email, motivation, dossier.revision))
            if state == "en_instruction":
                dossier.en_instruction_at = at
                if event == "repasse_en_instruction":
                    # DS forgets the decision: no motivation, justificatif nor attestation, back from "à archiver".
                    dossier.processed_at = dossier.motivation = dossier.justificatif = None
                    dossier.archived = False
            if state in TERMINAL_STATES:
                dossier.processed_at = at
                dossier.motivation = motivation
                dossier.justificatif = justificatif
            previous, dossier.state = dossier.state, state
            if notify:
                self._after_state_change(dossier, event, email)
            self.bump(dossier)
            self.emit(STATE_EVENTS[event], dossier, previous)
            return dossier

    def _after_state_change(self, dossier: DossierRecord, event: str, email: str | None) -> None:
        instructeur = self.instructeur_by_email(email, create=False) if email else None
        if event == "passe_en_instruction" and instructeur and instructeur.number not in dossier.followers:
            dossier.followers.append(instructeur.number)
        subject = STATE_MESSAGES.get("repasse_en_instruction" if event == "repasse_en_instruction" else dossier.state)
        if subject and event != "repasse_en_construction":
            text = subject.format(number=dossier.number, title=self.demarches[dossier.demarche].title)
            body = f"<p>[{text}]</p><p>Bonjour,</p><p>{text}.</p><p>Bonne journée,</p>"
            dossier.messages.append(MessageRecord(self.next_id("Commentaire"), DS_CONTACT_EMAIL, body, self.now()))
        if event == "repasse_en_instruction":
            self.rebase_later(dossier)

    def follow(self, number: int, instructeur_number: int, follow: bool = True) -> None:
        """An instructeur follows a dossier, or stops: DS touches the dossier either way."""
        with self.lock:
            dossier = self.dossier(number)
            if follow and instructeur_number not in dossier.followers:
                dossier.followers.append(instructeur_number)
            elif not follow and instructeur_number in dossier.followers:
                dossier.followers.remove(instructeur_number)
            else:
                return
            self.bump(dossier)

    def add_message(
        self,
        number: int,
        email: str,
        body: str,
        correction: str | None = None,
        attachments: tuple[StoredFile, ...] = (),
    ) -> MessageRecord:
        """A message from `email`; with a `correction` reason, a correction request: the dossier goes back
        en construction if it was en instruction (with one already pending, DS sends the message alone)."""
        with self.lock:
            dossier = self.dossier(number)
            if correction and any(m.correction and m.resolved_at is None for m in dossier.messages):
                correction = None
            message = MessageRecord(
                self.next_id("Commentaire"), email, body, self.now(), correction, attachments=tuple(attachments)
            )
            dossier.messages.append(message)
            if correction and dossier.state == "en_instruction":
                self.set_state(number, "en_construction", email=email)
            self.bump(dossier)
            self.emit("message_cree", dossier)
            return message

    def discard_message(self, number: int, message: MessageRecord) -> None:
        """DS's soft delete: the message stays with its discard date, without its attachment; the correction
        it asked is closed."""
        with self.lock:
            message.discarded_at = self.now()
            message.attachments = ()
            if message.correction and message.resolved_at is None:
                message.resolved_at = message.discarded_at
            self.bump(self.dossier(number))

    def add_avis(
        self, number: int, question: str, claimant_email: str, expert_email: str, answer: str | None = None
    ) -> AvisRecord:
        with self.lock:
            dossier = self.dossier(number)
            avis = AvisRecord(self.next_id("Avis"), question, claimant_email, expert_email, self.now())
            if answer is not None:
                avis.answer, avis.answered_at = answer, self.now()
            dossier.avis.append(avis)
            self.bump(dossier)
            return avis

    def set_archived(self, number: int, archived: bool = True) -> None:
        with self.lock:
            dossier = self.dossier(number)
            dossier.archived = archived
            self.bump(dossier)

    def move_to_groupe(self, number: int, groupe_number: int) -> None:
        """DS also stops the followers who are not in the new groupe from following the dossier."""
        with self.lock:
            dossier = self.dossier(number)
            dossier.groupe = groupe_number
            groupe = self.groupe(groupe_number)
            dossier.followers = [n for n in dossier.followers if groupe.has_instructeur(n)]
            self.bump(dossier)
            self.emit("groupe_instructeur_change", dossier)

    def add_label(self, number: int, label_number: int) -> None:
        """Labels do not touch the dossier in DS (docs/ds-pagination.md#labels): no bump."""
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
            entry = DeletedRecord(
                self.next_id("DeletedDossier"),
                number,
                dossier.demarche,
                dossier.state,
                reason,
                self.now(),
                dossier.groupe,
            )
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


def _add_rows_for_new_repetitions(old: Revision, new: Revision, dossier: DossierRecord) -> None:
    """DS's rebase gives a repetition the dossier never had one empty row when it is required or an annotation."""
    known = {d.stable_id for d in (*old.champs, *old.annotations)}
    for values, definitions, private in (
        (dossier.values, new.champs, False),
        (dossier.annotations, new.annotations, True),
    ):
        for definition in definitions:
            if (
                definition.type == "repetition"
                and definition.stable_id not in known
                and (definition.required or private)
            ):
                values.setdefault(definition.key, [(f"{dossier.number}{definition.stable_id}", {})])
