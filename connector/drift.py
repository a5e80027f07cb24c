"""Compare the live DS démarche with the procedure definition kept as code.

Pure functions over the `getDemarcheDescriptor` answer: `wif procedure
check` prints the report, `wif procedure apply` turns it into a plan. The
definition is read through its shape only (the protocols below), so the DS
adapter knows no APT rule. Champs are paired with the definition through the
démarche's binding (key → DS id), never by label: a label that differs is a
rename to make in DS, not a different champ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from connector.revision import DESCRIPTOR_TYPENAMES, stable_id_of, type_of

LAYOUT_TYPES = frozenset({"header_section", "explication"})


# Read-only members (properties): the definitions are frozen dataclasses.
class ChampDefinition(Protocol):
    """A champ or annotation as the definition kept as code describes it."""

    @property
    def key(self) -> str: ...
    @property
    def type(self) -> str: ...  # DS type_champ
    @property
    def label(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def options(self) -> tuple: ...
    @property
    def champs(self) -> tuple: ...  # repetition children


class LabelDefinition(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...


class Procedure(Protocol):
    @property
    def champs(self) -> tuple[ChampDefinition, ...]: ...
    @property
    def annotations(self) -> tuple[ChampDefinition, ...]: ...
    @property
    def labels(self) -> tuple[LabelDefinition, ...]: ...


class ExpectedGroupe(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def instructeur_emails(self) -> tuple[str, ...]: ...


class Binding(Protocol):
    """The démarche's binding (mappings.binding.Binding): key → DS id."""

    def id_of(self, key: str) -> str | None: ...


# The label DS gives the groupe every démarche starts with (GroupeInstructeur::DEFAUT_LABEL).
DEFAULT_GROUPE_LABEL = "défaut"


@dataclass(frozen=True)
class Drift:
    kind: str  # missing_champ, extra_champ, renamed_champ, retyped_champ, ...
    subject: str
    detail: str
    value: str | None = None  # what a fix needs, e.g. the missing instructeur's e-mail
    stable_id: int | None = None  # the champ's number as DS's editor shows it

    def line(self) -> str:
        return f"{self.kind:<22} {self.subject}: {self.detail}"


@dataclass
class DriftReport:
    revision_id: str | None
    drifts: list[Drift] = field(default_factory=list)
    # label → groupe as read from DS, for the apply plan
    live_groupes: dict[str, dict] = field(default_factory=dict)
    stored_binding: bool = True  # the champs were paired by a stored binding (else in memory, by label and type)

    @property
    def has_drift(self) -> bool:
        return bool(self.drifts)

    def of_kind(self, *kinds: str) -> list[Drift]:
        return [d for d in self.drifts if d.kind in kinds]


def compare(
    procedure: Procedure,
    live: dict,
    expected_groupes: Sequence[ExpectedGroupe],
    connector_instructeur_id: str | None,
    binding: Binding,
) -> DriftReport:
    """`live` is `data.demarche` of getDemarcheDescriptor; `binding` pairs keys with its champs."""
    revision = live.get("publishedRevision") or live.get("activeRevision") or {}
    report = DriftReport(revision_id=revision.get("id"))
    report.drifts += _compare_descriptors("champ", procedure.champs, revision.get("champDescriptors") or [], binding)
    report.drifts += _compare_descriptors(
        "annotation", procedure.annotations, revision.get("annotationDescriptors") or [], binding
    )
    report.drifts += _compare_labels(procedure, live.get("labels") or [], binding)
    groupe_drifts, report.live_groupes = _compare_groupes(
        live.get("groupeInstructeurs") or [], expected_groupes, connector_instructeur_id
    )
    report.drifts += groupe_drifts
    return report


def _compare_descriptors(
    kind: str, expected: tuple[ChampDefinition, ...], live: list[dict], binding: Binding
) -> list[Drift]:
    drifts = []
    live_by_id = {d["id"]: d for d in live}
    matched: set[str] = set()
    for definition in expected:
        ds_id = binding.id_of(definition.key)
        descriptor = live_by_id.get(ds_id) if ds_id else None
        if descriptor is None:
            drifts.append(
                Drift(
                    f"missing_{kind}",
                    definition.key,
                    f"« {definition.label} » ({definition.type}) is not on the démarche",
                )
            )
            continue
        matched.add(descriptor["id"])
        drifts += _compare_one(kind, definition, descriptor)
        if definition.champs:
            drifts += _compare_descriptors(kind, definition.champs, descriptor.get("champDescriptors") or [], binding)
    for descriptor in live:
        if descriptor["id"] not in matched and type_of(descriptor.get("__typename")) not in LAYOUT_TYPES:
            drifts.append(
                Drift(
                    f"extra_{kind}",
                    f"n° {stable_id_of(descriptor['id'])}",
                    f"« {descriptor['label']} » ({type_of(descriptor.get('__typename'))}) is not in the definition",
                    stable_id=stable_id_of(descriptor["id"]),
                )
            )
    return drifts


def _compare_one(kind: str, definition: ChampDefinition, descriptor: dict) -> list[Drift]:
    drifts = []
    number = stable_id_of(descriptor["id"])
    if descriptor.get("label") != definition.label:
        drifts.append(
            Drift(
                f"renamed_{kind}",
                definition.key,
                f"« {descriptor.get('label')} » on DS, « {definition.label} » expected",
                value=definition.label,
                stable_id=number,
            )
        )
    expected_type = DESCRIPTOR_TYPENAMES[definition.type]
    if descriptor.get("__typename") != expected_type:
        drifts.append(
            Drift(
                f"retyped_{kind}",
                definition.key,
                f"{type_of(descriptor.get('__typename'))} on DS, {definition.type} expected",
                value=definition.type,
                stable_id=number,
            )
        )
    if bool(descriptor.get("required")) != definition.required:
        drifts.append(
            Drift(
                f"required_{kind}",
                definition.key,
                f"required={descriptor.get('required')} on DS, {definition.required} expected",
                value="oui" if definition.required else "non",
                stable_id=number,
            )
        )
    if definition.options and "options" in descriptor and list(descriptor["options"] or []) != list(definition.options):
        drifts.append(
            Drift(
                f"options_{kind}",
                definition.key,
                f"options {descriptor['options']} on DS, {list(definition.options)} expected",
                value=" ; ".join(definition.options),
                stable_id=number,
            )
        )
    return drifts


def _compare_labels(procedure: Procedure, live: list[dict], binding: Binding) -> list[Drift]:
    by_id = {label["id"]: label for label in live}
    drifts, matched = [], set()
    for label in procedure.labels:
        found = by_id.get(binding.id_of(label.key) or "")
        if found is None:
            drifts.append(Drift("missing_label", label.name, "label not on the démarche", value=label.name))
            continue
        matched.add(found["id"])
        if found.get("name") != label.name:
            drifts.append(
                Drift(
                    "renamed_label",
                    label.name,
                    f"« {found.get('name')} » on DS",
                    value=label.name,
                    stable_id=stable_id_of(found["id"], "Label"),
                )
            )
    drifts += [
        Drift("extra_label", label["name"], "label not in the definition")
        for label in live
        if label["id"] not in matched
    ]
    return drifts


def _compare_groupes(live: list[dict], expected: Sequence[ExpectedGroupe], connector_instructeur_id: str | None):
    # Filter closed groupes ourselves: the `closed` argument is inverted in DS (docs/ds-groupes.md).
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
                drifts.append(
                    Drift(
                        "missing_instructeur", groupe.label, f"{email} is not an instructeur of the groupe", value=email
                    )
                )
        if connector_instructeur_id and connector_instructeur_id not in {
            i["id"] for i in found.get("instructeurs") or []
        }:
            drifts.append(
                Drift(
                    "connector_not_member",
                    groupe.label,
                    "the connector's instructeur (DS_INSTRUCTEUR_ID) is not in the groupe",
                )
            )
    default = _default_groupe(live)
    for label in sorted(set(active) - expected_labels - {default}):
        drifts.append(Drift("extra_groupe", label, "groupe instructeur not in the routing table"))
    return drifts, active


def _default_groupe(live: list[dict]) -> str | None:
    """DS's default groupe cannot be closed nor deleted (docs/ds-groupes.md#the-default-groupe): it is never drift.
    The API does not say which it is: the one labelled « défaut », else the oldest."""
    labels = [g["label"] for g in live]
    if DEFAULT_GROUPE_LABEL in labels:
        return DEFAULT_GROUPE_LABEL
    numbered = [g for g in live if isinstance(g.get("number"), int)]
    return min(numbered, key=lambda g: g["number"])["label"] if numbered else None
