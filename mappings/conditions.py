"""The pièces justificatives a dossier must carry, derived from procedure.yaml.

procedure.yaml is the one place a pièce's case lives (`required`, `when`,
`unless`; docs/apt-documents.md#where-the-conditions-live). Each condition is
compiled once, at load, into the record fields and values it compares: a key
the mapping does not store in one field of the record, or a value that is not
one of the champ's options or answers, is refused there with the file and the
place named, instead of never firing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from mappings.dossier import condition_field
from mappings.procedure import PROCEDURE_FILE, ChampDefinition, DefinitionError, Procedure
from mappings.records import MappedDossier


@dataclass(frozen=True)
class Condition:
    """Every (record field, accepted values) pair holds."""

    tests: tuple[tuple[str, tuple], ...]

    def holds(self, mapped: MappedDossier) -> bool:
        return all(_read(mapped, path) in accepted for path, accepted in self.tests)


@dataclass(frozen=True)
class DocumentRule:
    key: str  # the pièce's procedure key
    name: str  # how messages name it (its label, lower-cased first letter)
    required: bool  # asked in every case but `unless`
    when: Condition | None  # asked only when this holds
    unless: Condition | None  # not asked when this holds
    source: str | None

    def asked(self, mapped: MappedDossier) -> bool:
        if self.when is None and not self.required:
            return False  # an optional pièce: the applicant may add it, the checks never ask for it
        return (self.when is None or self.when.holds(mapped)) and not (self.unless and self.unless.holds(mapped))


def _read(mapped: MappedDossier, path: str):
    return reduce(getattr, path.split("."), mapped)


def _evaluable(procedure: Procedure) -> list[str]:
    return [d.key for d in procedure.all_champs() if condition_field(d) is not None]


def _compile(procedure: Procedure, piece: ChampDefinition, kind: str, condition: dict) -> Condition | None:
    if not condition:
        return None
    where = f"{PROCEDURE_FILE.name}: champs/{piece.key} {kind}"
    tests = []
    for key, labels in condition.items():
        definition = procedure.champ(key)
        field = condition_field(definition)
        if field is None:
            raise DefinitionError(
                f"{where}: {key!r} is not a champ the checks can evaluate (a drop-down or yes/no "
                f"the mapping stores: {', '.join(_evaluable(procedure))})"
            )
        path, stored = field
        try:
            accepted = tuple(stored(label) for label in labels)
        except KeyError as unknown:
            expected = ", ".join(definition.options) if definition.options else "true, false"
            raise DefinitionError(f"{where}: {unknown.args[0]!r} is not a value of {key!r} ({expected})") from None
        tests.append((path, accepted))
    return Condition(tuple(tests))


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def document_rules(procedure: Procedure) -> tuple[DocumentRule, ...]:
    """The pièces justificatives in form order, each with the case it is asked in."""
    rules = []
    for piece in procedure.champs:
        if piece.type != "piece_justificative":
            continue
        when, unless = (
            _compile(procedure, piece, "when", piece.when),
            _compile(procedure, piece, "unless", piece.unless),
        )
        rules.append(DocumentRule(piece.key, lower_first(piece.label), piece.required, when, unless, piece.source))
    return tuple(rules)
