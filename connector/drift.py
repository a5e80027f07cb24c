"""Compare the live DS démarche with the procedure definition kept as code.

Pure functions over the `getDemarcheDescriptor` answer: `wif procedure
check` prints the report, `wif procedure apply` turns it into a plan. The
definition is read through its shape only (the protocols below), so the DS
adapter knows no APT rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class ChampDefinition(Protocol):
    """A champ or annotation as the definition kept as code describes it."""

    key: str
    id: str
    type: str  # DS type_champ
    label: str
    required: bool
    options: tuple
    champs: tuple  # repetition children


class LabelDefinition(Protocol):
    key: str
    name: str


class Procedure(Protocol):
    champs: tuple[ChampDefinition, ...]
    annotations: tuple[ChampDefinition, ...]
    labels: tuple[LabelDefinition, ...]


class ExpectedGroupe(Protocol):
    label: str
    instructeur_emails: tuple[str, ...]

# DS type_champ → the ChampDescriptor type the API gives for it (NOTES §12).
DESCRIPTOR_TYPENAMES = {
    "address": "AddressChampDescriptor",
    "checkbox": "CheckboxChampDescriptor",
    "civilite": "CiviliteChampDescriptor",
    "communes": "CommuneChampDescriptor",
    "date": "DateChampDescriptor",
    "datetime": "DatetimeChampDescriptor",
    "decimal_number": "DecimalNumberChampDescriptor",
    "departements": "DepartementChampDescriptor",
    "drop_down_list": "DropDownListChampDescriptor",
    "email": "EmailChampDescriptor",
    "explication": "ExplicationChampDescriptor",
    "header_section": "HeaderSectionChampDescriptor",
    "integer_number": "IntegerNumberChampDescriptor",
    "pays": "PaysChampDescriptor",
    "phone": "PhoneChampDescriptor",
    "piece_justificative": "PieceJustificativeChampDescriptor",
    "repetition": "RepetitionChampDescriptor",
    "siret": "SiretChampDescriptor",
    "text": "TextChampDescriptor",
    "textarea": "TextareaChampDescriptor",
    "yes_no": "YesNoChampDescriptor",
}


@dataclass(frozen=True)
class Drift:
    kind: str  # missing_champ, extra_champ, renamed_champ, retyped_champ, ...
    subject: str
    detail: str
    value: str | None = None  # what a fix needs, e.g. the missing instructeur's e-mail

    def line(self) -> str:
        return f"{self.kind:<22} {self.subject}: {self.detail}"


@dataclass
class DriftReport:
    revision_id: str | None
    drifts: list[Drift] = field(default_factory=list)
    # label → groupe as read from DS, for the apply plan
    live_groupes: dict[str, dict] = field(default_factory=dict)

    @property
    def has_drift(self) -> bool:
        return bool(self.drifts)

    def of_kind(self, *kinds: str) -> list[Drift]:
        return [d for d in self.drifts if d.kind in kinds]


def compare(
    procedure: Procedure,
    live: dict,
    expected_groupes: list[ExpectedGroupe],
    connector_instructeur_id: str | None,
) -> DriftReport:
    """`live` is `data.demarche` of getDemarcheDescriptor."""
    revision = live.get("publishedRevision") or live.get("activeRevision") or {}
    report = DriftReport(revision_id=revision.get("id"))
    report.drifts += _compare_descriptors("champ", procedure.champs, revision.get("champDescriptors") or [])
    report.drifts += _compare_descriptors("annotation", procedure.annotations, revision.get("annotationDescriptors") or [])
    report.drifts += _compare_labels(procedure, live.get("labels") or [])
    groupe_drifts, report.live_groupes = _compare_groupes(live.get("groupeInstructeurs") or [], expected_groupes, connector_instructeur_id)
    report.drifts += groupe_drifts
    return report


def _compare_descriptors(kind: str, expected: tuple[ChampDefinition, ...], live: list[dict]) -> list[Drift]:
    drifts = []
    live_by_id = {d["id"]: d for d in live}
    # A descriptor that carries the id of another definition belongs to it, even
    # if an administrateur gave it this definition's label.
    expected_ids = {definition.id for definition in expected}
    live_by_label = {d["label"]: d for d in live if d["id"] not in expected_ids}
    matched: set[str] = set()
    for definition in expected:
        descriptor = live_by_id.get(definition.id)
        if descriptor is None and definition.label in live_by_label:
            descriptor = live_by_label[definition.label]
            drifts.append(Drift(f"{kind}_id_changed", definition.key, f"found by its label only (DS id {descriptor['id']}, expected {definition.id})"))
        if descriptor is None:
            drifts.append(Drift(f"missing_{kind}", definition.key, f"« {definition.label} » ({definition.type}) is not on the démarche"))
            continue
        matched.add(descriptor["id"])
        drifts += _compare_one(kind, definition, descriptor)
        if definition.champs:
            drifts += _compare_descriptors(kind, definition.champs, descriptor.get("champDescriptors") or [])
    for descriptor in live:
        if descriptor["id"] not in matched:
            drifts.append(Drift(f"extra_{kind}", descriptor["id"], f"« {descriptor['label']} » ({descriptor.get('__typename')}) is not in the definition"))
    return drifts


def _compare_one(kind: str, definition: ChampDefinition, descriptor: dict) -> list[Drift]:
    drifts = []
    if descriptor.get("label") != definition.label:
        drifts.append(Drift(f"renamed_{kind}", definition.key, f"« {descriptor.get('label')} » on DS, « {definition.label} » expected"))
    expected_type = DESCRIPTOR_TYPENAMES[definition.type]
    if descriptor.get("__typename") != expected_type:
        drifts.append(Drift(f"retyped_{kind}", definition.key, f"{descriptor.get('__typename')} on DS, {expected_type} expected"))
    if bool(descriptor.get("required")) != definition.required:
        drifts.append(Drift(f"required_{kind}", definition.key, f"required={descriptor.get('required')} on DS, {definition.required} expected"))
    if definition.options and "options" in descriptor and list(descriptor["options"] or []) != list(definition.options):
        drifts.append(Drift(f"options_{kind}", definition.key, f"options {descriptor['options']} on DS, {list(definition.options)} expected"))
    return drifts


def _compare_labels(procedure: Procedure, live: list[dict]) -> list[Drift]:
    live_names = {label["name"] for label in live}
    expected = {label.name for label in procedure.labels}
    drifts = [Drift("missing_label", name, "label not on the démarche") for name in sorted(expected - live_names)]
    drifts += [Drift("extra_label", name, "label not in the definition") for name in sorted(live_names - expected)]
    return drifts


def _compare_groupes(live: list[dict], expected: list[ExpectedGroupe], connector_instructeur_id: str | None):
    # Filter closed groupes ourselves: the `closed` argument is inverted in DS (NOTES §8).
    active = {g["label"]: g for g in live if not g.get("closed")}
    closed = {g["label"] for g in live if g.get("closed")}
    drifts = []
    expected_labels = {g.label for g in expected}
    for groupe in expected:
        found = active.get(groupe.label)
        if found is None and groupe.label in closed:
            # Creating it again would fail: DS labels are unique per démarche, closed groupes included.
            drifts.append(Drift("closed_groupe", groupe.label, "groupe instructeur closed on the démarche"))
            continue
        if found is None:
            drifts.append(Drift("missing_groupe", groupe.label, "groupe instructeur not on the démarche"))
            continue
        emails = {i["email"].lower() for i in found.get("instructeurs") or []}
        for email in groupe.instructeur_emails:
            if email.lower() not in emails:
                drifts.append(Drift("missing_instructeur", groupe.label, f"{email} is not an instructeur of the groupe", value=email))
        if connector_instructeur_id and connector_instructeur_id not in {i["id"] for i in found.get("instructeurs") or []}:
            drifts.append(Drift("connector_not_member", groupe.label, "the connector's instructeur (DS_INSTRUCTEUR_ID) is not in the groupe"))
    for label in sorted(set(active) - expected_labels):
        drifts.append(Drift("extra_groupe", label, "groupe instructeur not in the routing table"))
    return drifts, active
