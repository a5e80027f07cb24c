"""The APT procedure definition (`procedure.yaml`), loaded and validated.

The file is the single description of the DS form the code relies on:
keys, labels, types, options and conditions, never a DS id (DS assigns
those; `mappings.binding` ties each key to the id of one démarche).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from core.errors import ExitCode, WifError

MAPPINGS_DIR = Path(__file__).parent
PROCEDURE_FILE = MAPPINGS_DIR / "procedure.yaml"
PROCEDURE_SCHEMA = MAPPINGS_DIR / "procedure.schema.json"
# Champs that carry no value: nothing to read, nothing to bind for the mapping.
LAYOUT_TYPES = frozenset({"header_section", "explication"})
# The annotations the connector writes (the others are the agents').
CONNECTOR_ANNOTATION_PREFIX = "wif_"


class DefinitionError(WifError, ValueError):
    """A mappings file does not match its schema; the message names the place."""

    exit_code = ExitCode.CONFIG


@dataclass(frozen=True)
class ChampDefinition:
    key: str
    type: str
    label: str
    required: bool = False
    description: str | None = None
    options: tuple = ()  # the option labels, in form order
    # Option label → the value the connector stores and the rules name (the label itself unless the
    # definition gives one): `{label: "CDI", value: cdi}`.
    option_values: dict = field(default_factory=dict)
    when: dict = field(default_factory=dict)  # asked only in this case (a pièce)
    unless: dict = field(default_factory=dict)  # not asked in this case (a pièce)
    source: str | None = None  # the public text the rule comes from
    # Added to the form after dossiers were filed: its absence is judged by the rules that need it, not
    # reported as a broken dossier (mappings.dossier._report_missing).
    absent_from_older_dossiers: bool = False
    champs: tuple[ChampDefinition, ...] = ()

    @property
    def conditional(self) -> bool:
        return bool(self.when or self.unless)


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

    def required_keys(self) -> tuple[str, ...]:
        """The keys a dossier cannot be read without: required champs, and the annotations the connector writes."""
        return tuple(d.key for d in self.champs if d.required and d.type not in LAYOUT_TYPES) + tuple(
            d.key for d in self.annotations if d.key.startswith(CONNECTOR_ANNOTATION_PREFIX)
        )

    def label(self, key: str) -> LabelDefinition:
        for label in self.labels:
            if label.key == key:
                return label
        raise KeyError(f"no label with key {key!r} in the procedure definition")


def _option(raw) -> tuple[str, object]:
    return (raw["label"], raw["value"]) if isinstance(raw, dict) else (raw, raw)


def _champ(raw: dict) -> ChampDefinition:
    options = [_option(option) for option in raw.get("options", ())]
    return ChampDefinition(
        key=raw["key"],
        type=raw["type"],
        label=raw["label"],
        required=raw.get("required", False),
        description=raw.get("description"),
        options=tuple(label for label, _ in options),
        option_values=dict(options),
        when=dict(raw.get("when", {})),
        unless=dict(raw.get("unless", {})),
        source=raw.get("source"),
        absent_from_older_dossiers=raw.get("absent_from_older_dossiers", False),
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
    for definition in procedure.all_champs():
        if definition.key in seen_keys:
            raise DefinitionError(f"procedure definition: key {definition.key!r} is used twice")
        seen_keys.add(definition.key)
    for label in procedure.labels:
        if label.key in seen_keys:
            raise DefinitionError(f"procedure definition: key {label.key!r} is used twice")
        seen_keys.add(label.key)
    keys = {d.key for d in procedure.all_champs()}
    for definition in procedure.all_champs():
        if len(set(definition.options)) != len(definition.options) or len(
            set(map(repr, definition.option_values.values()))
        ) != len(definition.options):
            raise DefinitionError(f"procedure definition: champ {definition.key!r} has an option label or value twice")
        for condition_key in (*definition.when, *definition.unless):
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
