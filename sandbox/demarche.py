"""A sandbox démarche: revisions built from the procedure definition, labels,
groupes instructeurs and their instructeurs.

The definition holds no DS id: like DS, the sandbox gives each champ its
stable id (`stable_ids.csv`, the ids the first démarches had; a key not
listed there gets the next free one).

Tests create drift (NOTES §12: a champ removed, a label renamed...) with the
plain methods at the bottom; they change the active revision in place, as an
administrateur publishing a new revision would.
"""
from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from mappings.procedure import Procedure
from sandbox.ids import gid

STABLE_IDS_FILE = Path(__file__).with_name("stable_ids.csv")

CONNECTOR_INSTRUCTEUR_NUMBER = 1
CONNECTOR_INSTRUCTEUR_ID = gid("Instructeur", CONNECTOR_INSTRUCTEUR_NUMBER)
CONNECTOR_INSTRUCTEUR_EMAIL = "wif-connecteur@example.gouv.fr"

# The older revision lacks the repetition and words one label differently, so
# ~10 % of dossiers exercise revision-aware mapping.
OLD_REVISION_MISSING_KEYS = ("autres_emplois",)
OLD_REVISION_LABELS = {"emploi_intitule": "Intitulé du poste occupé"}


@dataclass(frozen=True)
class ChampDefinition:
    """A champ (type de champ) of a sandbox revision, with the stable id the sandbox gave it."""

    key: str
    stable_id: int
    type: str
    label: str
    required: bool = False
    description: str | None = None
    options: tuple = ()
    champs: tuple["ChampDefinition", ...] = ()

    @property
    def id(self) -> str:
        return gid("Champ", self.stable_id)


@cache
def _known_stable_ids() -> dict[str, int]:
    with STABLE_IDS_FILE.open(newline="") as f:
        return {row["key"]: int(row["stable_id"]) for row in csv.DictReader(f)}


def with_stable_ids(definitions, taken: set[int] | None = None) -> tuple[ChampDefinition, ...]:
    """Sandbox champs for definitions of the procedure (anything with key, type, label...)."""
    known = _known_stable_ids()
    taken = set(known.values()) if taken is None else taken
    out = []
    for d in definitions:
        stable_id = getattr(d, "stable_id", None) or known.get(d.key)
        if stable_id is None:
            stable_id = max(taken | {9000}) + 1
        taken.add(stable_id)
        out.append(ChampDefinition(d.key, stable_id, d.type, d.label, d.required, d.description, tuple(d.options),
                                   with_stable_ids(d.champs, taken)))
    return tuple(out)


@dataclass
class Revision:
    number: int
    created_at: datetime
    champs: tuple[ChampDefinition, ...]
    annotations: tuple[ChampDefinition, ...]

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

    def champ(self, key: str) -> "ChampDefinition":
        """A champ or annotation of the active revision (repetition children included), by key."""
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


def build_revisions(procedure: Procedure, old_created_at: datetime, active_created_at: datetime) -> list[Revision]:
    champs, annotations = with_stable_ids(procedure.champs), with_stable_ids(procedure.annotations)
    old_champs = tuple(
        dataclasses.replace(c, label=OLD_REVISION_LABELS.get(c.key, c.label))
        for c in champs
        if c.key not in OLD_REVISION_MISSING_KEYS
    )
    return [
        Revision(1, old_created_at, old_champs, annotations),
        Revision(2, active_created_at, champs, annotations),
    ]
