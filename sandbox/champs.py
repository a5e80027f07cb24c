"""GraphQL champ objects built on the fly from a dossier's stored values (docs/ds-champs.md).

Stored values are plain Python (see `sandbox.generator` and `sandbox.every_champ`): str for text-like
champs, ISO dates and drop-down choices, a timezone-aware datetime for date-times, bool for yes/no and
checkboxes, int and float for numbers, a tuple of choices for multiple drop-downs, (primary,
secondary) for linked drop-downs, `Commune`/`Place`/`Epci` and codes for places, `Etablissement`,
`Rna`, `Rnf` for registries, a tuple of `StoredFile` for files, a tuple of `GeoAreaRecord` for maps,
a dossier number for links, a list of (row_id, {key: value}) for repetitions.

Each object carries its specific GraphQL type and the one DS falls back on when the query names no
fragment for it; the schema's resolve_type picks one. The fields whose meaning differs between the
two (`value` above all) are kept under private keys that sandbox.schema wires per type.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sandbox.columns import columns_of
from sandbox.demarche import ChampDefinition
from sandbox.files import StoredFile, file_view
from sandbox.ids import gid
from sandbox.reference_data import (
    REGIONS,
    Commune,
    Epci,
    Place,
    country_name,
    departement_name,
    region_of,
)

PARIS = ZoneInfo("Europe/Paris")
# type_champ -> (GraphQL type when the query names it, DS's fallback otherwise)
CHAMP_TYPES = {
    "address": ("AddressChamp", "TextChamp"),
    "communes": ("CommuneChamp", "TextChamp"),
    "departements": ("DepartementChamp", "TextChamp"),
    "regions": ("RegionChamp", "TextChamp"),
    "pays": ("PaysChamp", "TextChamp"),
    "drop_down_list": ("DropDownListChamp", "TextChamp"),
    "header_section": ("HeaderSectionChamp", "TextChamp"),
    "explication": ("ExplicationChamp", "TextChamp"),
    "yes_no": ("YesNoChamp", "CheckboxChamp"),
    "datetime": ("DatetimeChamp", "DateChamp"),
    "checkbox": ("CheckboxChamp", "CheckboxChamp"),
    "civilite": ("CiviliteChamp", "CiviliteChamp"),
    "date": ("DateChamp", "DateChamp"),
    "decimal_number": ("DecimalNumberChamp", "DecimalNumberChamp"),
    "integer_number": ("IntegerNumberChamp", "IntegerNumberChamp"),
    "number": ("IntegerNumberChamp", "IntegerNumberChamp"),
    "siret": ("SiretChamp", "SiretChamp"),
    "piece_justificative": ("PieceJustificativeChamp", "PieceJustificativeChamp"),
    "titre_identite": ("TitreIdentiteChamp", "TitreIdentiteChamp"),
    "repetition": ("RepetitionChamp", "RepetitionChamp"),
    "multiple_drop_down_list": ("MultipleDropDownListChamp", "MultipleDropDownListChamp"),
    "linked_drop_down_list": ("LinkedDropDownListChamp", "LinkedDropDownListChamp"),
    "epci": ("EpciChamp", "EpciChamp"),
    "rna": ("RNAChamp", "RNAChamp"),
    "rnf": ("RNFChamp", "RNFChamp"),
    "engagement_juridique": ("EngagementJuridiqueChamp", "EngagementJuridiqueChamp"),
    "carte": ("CarteChamp", "CarteChamp"),
    "dossier_link": ("DossierLinkChamp", "DossierLinkChamp"),
}
TEXT_TYPES = ("TextChamp", "TextChamp")
UNKNOWN_CHAMP_STABLE_ID = 99999
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


class Etablissement(NamedTuple):
    siret: str
    raison_sociale: str
    naf: str
    libelle_naf: str
    forme_juridique: str
    place: Place
    # DS's Address.departmentCode is nullable: some établissements come without it.
    with_department_code: bool = True


class Rna(NamedTuple):
    """An association of the Répertoire national des associations."""

    id: str
    title: str
    objet: str
    place: Place
    created_on: str  # ISO date


class Rnf(NamedTuple):
    """A foundation of the Répertoire national des fondations."""

    id: str
    title: str
    place: Place


class GeoAreaRecord(NamedTuple):
    """A drawn shape or a cadastral parcel of a map champ."""

    number: int
    source: str  # selection_utilisateur or cadastre
    description: str | None
    geometry_type: str
    coordinates: list
    parcel: tuple[str, str, str, str, str] | None = None  # commune, prefixe, section, numero, surface


class RenderContext(NamedTuple):
    """What rendering needs besides the values."""

    base_url: str
    now: datetime
    # The DossierLinkChamp's dossier, as the caller may see it (None, or an error to raise).
    linked_dossier: Callable[[int], object] | None = None


def render_champs(
    definitions, values: dict, updated_at: datetime, owner: int, ctx: RenderContext, skip_keys=(), extra=()
) -> list[dict]:
    champs = [render_champ(d, values.get(d.key), updated_at, owner, ctx) for d in definitions if d.key not in skip_keys]
    for stable_id, label, value in extra:
        champ = _base(gid("Champ", stable_id), gid("Champ", stable_id), label, value, updated_at, TEXT_TYPES)
        champ.update(_text=value, columns=[])
        champs.append(champ)
    return champs


def champ_id(definition: ChampDefinition, row_id: str | None = None) -> str:
    if row_id is None:
        return definition.id
    return base64.b64encode(f"Champ-{definition.stable_id}|{row_id}".encode()).decode()


def render_champ(
    definition: ChampDefinition, value, updated_at: datetime, owner: int, ctx: RenderContext, row_id: str | None = None
) -> dict:
    kind = definition.type
    champ = _base(
        champ_id(definition, row_id),
        definition.id,
        definition.label,
        string_value(kind, value),
        updated_at,
        CHAMP_TYPES.get(kind, TEXT_TYPES),
    )
    champ.update(RENDERERS.get(kind, _text)(definition, value, updated_at, owner, ctx))
    if "columns" not in champ:
        champ["columns"] = lambda info, **_: columns_of(definition, value, champ, _files_of(champ))
    return champ


def _base(champ_id_, descriptor_id, label, string_value_, updated_at, types) -> dict:
    return {
        "__types": types,
        "id": champ_id_,
        "champDescriptorId": descriptor_id,
        "label": label,
        "stringValue": string_value_,
        "updatedAt": updated_at,
        "prefilled": False,
    }


def _files_of(champ: dict) -> list:
    return list(champ.get("files") or ())


# --- stringValue: DS's champ_value_for_api ----------------------------------------------------------


def french_date(value) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def _decimal_text(value) -> str:
    text = format(float(value), "f").rstrip("0").rstrip(".")
    return text or "0"


def string_value(kind: str, value) -> str | None:
    """The text DS gives a champ: '' when empty, null for files, maps and identity documents."""
    if kind in ("piece_justificative", "titre_identite", "carte"):
        return None
    if kind in ("yes_no", "checkbox"):
        return "true" if value is True else "false"
    if value is None or value == "" or value == () or value == []:
        return ""
    if kind == "date":
        try:
            return french_date(value)
        except ValueError:
            return str(value)  # an impossible date kept as typed: DS shows it as is
    if kind == "datetime":
        moment = _as_datetime(value).astimezone(PARIS)
        return f"{french_date(moment.date())} {moment:%H:%M}"
    if kind == "decimal_number":
        return _decimal_text(value) if isinstance(value, (int, float)) else str(value)
    if kind == "departements":
        return f"{value} - {departement_name(value) or value}"
    if kind == "regions":
        return REGIONS.get(value, value)
    if kind == "pays":
        return country_name(value) or str(value)
    if kind == "communes":
        return f"{value.name} ({value.postal_code})"
    if kind == "address":
        return value.label
    if kind == "epci":
        return value.name
    if kind in ("siret",):
        return value.siret
    if kind in ("rna", "rnf"):
        return value.id
    if kind == "multiple_drop_down_list":
        return ", ".join(value)
    if kind == "linked_drop_down_list":
        return " / ".join(v for v in value if v)
    if kind == "iban":
        return "".join(str(value).split())
    if kind in ("repetition", "header_section", "explication"):
        return ""
    if isinstance(value, float):
        return _decimal_text(value)
    return str(value)


def _as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# --- typed fields, one renderer per type de champ --------------------------------------------------


def _text(definition, value, updated_at, owner, ctx) -> dict:
    return {"_text": None if value is None else str(value)}


def _header(definition, value, updated_at, owner, ctx) -> dict:
    return {"level": definition.level, "_text": None, "columns": []}


def _explication(definition, value, updated_at, owner, ctx) -> dict:
    return {"_text": None, "columns": []}


def _date(definition, value, updated_at, owner, ctx) -> dict:
    if not isinstance(value, str) or not value:
        return {"date": None, "_date_time": None}
    try:
        midnight = datetime.combine(date.fromisoformat(value), datetime.min.time(), PARIS)
    except ValueError:  # an impossible date ("2001-02-30"): passed through, as stored
        return {"date": value, "_date_time": None}
    return {"date": value, "_date_time": midnight}


def _datetime(definition, value, updated_at, owner, ctx) -> dict:
    moment = _as_datetime(value) if value else None
    # As a DateChamp (no DatetimeChamp fragment): the date part, and the deprecated DateTime value.
    return {"datetime": moment, "date": moment.astimezone(PARIS).date() if moment else None, "_date_time": moment}


def _boolean(definition, value, updated_at, owner, ctx) -> dict:
    checked = value if isinstance(value, bool) else None
    # CheckboxChamp.value is non-null: a blank yes/no reads false there, null as a YesNoChamp.
    return {"_yes_no": checked, "_checked": bool(checked)}


def _civilite(definition, value, updated_at, owner, ctx) -> dict:
    return {"_civilite": value if value in ("M", "Mme") else None}


def _integer(definition, value, updated_at, owner, ctx) -> dict:
    return {"_integer": _number(value, int)}


def _decimal(definition, value, updated_at, owner, ctx) -> dict:
    return {"_decimal": _number(value, float)}


def _number(value, cast):
    try:
        return None if value is None or isinstance(value, bool) or value == "" else cast(value)
    except (TypeError, ValueError):
        return None


def _drop_down(definition, value, updated_at, owner, ctx) -> dict:
    return {"_text": value if isinstance(value, str) else None}


def _multiple(definition, value, updated_at, owner, ctx) -> dict:
    return {"values": list(value or ())}


def _linked(definition, value, updated_at, owner, ctx) -> dict:
    primary, secondary = value if value else (None, None)
    return {"primaryValue": primary, "secondaryValue": secondary}


def _pays(definition, value, updated_at, owner, ctx) -> dict:
    name = country_name(value) or value if value else None
    return {"pays": {"code": value, "name": name} if value else None, "_text": name}


def _departements(definition, value, updated_at, owner, ctx) -> dict:
    return {"departement": departement_view(value), "_text": departement_name(value) if value else None}


def _regions(definition, value, updated_at, owner, ctx) -> dict:
    region = {"code": value, "name": REGIONS.get(value, value)} if value else None
    return {"region": region, "_text": region and region["name"]}


def _communes(definition, value, updated_at, owner, ctx) -> dict:
    if not isinstance(value, Commune):
        return {"commune": None, "departement": None, "_text": None}
    return {"commune": commune_view(value), "departement": departement_view(value.departement), "_text": value.name}


def _address(definition, value, updated_at, owner, ctx) -> dict:
    if not isinstance(value, Place):
        return {"address": None, "commune": None, "departement": None, "_text": None}
    return {
        "address": address_view(value),
        "commune": commune_view(value.commune),
        "departement": departement_view(value.commune.departement),
        "_text": value.label,
    }


def _epci(definition, value, updated_at, owner, ctx) -> dict:
    if not isinstance(value, Epci):
        return {"epci": None, "departement": None, "_text": None}
    return {
        "epci": {"code": value.code, "name": value.name},
        "departement": departement_view(value.departement),
        "_text": value.name,
    }


def _siret(definition, value, updated_at, owner, ctx) -> dict:
    return {"etablissement": etablissement_view(value) if isinstance(value, Etablissement) else None}


def _rna(definition, value, updated_at, owner, ctx) -> dict:
    if not isinstance(value, Rna):
        return {"rna": None, "commune": None, "departement": None}
    return {"rna": {"id": value.id, "title": value.title, "address": address_view(value.place)}, **_where(value.place)}


def _rnf(definition, value, updated_at, owner, ctx) -> dict:
    if not isinstance(value, Rnf):
        return {"rnf": None, "commune": None, "departement": None}
    return {"rnf": {"id": value.id, "title": value.title, "address": address_view(value.place)}, **_where(value.place)}


def _where(place: Place) -> dict:
    return {"commune": commune_view(place.commune), "departement": departement_view(place.commune.departement)}


def _engagement(definition, value, updated_at, owner, ctx) -> dict:
    # DS has not implemented the amounts yet: it answers this placeholder for both.
    return {
        "engagementJuridique": {"montantEngage": "NotYetImplemented", "montantPaye": "NotYetImplemented"}
        if value
        else None,
        "_text": value,
    }


def _pieces(definition, value, updated_at, owner, ctx) -> dict:
    files = [stored_file_view(f, owner, definition.stable_id, i, updated_at, ctx) for i, f in enumerate(value or ())]
    return {"files": files, "file": files[0] if files else None}


def _titre_identite(definition, value, updated_at, owner, ctx) -> dict:
    return {"grantType": "piece_justificative", "filled": bool(value), "columns": []}


def _carte(definition, value, updated_at, owner, ctx) -> dict:
    return {"geoAreas": [geo_area_view(area) for area in value or ()], "columns": []}


def _dossier_link(definition, value, updated_at, owner, ctx) -> dict:
    number = _number(value, int)

    def linked(info, **_):
        return ctx.linked_dossier(number) if number and ctx.linked_dossier else None

    return {"dossier": linked, "_text": None if value is None else str(value)}


def _repetition(definition, value, updated_at, owner, ctx) -> dict:
    rows = [
        {
            "id": row_gid(row_id),
            "champs": [
                render_champ(child, row.get(child.key), updated_at, owner, ctx, row_id) for child in definition.champs
            ],
        }
        for row_id, row in (value or ())
    ]
    return {"rows": rows, "champs": [c for row in rows for c in row["champs"]], "columns": []}


def row_gid(row_id: str) -> str:
    return gid("Row", row_id) if row_id.isdigit() else base64.b64encode(f"Row-{row_id}".encode()).decode()


RENDERERS = {
    "header_section": _header,
    "explication": _explication,
    "date": _date,
    "datetime": _datetime,
    "yes_no": _boolean,
    "checkbox": _boolean,
    "civilite": _civilite,
    "integer_number": _integer,
    "number": _integer,
    "decimal_number": _decimal,
    "drop_down_list": _drop_down,
    "multiple_drop_down_list": _multiple,
    "linked_drop_down_list": _linked,
    "pays": _pays,
    "departements": _departements,
    "regions": _regions,
    "communes": _communes,
    "address": _address,
    "epci": _epci,
    "siret": _siret,
    "rna": _rna,
    "rnf": _rnf,
    "engagement_juridique": _engagement,
    "piece_justificative": _pieces,
    "titre_identite": _titre_identite,
    "carte": _carte,
    "dossier_link": _dossier_link,
    "repetition": _repetition,
}


# --- shared objects -----------------------------------------------------------------------------------


def departement_view(code):
    return {"code": code, "name": departement_name(code) or code} if code else None


def commune_view(commune):
    if commune is None:
        return None
    return {"name": commune.name, "code": commune.insee, "postalCode": commune.postal_code}


def address_view(place: Place, with_department_code: bool = True) -> dict:
    commune = place.commune
    region = region_of(commune.departement) if with_department_code else None
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
        "regionName": REGIONS.get(region) if region else None,
        "regionCode": region,
        "countryName": "France",
        "countryCode": "FR",
        "geometry": None,
    }


def etablissement_view(etablissement: Etablissement) -> dict:
    siren = etablissement.siret[:9]
    place = etablissement.place
    address = address_view(place, etablissement.with_department_code)
    return {
        "__typename": "PersonneMorale",
        "id": gid("Etablissement", int(etablissement.siret) if etablissement.siret.isdigit() else 0),
        "siret": etablissement.siret,
        "siegeSocial": True,
        "naf": etablissement.naf,
        "libelleNaf": etablissement.libelle_naf,
        "address": address,
        "association": None,
        # The flat address fields DS still serves, deprecated.
        "adresse": place.label,
        "numeroVoie": place.street_number,
        "typeVoie": None,
        "nomVoie": place.street_name,
        "complementAdresse": None,
        "codePostal": place.commune.postal_code,
        "localite": place.commune.name,
        "codeInseeLocalite": place.commune.insee,
        "entreprise": {
            "siren": siren,
            "raisonSociale": etablissement.raison_sociale,
            "nomCommercial": etablissement.raison_sociale,
            "formeJuridique": etablissement.forme_juridique,
            "formeJuridiqueCode": None,
            "siretSiegeSocial": etablissement.siret,
            "capitalSocial": -1,  # DS's value when the capital is unknown
            "numeroTvaIntracommunautaire": _vat_number(siren),
            "codeEffectifEntreprise": None,
            "effectifMensuel": None,
            "effectifAnnuel": None,
            "dateCreation": None,
            "etatAdministratif": "Actif",
            "nom": None,
            "prenom": None,
            "enseigne": None,
            "inlineAdresse": place.label,
            "attestationSocialeAttachment": None,
            "attestationFiscaleAttachment": None,
        },
    }


def _vat_number(siren: str) -> str | None:
    if not siren.isdigit():
        return None
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def file_checksum(owner: int, stable_id: int, index: int, stored: StoredFile) -> str:
    seed = f"{owner}:{stable_id}:{index}:{stored.filename}:{stored.byte_size}".encode()
    return base64.b64encode(hashlib.md5(seed).digest()).decode()


def stored_file_view(
    stored: StoredFile, owner: int, stable_id: int, index: int, created_at, ctx: RenderContext
) -> dict:
    return file_view(
        stored,
        key=f"{owner}/{stable_id}/{index}",
        checksum=file_checksum(owner, stable_id, index, stored),
        created_at=created_at,
        base_url=ctx.base_url,
        now=ctx.now,
    )


def geo_area_view(area: GeoAreaRecord) -> dict:
    view: dict[str, Any] = {
        "__typename": "ParcelleCadastrale" if area.source == "cadastre" else "SelectionUtilisateur",
        "id": gid("GeoArea", area.number),
        "source": area.source,
        "description": area.description,
        "geometry": {"type": area.geometry_type, "coordinates": area.coordinates},
    }
    if area.parcel:
        commune, prefixe, section, numero, surface = area.parcel
        view.update(
            commune=commune,
            prefixe=prefixe,
            section=section,
            numero=numero,
            surface=surface,
            codeDep=commune[:2],
            codeCom=commune[2:],
            nomCom="",
            codeArr=prefixe,
            feuille=1,
            surfaceParcelle=float(surface),
            surfaceIntersection=float(surface),
        )
    return view
