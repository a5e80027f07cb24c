"""The APT procedure definition (`procedure.yaml`), loaded and validated.

The file is the single description of the DS form the code relies on: the
sandbox builds its démarche from it, the mapping reads champs through it
and `wif procedure check` compares it with the live démarche.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import jsonschema
import yaml

MAPPINGS_DIR = Path(__file__).parent
PROCEDURE_FILE = MAPPINGS_DIR / "procedure.yaml"
PROCEDURE_SCHEMA = MAPPINGS_DIR / "procedure.schema.json"


class DefinitionError(ValueError):
    """A mappings file does not match its schema; the message names the place."""


@lru_cache(maxsize=4096)  # read for every champ of every dossier
def typed_champ_id(stable_id: int) -> str:
    """DS global id of a champ or descriptor: base64 of 'Champ-<stable_id>' (NOTES §10)."""
    return base64.b64encode(f"Champ-{stable_id}".encode()).decode()


@dataclass(frozen=True)
class ChampDefinition:
    key: str
    stable_id: int
    type: str
    label: str
    required: bool = False
    description: str | None = None
    options: tuple = ()
    when: dict = field(default_factory=dict)
    champs: tuple["ChampDefinition", ...] = ()

    @property
    def id(self) -> str:
        return typed_champ_id(self.stable_id)


@dataclass(frozen=True)
class LabelDefinition:
    key: str
    name: str
    color: str


@dataclass(frozen=True)
class Procedure:
    version: int
    title: str
    path: str
    champs: tuple[ChampDefinition, ...]
    annotations: tuple[ChampDefinition, ...]
    labels: tuple[LabelDefinition, ...]
    fallback_groupe: str

    def champ(self, key: str) -> ChampDefinition:
        for definition in self.all_champs():
            if definition.key == key:
                return definition
        raise KeyError(f"no champ or annotation with key {key!r} in the procedure definition")

    def all_champs(self):
        """Champs, repetition children and annotations, flattened."""
        for definition in (*self.champs, *self.annotations):
            yield definition
            yield from definition.champs

    def by_id(self) -> dict[str, ChampDefinition]:
        return {d.id: d for d in self.all_champs()}

    def by_label(self) -> dict[str, ChampDefinition]:
        return {d.label: d for d in self.all_champs()}

    def label(self, key: str) -> LabelDefinition:
        for label in self.labels:
            if label.key == key:
                return label
        raise KeyError(f"no label with key {key!r} in the procedure definition")


def _champ(raw: dict) -> ChampDefinition:
    return ChampDefinition(
        key=raw["key"],
        stable_id=raw["stable_id"],
        type=raw["type"],
        label=raw["label"],
        required=raw.get("required", False),
        description=raw.get("description"),
        options=tuple(raw.get("options", ())),
        when=dict(raw.get("when", {})),
        champs=tuple(_champ(child) for child in raw.get("champs", ())),
    )


def parse_procedure(raw: dict) -> Procedure:
    schema = json.loads(PROCEDURE_SCHEMA.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        raise DefinitionError(f"procedure definition invalid at {where}: {first.message}")
    procedure = Procedure(
        version=raw["version"],
        title=raw["title"],
        path=raw["path"],
        champs=tuple(_champ(c) for c in raw["champs"]),
        annotations=tuple(_champ(c) for c in raw["annotations"]),
        labels=tuple(LabelDefinition(**label) for label in raw["labels"]),
        fallback_groupe=raw["fallback_groupe"],
    )
    _check_unique(procedure)
    return procedure


def _check_unique(procedure: Procedure) -> None:
    seen_keys: set[str] = set()
    seen_ids: set[int] = set()
    for definition in procedure.all_champs():
        if definition.key in seen_keys:
            raise DefinitionError(f"procedure definition: key {definition.key!r} is used twice")
        if definition.stable_id in seen_ids:
            raise DefinitionError(f"procedure definition: stable_id {definition.stable_id} is used twice")
        seen_keys.add(definition.key)
        seen_ids.add(definition.stable_id)
    keys = {d.key for d in procedure.all_champs()}
    for definition in procedure.all_champs():
        for condition_key in definition.when:
            if condition_key not in keys:
                raise DefinitionError(
                    f"procedure definition: champ {definition.key!r} depends on unknown key {condition_key!r}"
                )


def load_procedure(path: Path | str = PROCEDURE_FILE) -> Procedure:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name} is not valid YAML: {error}") from None
    return parse_procedure(raw)


@cache
def default_procedure() -> Procedure:
    return load_procedure()
