"""The APT rules file (`rules.yaml`), loaded and validated once.

Figures and lists the checks apply live there, not in code; the loader
refuses a file that does not match `rules.schema.json` or that names other
documents than `procedure.yaml`, with a message naming the place.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from mappings.procedure import DefinitionError, Procedure, default_procedure
from mappings.professions import Profession, default_professions

MAPPINGS_DIR = Path(__file__).parent
RULES_FILE = MAPPINGS_DIR / "rules.yaml"
RULES_SCHEMA = MAPPINGS_DIR / "rules.schema.json"


@dataclass(frozen=True)
class Rules:
    revision: str
    raw: dict  # the validated rules.yaml content
    document_names: dict[str, str]  # procedure key → French name used in messages
    professions: tuple[Profession, ...] = ()  # regulated_professions.yaml

    def section(self, name: str) -> dict:
        return self.raw[name]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _check_against_procedure(raw: dict, procedure: Procedure) -> None:
    """The rules and procedure.yaml must name the same documents under the same conditions."""
    documents = raw["documents"]
    procedure_when = {d.key: d.when for d in procedure.champs if d.type == "piece_justificative" and d.when}
    rules_when = {item["document"]: item["when"] for item in documents["conditional"]}
    if procedure_when != rules_when:
        raise DefinitionError("rules.yaml: documents.conditional does not match the `when` of procedure.yaml "
                              f"(procedure: {sorted(procedure_when)}, rules: {sorted(rules_when)})")
    numbers = {d.key for d in procedure.all_champs() if d.type in ("decimal_number", "integer_number")}
    for key, bounds in raw["plausible_numbers"].items():
        if key not in numbers:
            raise DefinitionError(f"rules.yaml: plausible_numbers.{key} is not a number champ of procedure.yaml")
        if bounds["min"] > bounds["max"]:
            raise DefinitionError(f"rules.yaml: plausible_numbers.{key}: min is above max")
    required = {d.key for d in procedure.champs if d.type == "piece_justificative" and d.required}
    if set(documents["general"]) != required:
        raise DefinitionError("rules.yaml: documents.general must list the required pièces justificatives "
                              f"of procedure.yaml: {sorted(required)}")


def parse_rules(raw: dict, procedure: Procedure, professions: tuple[Profession, ...] | None = None) -> Rules:
    schema = json.loads(RULES_SCHEMA.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(root)"
        raise DefinitionError(f"rules.yaml invalid at {where}: {errors[0].message}")
    _check_against_procedure(raw, procedure)
    names = {d.key: _lower_first(d.label) for d in procedure.champs if d.type == "piece_justificative"}
    professions = default_professions() if professions is None else professions
    return Rules(revision=raw["revision"], raw=raw, document_names=names, professions=professions)


def load_rules(path: Path | str = RULES_FILE, procedure: Procedure | None = None) -> Rules:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name} is not valid YAML: {error}") from None
    return parse_rules(raw, procedure or default_procedure())


@cache
def default_rules() -> Rules:
    return load_rules()


RULES_REVISION: str = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["revision"]
