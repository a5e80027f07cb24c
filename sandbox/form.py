"""The sandbox's démarche form (`demarche.yaml`) with the stable ids DS would give it.

DS numbers every type de champ from one platform-wide sequence when an
administrateur adds it in the editor: ids are large (a few millions), rise in
the order champs were created, with gaps (other démarches create champs
meanwhile), and the champ id is base64("Champ-<stable id>") (docs/ds-ids.md#champ-stable-ids).
The sandbox draws them the same way from a seed, so two seeds give two
démarches with the same form and different ids, and nothing the connector
assumes about ids can hold by chance.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

from sandbox.demarche import ChampDefinition

FORM_FILE = Path(__file__).with_name("demarche.yaml")
# The démarche of every champ type (sandbox/every_champ.py), served only when asked.
EVERY_CHAMP_FILE = Path(__file__).with_name("every_champ.yaml")
# Where a seed's sequence starts: 7-digit ids like the ones DS assigns today.
FIRST_STABLE_ID, LAST_START = 1_000_000, 8_000_000
MAX_GAP = 40


@dataclass(frozen=True)
class Form:
    title: str
    path: str
    champs: tuple[ChampDefinition, ...]
    annotations: tuple[ChampDefinition, ...]
    labels: tuple[tuple[str, str], ...]  # (name, color)
    description: str = ""
    service: dict | None = None  # nom, organisme, type_organisme, siret
    # The revision most dossiers' predecessors were filed on: champs it lacked, labels it worded otherwise.
    old_missing: tuple[str, ...] = ()
    old_labels: dict[str, str] = field(default_factory=dict)

    def all_champs(self):
        for definition in (*self.champs, *self.annotations):
            yield definition
            yield from definition.champs

    def champ(self, name: str) -> ChampDefinition:
        for definition in self.all_champs():
            if definition.key == name:
                return definition
        raise KeyError(f"no champ {name!r} in the sandbox form")

    def stable_ids(self) -> dict[str, int]:
        return {d.key: d.stable_id for d in self.all_champs()}


@cache
def _raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _names(raws) -> list[str]:
    out = []
    for raw in raws:
        out.append(raw["name"])
        out.extend(child["name"] for child in raw.get("champs", ()))
    return out


def _definition(raw: dict, ids: dict[str, int]) -> ChampDefinition:
    return ChampDefinition(
        key=raw["name"],
        stable_id=ids[raw["name"]],
        type=raw["type"],
        label=raw["label"],
        required=raw.get("required", False),
        description=raw.get("description"),
        options=tuple(raw.get("options", ())),
        champs=tuple(_definition(child, ids) for child in raw.get("champs", ())),
        level=raw.get("level", 1),
        other_option=raw.get("other_option", False),
        explanation=raw.get("explanation"),
        file_template=raw.get("file_template"),
        asked_when=tuple((raw.get("asked_when") or {}).items()),
    )


def load_form(ids_seed: int | str = 0, path: Path = FORM_FILE) -> Form:
    """The form with the stable ids of `ids_seed`: the same seed always gives the same ids."""
    raw = _raw(Path(path))
    old = raw.get("old_revision") or {}
    missing = tuple(old.get("missing", ()))
    rng = random.Random(f"sandbox-stable-ids:{ids_seed}")
    next_id = rng.randint(FIRST_STABLE_ID, LAST_START)
    ids: dict[str, int] = {}
    added_later = set(_names(c for c in raw["champs"] if c["name"] in missing))
    # Created in this order: the first revision's champs, its annotations, then what a later revision added.
    order = (
        [n for n in _names(raw["champs"]) if n not in added_later]
        + _names(raw["annotations"])
        + [n for n in _names(raw["champs"]) if n in added_later]
    )
    for name in order:
        if name in ids:
            raise ValueError(f"{Path(path).name}: champ name {name!r} is used twice")
        next_id += rng.randint(1, MAX_GAP)
        ids[name] = next_id
    return Form(
        title=raw["title"],
        path=raw["path"],
        champs=tuple(_definition(c, ids) for c in raw["champs"]),
        annotations=tuple(_definition(c, ids) for c in raw["annotations"]),
        labels=tuple((label["name"], label["color"]) for label in raw["labels"]),
        old_missing=missing,
        old_labels=dict(old.get("labels", {})),
        description=raw.get("description", ""),
        service=raw.get("service"),
    )


# What the "different form" changes: labels reworded, one champ gone.
DIFFERENT_LABELS = {
    "nationalite": "Pays de nationalité",
    "pj_passeport": "Pièce d'identité (passeport ou carte nationale)",
    "titre_departement": "Département de résidence",
}
DIFFERENT_MISSING = ("pj_inscription",)


def different_form(like: Form) -> Form:
    """Another démarche's form whose ids collide with `like`'s: each champ carries the stable id the
    next champ has in `like` (so reading nationality by `like`'s id finds the birthplace), three
    labels are worded otherwise and a pièce justificative is gone. What a connector bound to `like`
    by ids, or pointed at the wrong démarche, would misread."""
    flat = [d for d in _flat(like.champs) if d.type != "header_section"]
    shifted = {d.key: flat[(i + 1) % len(flat)].stable_id for i, d in enumerate(flat)}

    def rework(definitions):
        out = []
        for d in definitions:
            if d.key in DIFFERENT_MISSING:
                continue
            d = replace(
                d,
                stable_id=shifted.get(d.key, d.stable_id),
                label=DIFFERENT_LABELS.get(d.key, d.label),
                champs=rework(d.champs),
            )
            out.append(d)
        return tuple(out)

    return replace(like, title=like.title + " (autre formulaire)", champs=rework(like.champs))


def _flat(definitions):
    for d in definitions:
        yield d
        yield from _flat(d.champs)
