"""Revisions and their champ descriptors as DS describes a form (docs/ds-revisions.md)."""

from __future__ import annotations

from sandbox.demarche import ChampDefinition, Revision
from sandbox.reference_data import COUNTRIES, DEPARTEMENTS, REGIONS

# type_champ -> its descriptor type (DS has one per type de champ).
DESCRIPTOR_TYPES = {
    "text": "Text",
    "textarea": "Textarea",
    "email": "Email",
    "phone": "Phone",
    "iban": "Iban",
    "formatted": "Formatted",
    "number": "Number",
    "integer_number": "IntegerNumber",
    "decimal_number": "DecimalNumber",
    "date": "Date",
    "datetime": "Datetime",
    "checkbox": "Checkbox",
    "yes_no": "YesNo",
    "civilite": "Civilite",
    "drop_down_list": "DropDownList",
    "multiple_drop_down_list": "MultipleDropDownList",
    "linked_drop_down_list": "LinkedDropDownList",
    "address": "Address",
    "communes": "Commune",
    "departements": "Departement",
    "regions": "Region",
    "pays": "Pays",
    "epci": "Epci",
    "siret": "Siret",
    "rna": "RNA",
    "rnf": "RNF",
    "titre_identite": "TitreIdentite",
    "piece_justificative": "PieceJustificative",
    "carte": "Carte",
    "dossier_link": "DossierLink",
    "repetition": "Repetition",
    "header_section": "HeaderSection",
    "explication": "Explication",
    "engagement_juridique": "EngagementJuridique",
    "annuaire_education": "AnnuaireEducation",
    "cnaf": "Cnaf",
    "dgfip": "Dgfip",
    "pole_emploi": "PoleEmploi",
    "mesri": "Mesri",
    "cojo": "COJO",
    "referentiel": "Referentiel",
}


def descriptor(definition: ChampDefinition, file_template=None) -> dict:
    kind = definition.type if definition.type in DESCRIPTOR_TYPES else "text"
    out = {
        "__typename": DESCRIPTOR_TYPES[kind] + "ChampDescriptor",
        "id": definition.id,
        "label": definition.label,
        "description": definition.description,
        "required": definition.required,
        "type": kind,
        "champDescriptors": [descriptor(child) for child in definition.champs] if kind == "repetition" else None,
        "level": definition.level,
        "otherOption": definition.other_option,
        "options": list(definition.options),
        "collapsibleExplanationEnabled": definition.explanation is not None if kind == "explication" else None,
        "collapsibleExplanationText": definition.explanation,
        "fileTemplate": file_template(definition) if file_template and definition.file_template else None,
    }
    if kind == "pays":
        out["options"] = [{"code": code, "name": name} for code, name in COUNTRIES.items()]
    elif kind == "departements":
        out["options"] = [{"code": code, "name": name} for code, name in DEPARTEMENTS.items()]
    elif kind == "regions":
        out["options"] = [{"code": code, "name": name} for code, name in REGIONS.items()]
    return out


def revision_view(revision: Revision, annotations_visible: bool = True, file_template=None) -> dict:
    """`annotations_visible`: DS empties annotationDescriptors for a caller who may not read the démarche."""
    return {
        "id": revision.id,
        "dateCreation": revision.created_at,
        "datePublication": revision.published_at,
        "champDescriptors": [descriptor(d, file_template) for d in revision.champs],
        "annotationDescriptors": [descriptor(d, file_template) for d in revision.annotations]
        if annotations_visible
        else [],
    }
