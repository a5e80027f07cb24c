"""A sandbox démarche: revisions built from the sandbox's own form
(`demarche.yaml`, ids from `sandbox.form`), labels, groupes instructeurs and
their instructeurs.

An administrateur's edits: `publish_revision` publishes a new revision (new
id, new publication date; dossiers filed before keep theirs). Tests create
drift (NOTES §12: a champ removed, a label renamed...) with the plain methods
at the bottom, which change the active revision in place.
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
    champs: tuple["ChampDefinition", ...] = ()
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
    published_at: datetime | None = None  # None: published when created

    def __post_init__(self) -> None:
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
    revisions: list[Revision]
    labels: list[Label]
    groupes: list[Groupe]
    state: str = "publiee"

    @property
    def id(self) -> str:
        return gid("Procedure", self.number)

    @property
    def active_revision(self) -> Revision:
        return self.revisions[-1]

    def revision_by_id(self, revision_id: str) -> Revision | None:
        return next((r for r in self.revisions if r.id == revision_id), None)

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
    def publish_revision(self, number: int, at: datetime, *, labels: dict[str, str] | None = None,
                         removed: tuple[str, ...] = ()) -> Revision:
        """Publish a new revision: the active one with `labels` (name → new label) reworded and
        `removed` champs gone. Dossiers keep the revision they were filed on; the stable ids stay."""
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
        revision = Revision(number, at, champs, annotations)
        self.revisions.append(revision)
        return revision

    # --- drift, for tests -------------------------------------------------
    def remove_champ(self, key: str) -> None:
        self._edit_active(champs=_without(self.active_revision.champs, key))

    def rename_champ(self, key: str, label: str) -> None:
        self._edit_active(champs=_replace(self.active_revision.champs, key, label=label),
                          annotations=_replace(self.active_revision.annotations, key, label=label))

    def change_champ_type(self, key: str, type_champ: str) -> None:
        self._edit_active(champs=_replace(self.active_revision.champs, key, type=type_champ),
                          annotations=_replace(self.active_revision.annotations, key, type=type_champ))

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


def build_revisions(form: "Form", old_created_at: datetime, active_created_at: datetime) -> list[Revision]:
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
