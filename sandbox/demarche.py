"""A sandbox démarche: revisions built from the sandbox's own form
(`demarche.yaml`, ids from `sandbox.form`), labels, groupes instructeurs and
their instructeurs, and what DS says of the démarche itself (service, dates).

Like DS, a published démarche has a draft revision besides its published ones
(the next to be published). An administrateur's edits: `publish_revision`
publishes the draft as a new revision (its id, a new publication date) and
starts another draft; the store then rebases the dossiers not yet decided
(docs/ds-revisions.md). Tests create drift (a champ removed, a label
renamed...) with the plain methods at the bottom, which change the active
revision in place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sandbox.ids import gid

if TYPE_CHECKING:
    from sandbox.form import Form

CONNECTOR_INSTRUCTEUR_NUMBER = 1
CONNECTOR_INSTRUCTEUR_ID = gid("Instructeur", CONNECTOR_INSTRUCTEUR_NUMBER)
CONNECTOR_INSTRUCTEUR_EMAIL = "wif-connecteur@example.gouv.fr"
# The administrateur every sandbox token belongs to.
ADMINISTRATEUR_NUMBER = 1
ADMINISTRATEUR_EMAIL = "administrateur@example.gouv.fr"


@dataclass(frozen=True)
class ChampDefinition:
    """A type de champ of a sandbox revision. `key` is the sandbox's own name for it (what its
    generator fills in); DS shows only the stable id and the label."""

    key: str
    stable_id: int
    type: str
    label: str
    required: bool = False
    description: str | None = None
    options: tuple = ()
    champs: tuple[ChampDefinition, ...] = ()
    level: int = 1  # a header section's
    other_option: bool = False  # a drop-down list's "Autre"
    explanation: str | None = None  # an explication's collapsible text
    file_template: str | None = None  # a pièce justificative's model file
    # When the form asks for this pièce (the sandbox's reading; DS shows the champ always): ((champ, value), ...).
    asked_when: tuple[tuple[str, object], ...] = ()

    @property
    def id(self) -> str:
        return gid("Champ", self.stable_id)


@dataclass
class Revision:
    number: int
    created_at: datetime
    champs: tuple[ChampDefinition, ...]
    annotations: tuple[ChampDefinition, ...]
    published_at: datetime | None = None  # None: published when created, unless a draft
    draft: bool = False

    def __post_init__(self) -> None:
        if not self.draft:
            self.published_at = self.published_at or self.created_at

    @property
    def id(self) -> str:
        return gid("ProcedureRevision", self.number)


@dataclass
class Instructeur:
    number: int
    email: str

    @property
    def id(self) -> str:
        return gid("Instructeur", self.number)


@dataclass
class Groupe:
    number: int
    label: str
    instructeurs: list[Instructeur] = field(default_factory=list)
    closed: bool = False

    @property
    def id(self) -> str:
        return gid("GroupeInstructeur", self.number)

    def has_instructeur(self, number: int) -> bool:
        return any(i.number == number for i in self.instructeurs)


@dataclass(frozen=True)
class Service:
    """The administration that runs a démarche."""

    number: int
    nom: str
    organisme: str
    type_organisme: str
    siret: str | None = None

    @property
    def id(self) -> str:
        return gid("Service", self.number)


@dataclass
class Label:
    number: int
    name: str
    color: str

    @property
    def id(self) -> str:
        return gid("Label", self.number)


@dataclass
class Demarche:
    number: int
    title: str
    revisions: list[Revision]  # published ones, oldest first (a dossier's `revision` indexes this list)
    labels: list[Label]
    groupes: list[Groupe]
    state: str = "publiee"
    description: str = ""
    created_at: datetime = field(kw_only=True)
    published_at: datetime | None = None
    service: Service | None = None
    path: str = ""
    opendata: bool = True
    duree_conservation: int = 12  # months
    attestation: bool = True  # an attestation is issued to accepted dossiers
    for_individual: bool = False  # the demandeur is a person, not a SIRET
    draft_number: int = 0
    draft_created_at: datetime | None = None
    # A brouillon's own form (no revision published yet); a published démarche's draft mirrors its active revision.
    draft_champs: tuple[tuple[ChampDefinition, ...], tuple[ChampDefinition, ...]] | None = None

    @property
    def id(self) -> str:
        return gid("Procedure", self.number)

    @property
    def draft(self) -> Revision:
        champs, annotations = self.draft_champs or (self.revisions[-1].champs, self.revisions[-1].annotations)
        return Revision(self.draft_number, self.draft_created_at or self.created_at, champs, annotations, draft=True)

    @property
    def published(self) -> Revision | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def active_revision(self) -> Revision:
        """What DS calls the active revision: the draft of a brouillon, the published one otherwise."""
        return self.revisions[-1] if self.state != "brouillon" and self.revisions else self.draft

    @property
    def updated_at(self) -> datetime | None:
        return max(
            filter(None, (self.created_at, self.published_at, *(r.published_at for r in self.revisions))), default=None
        )

    def revision_by_id(self, revision_id: str) -> Revision | None:
        return next((r for r in (*self.revisions, self.draft) if r.id == revision_id), None)

    def champ(self, key: str) -> ChampDefinition:
        """A champ or annotation of the active revision (repetition children included), by the sandbox's name."""
        revision = self.active_revision
        for definition in (*revision.champs, *revision.annotations):
            for found in (definition, *definition.champs):
                if found.key == key:
                    return found
        raise KeyError(f"no champ {key!r} in the active revision")

    def groupe(self, number: int) -> Groupe | None:
        return next((g for g in self.groupes if g.number == number), None)

    def label(self, number: int) -> Label | None:
        return next((label for label in self.labels if label.number == number), None)

    # --- an administrateur's edits: a new published revision -----------------
    def publish_revision(
        self, number: int, at: datetime, *, labels: dict[str, str] | None = None, removed: tuple[str, ...] = ()
    ) -> Revision:
        """Publish the draft as a new revision: the active one with `labels` (name → new label) reworded and
        `removed` champs gone, under the draft's id; `number` is the next draft's. The stable ids stay;
        the store rebases the dossiers not yet decided (Store.publish_revision)."""
        labels = labels or {}
        unknown = sorted((set(labels) | set(removed)) - {d.key for d in _all(self.active_revision)})
        if unknown:
            raise KeyError(f"no champ {unknown} in the active revision")
        champs, annotations = self.active_revision.champs, self.active_revision.annotations
        for key in removed:
            champs = tuple(d for d in champs if d.key != key)
            annotations = tuple(d for d in annotations if d.key != key)
        for key, label in labels.items():
            champs, annotations = _replace(champs, key, label=label), _replace(annotations, key, label=label)
        revision = Revision(self.draft_number, self.draft_created_at or at, champs, annotations, published_at=at)
        self.revisions.append(revision)
        self.draft_number, self.draft_created_at = number, at
        return revision

    # --- drift, for tests -------------------------------------------------
    def remove_champ(self, key: str) -> None:
        self._edit_active(champs=_without(self.active_revision.champs, key))

    def rename_champ(self, key: str, label: str) -> None:
        self._edit_active(
            champs=_replace(self.active_revision.champs, key, label=label),
            annotations=_replace(self.active_revision.annotations, key, label=label),
        )

    def change_champ_type(self, key: str, type_champ: str) -> None:
        self._edit_active(
            champs=_replace(self.active_revision.champs, key, type=type_champ),
            annotations=_replace(self.active_revision.annotations, key, type=type_champ),
        )

    def remove_annotation(self, key: str) -> None:
        self._edit_active(annotations=_without(self.active_revision.annotations, key))

    def _edit_active(self, **changes) -> None:
        self.revisions[-1] = dataclasses.replace(self.active_revision, **changes)


def _without(definitions, key):
    if not any(d.key == key for d in definitions):
        raise KeyError(f"no champ {key!r} in the active revision")
    return tuple(d for d in definitions if d.key != key)


def _replace(definitions, key, **changes):
    out = []
    for definition in definitions:
        if definition.key == key:
            definition = dataclasses.replace(definition, **changes)
        elif definition.champs:
            definition = dataclasses.replace(definition, champs=_replace(definition.champs, key, **changes))
        out.append(definition)
    return tuple(out)


def _all(revision: Revision):
    for definition in (*revision.champs, *revision.annotations):
        yield definition
        yield from definition.champs


def build_revisions(form: Form, old_created_at: datetime, active_created_at: datetime) -> list[Revision]:
    """The form's older revision (without the champs added since, one label worded otherwise) and its current one:
    ~10 % of dossiers exercise revision-aware mapping."""
    old_champs = tuple(
        dataclasses.replace(c, label=form.old_labels.get(c.key, c.label))
        for c in form.champs
        if c.key not in form.old_missing
    )
    return [
        Revision(1, old_created_at, old_champs, form.annotations),
        Revision(2, active_created_at, form.champs, form.annotations),
    ]
