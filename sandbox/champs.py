"""GraphQL champ objects built on the fly from a dossier's stored values.

Stored values are plain Python (see `sandbox.generator`): str for text-like
champs and ISO dates, bool for yes/no, float for decimals, `Commune`/`Place`
for communes/addresses, `Etablissement` for SIRET, a tuple of `StoredFile`
for pièces justificatives, a list of (row_id, {key: value}) for repetitions.
Each object carries its specific type and its fallback (NOTES §11.2); the
schema's resolve_type picks one according to the query's fragments.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import NamedTuple
from urllib.parse import quote

from sandbox.demarche import ChampDefinition
from sandbox.ids import gid
from sandbox.reference_data import Place, country_name, departement_name

# type_champ -> (GraphQL type when the query names it, fallback otherwise)
CHAMP_TYPES = {
    "address": ("AddressChamp", "TextChamp"),
    "communes": ("CommuneChamp", "TextChamp"),
    "departements": ("DepartementChamp", "TextChamp"),
    "pays": ("PaysChamp", "TextChamp"),
    "drop_down_list": ("DropDownListChamp", "TextChamp"),
    "header_section": ("HeaderSectionChamp", "TextChamp"),
    "yes_no": ("YesNoChamp", "CheckboxChamp"),
    "checkbox": ("CheckboxChamp", "CheckboxChamp"),
    "civilite": ("CiviliteChamp", "CiviliteChamp"),
    "date": ("DateChamp", "DateChamp"),
    "decimal_number": ("DecimalNumberChamp", "DecimalNumberChamp"),
    "integer_number": ("IntegerNumberChamp", "IntegerNumberChamp"),
    "number": ("IntegerNumberChamp", "IntegerNumberChamp"),
    "siret": ("SiretChamp", "SiretChamp"),
    "piece_justificative": ("PieceJustificativeChamp", "PieceJustificativeChamp"),
    "repetition": ("RepetitionChamp", "RepetitionChamp"),
}
TEXT_TYPES = ("TextChamp", "TextChamp")
UNKNOWN_CHAMP_STABLE_ID = 99999


class StoredFile(NamedTuple):
    filename: str
    content_type: str
    byte_size: int


class Etablissement(NamedTuple):
    siret: str
    raison_sociale: str
    naf: str
    libelle_naf: str
    forme_juridique: str
    place: Place
    # DS's Address.departmentCode is nullable: some établissements come without it.
    with_department_code: bool = True


class RenderContext(NamedTuple):
    """What rendering needs besides the values: the server's base URL for files."""

    base_url: str


def render_champs(definitions, values: dict, updated_at: datetime, owner: int, ctx: RenderContext,
                  skip_keys=(), extra=()) -> list[dict]:
    champs = [
        render_champ(d, values.get(d.key), updated_at, owner, ctx)
        for d in definitions
        if d.key not in skip_keys
    ]
    for stable_id, label, value in extra:
        champs.append(_base(gid("Champ", stable_id), gid("Champ", stable_id), label, value, updated_at, TEXT_TYPES)
                      | {"value": value})
    return champs


def render_champ(definition: ChampDefinition, value, updated_at: datetime, owner: int, ctx: RenderContext,
                 row_id: str | None = None) -> dict:
    champ_id = definition.id if row_id is None else base64.b64encode(
        f"Champ-{definition.stable_id}|{row_id}".encode()).decode()
    types = CHAMP_TYPES.get(definition.type, TEXT_TYPES)
    champ = _base(champ_id, definition.id, definition.label, _string_value(definition.type, value), updated_at, types)
    champ.update(_typed_fields(definition, value, updated_at, owner, ctx))
    # A TextChamp fallback still answers `value` with the text rendering.
    champ.setdefault("value", champ["stringValue"])
    return champ


def _base(champ_id, descriptor_id, label, string_value, updated_at, types) -> dict:
    return {
        "__types": types,
        "id": champ_id,
        "champDescriptorId": descriptor_id,
        "label": label,
        "stringValue": string_value,
        "updatedAt": updated_at,
        "prefilled": False,
    }


def _typed_fields(definition: ChampDefinition, value, updated_at, owner, ctx) -> dict:
    kind = definition.type
    if kind == "header_section":
        return {"level": 1, "value": None}
    if kind == "date":
        return {"date": value if isinstance(value, str) else None}
    if kind in ("yes_no", "checkbox"):
        checked = value if isinstance(value, bool) else None
        # CheckboxChamp.value is non-null: a blank yes/no reads as false there.
        return {"value": checked, "__checkbox_value": bool(checked)}
    if kind == "civilite":
        return {"value": value if value in ("M", "Mme") else None}
    if kind == "decimal_number":
        return {"value": _number(value, float)}
    if kind in ("integer_number", "number"):
        return {"value": _number(value, int)}
    if kind == "drop_down_list":
        return {"value": value if isinstance(value, str) else None}
    if kind == "pays":
        return {"pays": {"code": value, "name": country_name(value) or value} if value else None}
    if kind == "departements":
        return {"departement": _departement(value)}
    if kind == "communes":
        return {"commune": _commune(value), "departement": _departement(value.departement) if value else None}
    if kind == "address":
        if not isinstance(value, Place):
            return {"address": None, "commune": None, "departement": None}
        return {"address": _address(value), "commune": _commune(value.commune),
                "departement": _departement(value.commune.departement)}
    if kind == "siret":
        return {"etablissement": etablissement_view(value) if isinstance(value, Etablissement) else None}
    if kind == "piece_justificative":
        return {"files": [_file(f, i, definition, updated_at, owner, ctx) for i, f in enumerate(value or ())]}
    if kind == "repetition":
        return {"rows": [
            {"id": gid("Row", row_id) if row_id.isdigit() else base64.b64encode(f"Row-{row_id}".encode()).decode(),
             "champs": [render_champ(child, row.get(child.key), updated_at, owner, ctx, row_id)
                        for child in definition.champs]}
            for row_id, row in (value or ())
        ]}
    return {"value": None if value is None else str(value)}


def _number(value, cast):
    try:
        return None if value is None or isinstance(value, bool) else cast(value)
    except (TypeError, ValueError):
        return None


def _string_value(kind: str, value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, Place):
        return value.label
    if isinstance(value, Etablissement):
        return value.siret
    if kind == "pays":
        return country_name(value) or str(value)
    if kind == "departements":
        return f"{value} – {departement_name(value)}"
    if kind == "piece_justificative":
        return ", ".join(f.filename for f in value)
    if kind == "repetition":
        return None
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _departement(code):
    return {"code": code, "name": departement_name(code) or code} if code else None


def _commune(commune):
    if commune is None:
        return None
    return {"name": commune.name, "code": commune.insee, "postalCode": commune.postal_code}


def _address(place: Place, with_department_code: bool = True) -> dict:
    commune = place.commune
    return {
        "label": place.label,
        "type": "housenumber",
        "streetAddress": place.street_address,
        "streetNumber": place.street_number,
        "streetName": place.street_name,
        "postalCode": commune.postal_code,
        "cityName": commune.name,
        "cityCode": commune.insee,
        "departmentCode": commune.departement if with_department_code else None,
        "departmentName": departement_name(commune.departement) if with_department_code else None,
        "regionName": None,
        "regionCode": None,
        "countryName": "France",
        "countryCode": "FR",
    }


def etablissement_view(etablissement: Etablissement) -> dict:
    siren = etablissement.siret[:9]
    return {
        "id": gid("Etablissement", int(etablissement.siret) if etablissement.siret.isdigit() else 0),
        "siret": etablissement.siret,
        "siegeSocial": True,
        "naf": etablissement.naf,
        "libelleNaf": etablissement.libelle_naf,
        "address": _address(etablissement.place, etablissement.with_department_code),
        "entreprise": {
            "siren": siren,
            "raisonSociale": etablissement.raison_sociale,
            "nomCommercial": etablissement.raison_sociale,
            "formeJuridique": etablissement.forme_juridique,
            "formeJuridiqueCode": None,
            "siretSiegeSocial": etablissement.siret,
            "capitalSocial": None,
            "inlineAdresse": etablissement.place.label,
        },
    }


def file_checksum(owner: int, stable_id: int, index: int, stored: StoredFile) -> str:
    seed = f"{owner}:{stable_id}:{index}:{stored.filename}:{stored.byte_size}".encode()
    return base64.b64encode(hashlib.md5(seed).digest()).decode()


def _file(stored: StoredFile, index: int, definition, updated_at, owner, ctx) -> dict:
    return {
        "filename": stored.filename,
        "contentType": stored.content_type,
        "byteSize": min(stored.byte_size, 2**31 - 1),
        "byteSizeBigInt": stored.byte_size,
        "checksum": file_checksum(owner, definition.stable_id, index, stored),
        "url": f"{ctx.base_url}/files/{owner}/{definition.stable_id}/{index}/{quote(stored.filename)}",
        "createdAt": updated_at,
        "virusScanResult": "safe",
    }
