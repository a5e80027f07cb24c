"""A démarche's revision as plain descriptor records, for the binding.

DS names each champ by its descriptor id, base64 of `Champ-<stable id>`, and
types it by the descriptor's GraphQL type; this module turns the
`getDemarcheDescriptor` answer into records `{section, id, stable_id, type,
label, parent_id, required, options}` (section: champ, annotation or label),
so that the binding rules read no GraphQL.
"""

from __future__ import annotations

import base64
import binascii
import re

from connector.client import DSClient

# DS type_champ → the ChampDescriptor type the API gives for it (docs/ds-champs.md#descriptor-types).
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


TYPE_OF_TYPENAME = {typename: type_champ for type_champ, typename in DESCRIPTOR_TYPENAMES.items()}


def stable_id_of(global_id: str, type_name: str = "Champ") -> int | None:
    """The integer inside `<Type>-<n>` (base64), e.g. the stable id an administrateur sees in DS."""
    try:
        decoded = base64.b64decode(global_id.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError, AttributeError):
        return None
    prefix, _, number = decoded.partition("-")
    number = number.split("|")[0]  # a repetition row's champ: Champ-<stable id>|<row id>
    return int(number) if prefix == type_name and number.isdigit() else None


def descriptor_id(stable_id: int) -> str:
    return base64.b64encode(f"Champ-{stable_id}".encode()).decode()


def type_of(typename: str | None) -> str:
    """DS type_champ of a descriptor's GraphQL type (TitreIdentiteChampDescriptor → titre_identite)."""
    if typename in TYPE_OF_TYPENAME:
        return TYPE_OF_TYPENAME[typename]
    stem = (typename or "Unknown").removesuffix("ChampDescriptor")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()


def published_revision(demarche: dict) -> dict:
    """The revision dossiers are filed on: the published one, or the draft of a démarche in test (brouillon)."""
    return demarche.get("publishedRevision") or demarche.get("activeRevision") or {}


def descriptors(revision: dict, labels: list[dict] | None = None) -> list[dict]:
    out: list[dict] = []
    for section, key in (("champ", "champDescriptors"), ("annotation", "annotationDescriptors")):
        for raw in revision.get(key) or []:
            _add(out, section, raw, None)
    for label in labels or []:
        number = stable_id_of(label.get("id", ""), "Label")
        if number is not None:
            out.append(
                {
                    "section": "label",
                    "id": label["id"],
                    "stable_id": number,
                    "type": "label",
                    "label": label.get("name") or "",
                    "parent_id": None,
                }
            )
    return out


def _add(out: list[dict], section: str, raw: dict, parent_id: str | None) -> None:
    stable_id = stable_id_of(raw.get("id", ""))
    if stable_id is None:
        return
    out.append(
        {
            "section": section,
            "id": raw["id"],
            "stable_id": stable_id,
            "type": type_of(raw.get("__typename")),
            "label": raw.get("label") or "",
            "parent_id": parent_id,
            "required": bool(raw.get("required")),
            "options": tuple(o for o in raw.get("options") or () if isinstance(o, str)),
        }
    )
    for child in raw.get("champDescriptors") or []:
        _add(out, section, child, raw["id"])


def read_demarche(client: DSClient, demarche_number: int) -> dict:
    """`data.demarche` of getDemarcheDescriptor: revisions, labels, groupes."""
    return client.execute("getDemarcheDescriptor", {"demarcheNumber": demarche_number})["demarche"]


def revision_descriptors(client: DSClient, demarche_number: int, revision_id: str) -> list[dict] | None:
    """The descriptors of one (older) revision, or None when DS no longer has it."""
    demarche = client.execute("getDemarcheRevisions", {"demarcheNumber": demarche_number})["demarche"]
    for revision in demarche.get("revisions") or []:
        if revision.get("id") == revision_id:
            return descriptors(revision)
    return None
