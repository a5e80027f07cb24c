"""The APT rules file (`rules.yaml`), loaded and validated once.

Figures and lists the checks apply live there, not in code; the loader
refuses a file that does not match `rules.schema.json` or that names champs
or contract types `procedure.yaml` does not have, with a message naming the
place. The documents the checks ask for come from procedure.yaml itself
(`mappings.conditions`), compiled here so that a condition the checks could
not evaluate stops the load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from mappings.procedure import DefinitionError, Procedure, default_procedure
from mappings.professions import Profession, default_professions
from mappings.records import ContractType

MAPPINGS_DIR = Path(__file__).parent
RULES_FILE = MAPPINGS_DIR / "rules.yaml"
RULES_SCHEMA = MAPPINGS_DIR / "rules.schema.json"


@dataclass(frozen=True)
class Rules:
    revision: str
    raw: dict  # the validated rules.yaml content
    document_names: dict[str, str]  # procedure key → French name used in messages
    professions: tuple[Profession, ...] = ()  # regulated_professions.yaml
    # The pièces justificatives of procedure.yaml with their cases (mappings.conditions.DocumentRule).
    documents: tuple = field(default=(), compare=False)

    def section(self, name: str) -> dict:
        return self.raw[name]


# Where rules.yaml names contract types (codes of procedure.yaml's contrat_type options).
CONTRACT_TYPE_LISTS = (
    ("hours", "threshold_exempt_contract_types"),
    ("hours", "algerian_cap_exempt_contract_types"),
    ("out_of_scope_contract_types",),
    ("residence", "one_year_required"),
    ("residence", "master_cge_exempt"),
    ("opco", "contract_types"),
)
# Where rules.yaml names options of titre_type.
PERMIT_KIND_LISTS = (("algerian_accord", "permit_kinds"), ("algerian_accord", "permit_kinds_without_regime"))


def _at(raw: dict, path: tuple[str, ...]):
    for name in path:
        raw = raw[name]
    return raw


def contract_types(rows) -> list[str]:
    """The codes of a list of contract types: plain codes, or rows `{type, source}`."""
    return [row["type"] if isinstance(row, dict) else row for row in rows]


def _check_contract_types(raw: dict, procedure: Procedure) -> None:
    codes = set(procedure.champ("contrat_type").option_values.values())
    unknown = codes - {member.value for member in ContractType}
    if unknown:
        raise DefinitionError(
            f"procedure.yaml: champs/contrat_type: {sorted(unknown)} are not contract types the "
            "connector stores (mappings.records.ContractType)"
        )
    for path in CONTRACT_TYPE_LISTS:
        for code in contract_types(_at(raw, path)):
            if code not in codes:
                raise DefinitionError(
                    f"rules.yaml: {'.'.join(path)}: {code!r} is not the value of an option of "
                    f"contrat_type in procedure.yaml ({', '.join(sorted(codes))})"
                )
    kinds = procedure.champ("titre_type").options
    for path in (*PERMIT_KIND_LISTS, ("hours", "pro_rata_permits")):
        for kind in _at(raw, path):
            if kind not in kinds:
                raise DefinitionError(
                    f"rules.yaml: {'.'.join(path)}: {kind!r} is not an option of titre_type in procedure.yaml"
                )


def _check_against_procedure(raw: dict, procedure: Procedure) -> None:
    """Every champ and contract type rules.yaml names is one of procedure.yaml."""
    _check_contract_types(raw, procedure)
    numbers = {d.key for d in procedure.all_champs() if d.type in ("decimal_number", "integer_number")}
    for key, bounds in raw["plausible_numbers"].items():
        if key not in numbers:
            raise DefinitionError(f"rules.yaml: plausible_numbers.{key} is not a number champ of procedure.yaml")
        if bounds["min"] > bounds["max"]:
            raise DefinitionError(f"rules.yaml: plausible_numbers.{key}: min is above max")


def parse_rules(raw: dict, procedure: Procedure, professions: tuple[Profession, ...] | None = None) -> Rules:
    schema = json.loads(RULES_SCHEMA.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(root)"
        raise DefinitionError(f"rules.yaml invalid at {where}: {errors[0].message}")
    _check_against_procedure(raw, procedure)
    # Imported here: the conditions read the mapping (mappings.dossier), which reads these rules.
    from mappings.conditions import document_rules

    documents = document_rules(procedure)
    names = {document.key: document.name for document in documents}
    professions = default_professions() if professions is None else professions
    return Rules(revision=raw["revision"], raw=raw, document_names=names, professions=professions, documents=documents)


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
