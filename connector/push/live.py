"""What push needs from the live démarche: its annotation, label and groupe ids, read once per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from connector.client import DSClient


@dataclass
class LiveDemarche:
    """What push needs from the live démarche, read once per run."""

    annotation_ids: dict[str, str]  # procedure key → DS annotation id
    annotation_types: dict[str, str]  # procedure key → value key of AnnotationValueInput
    label_ids: dict[str, str]  # procedure label key → DS label id
    groupes: dict[str, dict]  # label → {id, instructeur ids}
    missing: list[str] = field(default_factory=list)  # what the definition names but DS lacks


VALUE_KEYS = {
    "text": "text",
    "textarea": "textarea",
    "drop_down_list": "dropDownList",
    "date": "date",
    "yes_no": "yesNo",
    "checkbox": "checkbox",
}


# Read-only members (properties): the definitions are frozen dataclasses.
class AnnotationDefinition(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def type(self) -> str: ...  # DS type_champ


class LabelDefinition(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...


class PushDefinition(Protocol):
    """What push needs of the procedure definition: the annotations and labels it writes."""

    @property
    def annotations(self) -> tuple[AnnotationDefinition, ...]: ...
    @property
    def labels(self) -> tuple[LabelDefinition, ...]: ...


class PushBinding(Protocol):
    """The démarche's stored binding (mappings.binding.Binding): key → DS id."""

    def id_of(self, key: str) -> str | None: ...


def read_live(
    client: DSClient,
    demarche_number: int,
    procedure: PushDefinition,
    binding: PushBinding,
    demarche: dict | None = None,
) -> LiveDemarche:
    """Annotation and label ids from the binding only (never by label); `demarche`:
    getDemarcheDescriptor's answer when the caller already read it this run."""
    if demarche is None:
        demarche = client.execute("getDemarcheDescriptor", {"demarcheNumber": demarche_number})["demarche"]
    revision = demarche.get("publishedRevision") or demarche.get("activeRevision") or {}
    live_annotations = {d["id"] for d in revision.get("annotationDescriptors") or []}
    live = LiveDemarche({}, {}, {}, {})
    for annotation in procedure.annotations:
        ds_id = binding.id_of(annotation.key)
        if ds_id is None or ds_id not in live_annotations:
            live.missing.append(f"annotation « {annotation.label} »")
            continue
        live.annotation_ids[annotation.key] = ds_id
        live.annotation_types[annotation.key] = VALUE_KEYS.get(annotation.type, "text")
    live_labels = {label["id"] for label in demarche.get("labels") or []}
    for label in procedure.labels:
        ds_id = binding.id_of(label.key)
        if ds_id is not None and ds_id in live_labels:
            live.label_ids[label.key] = ds_id
        else:
            live.missing.append(f"label « {label.name} »")
    for groupe in demarche.get("groupeInstructeurs") or []:
        if not groupe.get("closed"):
            live.groupes[groupe["label"]] = {
                "id": groupe["id"],
                "instructeurs": {i["id"] for i in groupe.get("instructeurs") or []},
            }
    return live
