"""A champ's columns: its value, and for some types its parts, as DS lists them for instructeurs
(docs/ds-champs.md#columns). Each column is typed by what it holds (TextColumn, DateColumn...);
its id is the global id of "type_de_champ/<stable id>", followed for a part by "-<json path>".
"""

from __future__ import annotations

from datetime import date, datetime

from sandbox.ids import gid

# The type of a champ's own column (DS's TypeDeChamp.column_type).
COLUMN_TYPES = {
    "datetime": "DateTimeColumn",
    "date": "DateColumn",
    "integer_number": "IntegerColumn",
    "decimal_number": "DecimalColumn",
    "multiple_drop_down_list": "EnumsColumn",
    "drop_down_list": "EnumColumn",
    "departements": "EnumColumn",
    "regions": "EnumColumn",
    "civilite": "EnumColumn",
    "checkbox": "BooleanColumn",
    "yes_no": "BooleanColumn",
    "piece_justificative": "AttachmentsColumn",
    "titre_identite": "AttachmentsColumn",
}
# Types without a value of their own: no column.
NOT_FILLABLE = ("header_section", "explication", "repetition", "carte", "titre_identite")
ADDRESS_PARTS = (
    ("Code postal (5 chiffres)", "$.postal_code", "TextColumn", "postalCode"),
    ("Commune", "$.city_name", "TextColumn", "cityName"),
    ("Département", "$.department_code", "EnumColumn", "departmentCode"),
    ("Région", "$.region_name", "EnumColumn", "regionName"),
)
ETABLISSEMENT_PARTS = (
    ("Entreprise raison sociale", "$.entreprise_raison_sociale", "raisonSociale"),
    ("Entreprise SIREN", "$.entreprise_siren", "siren"),
    ("Entreprise nom commercial", "$.entreprise_nom_commercial", "nomCommercial"),
    ("Entreprise forme juridique", "$.entreprise_forme_juridique", "formeJuridique"),
)


def columns_of(definition, value, champ: dict, files: list) -> list[dict]:
    kind = definition.type
    if kind in NOT_FILLABLE:
        return []
    label, stable_id = definition.label, definition.stable_id
    if kind == "linked_drop_down_list":
        primary, secondary = value or (None, None)
        return [
            column("TextColumn", stable_id, label, champ["stringValue"] or None, path=None),
            column("EnumColumn", stable_id, f"{label} (Primaire)", primary, path="primary"),
            column("EnumColumn", stable_id, f"{label} (Secondaire)", secondary, path="secondary"),
        ]
    out = [column(COLUMN_TYPES.get(kind, "TextColumn"), stable_id, label, _own_value(kind, value, champ, files))]
    if kind == "communes" and champ.get("commune"):
        commune = champ["commune"]
        out += [
            column(
                "TextColumn",
                stable_id,
                f"{label} - code postal (5 chiffres)",
                commune["postalCode"],
                path="$.code_postal",
            ),
            column(
                "TextColumn",
                stable_id,
                f"{label} - département",
                champ["departement"]["code"],
                path="$.code_departement",
            ),
        ]
    address = (
        champ.get("address")
        or (champ.get("etablissement") or {}).get("address")
        or (champ.get("rna") or champ.get("rnf") or {}).get("address")
    )
    if kind in ("address", "siret", "rna", "rnf"):
        if kind == "siret":
            entreprise = (champ.get("etablissement") or {}).get("entreprise") or {}
            out += [
                column("TextColumn", stable_id, f"{label} – {part}", entreprise.get(key), path=path)
                for part, path, key in ETABLISSEMENT_PARTS
            ]
        out += [
            column(type_name, stable_id, f"{label} – {part}", (address or {}).get(key), path=path)
            for part, path, type_name, key in ADDRESS_PARTS
        ]
        if kind in ("rna", "rnf"):
            registry = champ.get(kind) or {}
            out.append(column("TextColumn", stable_id, f"{label} – Titre", registry.get("title"), path="$.title"))
    return out


def _own_value(kind, value, champ, files):
    if value is None or value == "" or value == ():
        return None
    if kind in ("checkbox", "yes_no"):
        return bool(value)
    if kind == "piece_justificative":
        return files
    if kind == "date":
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            return None
    if kind == "datetime":
        return champ.get("datetime")
    if kind in ("integer_number", "decimal_number"):
        return champ.get("_integer", champ.get("_decimal"))
    if kind == "multiple_drop_down_list":
        return list(value)
    if kind in ("departements", "regions", "civilite", "drop_down_list"):
        return str(value)  # a code for places: DS's external id
    # Text: the champ's stored text, which for places and registries is their name or number.
    return champ.get("_text") or champ["stringValue"] or None


def column(type_name: str, stable_id: int, label: str, value, path: str | None = None) -> dict:
    column_id = f"type_de_champ/{stable_id}" + (f"-{path}" if path else "")
    return {
        "__typename": type_name,
        "id": gid("Column", column_id),
        "label": label,
        "stringValue": _string(type_name, value),
        "value": value,
    }


def _string(type_name: str, value) -> str | None:
    if value is None or value == [] or value == "":
        return None
    if type_name == "EnumsColumn":
        return ", ".join(value)
    if type_name == "AttachmentsColumn":
        return ", ".join(f["url"] for f in value)
    if type_name == "BooleanColumn":
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
