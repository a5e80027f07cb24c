"""The executable sandbox schema: the SDL of `schema.graphql` plus scalars,
abstract type resolution and root resolvers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLFieldMap,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    Visitor,
    build_schema,
    visit,
)

from sandbox import mutations
from sandbox.ids import demarche_number
from sandbox.views import (
    DemarcheView,
    DossierView,
    GroupeWithDossiersView,
    can_read,
    demarche_descriptor,
    hidden,
    not_found,
)

SCHEMA_FILE = Path(__file__).parent / "schema.graphql"
PARIS = ZoneInfo("Europe/Paris")


def serialize_datetime(value) -> str:
    # DS answers in Paris time with an offset; microseconds keep bumps distinct.
    return value.astimezone(PARIS).isoformat(timespec="microseconds")


def parse_datetime(value) -> datetime:
    if not isinstance(value, str):
        raise ValueError("ISO8601DateTime must be a string")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def serialize_date(value) -> str:
    # A stored impossible date string ("2001-02-30") is sent as is: the mapping must cope.
    return value.isoformat() if isinstance(value, date) else str(value)


def parse_date(value) -> str:
    if not isinstance(value, str):
        raise ValueError("ISO8601Date must be a string")
    return date.fromisoformat(value).isoformat()


def fragment_types(document: DocumentNode) -> frozenset[str]:
    """Type names named by a fragment (inline or named) in the document
    (docs/ds-champs.md#specific-type-or-fallback)."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_inline_fragment(self, node: InlineFragmentNode, *_):
            if node.type_condition:
                names.add(node.type_condition.name.value)

        def enter_fragment_definition(self, node: FragmentDefinitionNode, *_):
            names.add(node.type_condition.name.value)

    visit(document, Collect())
    return frozenset(names)


def resolve_champ_type(champ, info, abstract_type):
    specific, fallback = champ["__types"]
    known = info.context["fragment_types"]
    return specific if known is None or specific in known else fallback


def resolve_by_typename(value, info, abstract_type):
    return value["__typename"]


# Fields whose meaning depends on the type a champ is served as (its own, or DS's fallback): each
# reads its own key of the champ object (sandbox.champs).
CHAMP_FIELDS = {
    ("TextChamp", "value"): "_text",
    ("DropDownListChamp", "value"): "_text",
    ("CheckboxChamp", "value"): "_checked",
    ("YesNoChamp", "value"): "_yes_no",
    ("CiviliteChamp", "value"): "_civilite",
    ("DateChamp", "value"): "_date_time",
    ("IntegerNumberChamp", "value"): "_integer",
    ("DecimalNumberChamp", "value"): "_decimal",
}


def _reader(key: str):
    def read(champ, info):
        return champ.get(key)

    return read


def resolve_demarche(root, info, number):
    context = info.context
    demarche = context["store"].demarches.get(number)
    if demarche is None:
        raise not_found("Demarche")
    if not context["token"].can_read(number):
        raise hidden("Demarche")
    return DemarcheView(demarche, context["store"], context)


def resolve_dossier(root, info, number):
    context = info.context
    dossier = context["store"].dossiers.get(number)
    # Trashed dossiers are not "visible by administration": not found, like DS.
    if dossier is None or dossier.hidden_at is not None:
        raise not_found("Dossier")
    if not context["token"].can_read(dossier.demarche):
        raise hidden("Dossier")
    return DossierView(dossier, context["store"], context)


def resolve_groupe_instructeur(root, info, number):
    context = info.context
    found = context["store"].find_groupe(number)
    if found is None:
        raise not_found("GroupeInstructeurWithDossiers")
    demarche, groupe = found
    if not context["token"].can_read(demarche.number):
        raise hidden("GroupeInstructeurWithDossiers")
    return GroupeWithDossiersView(demarche, groupe, context["store"], context)


def resolve_demarche_descriptor(root, info, demarche):
    context = info.context
    found = context["store"].demarches.get(demarche_number(demarche) or -1)
    if found is None:
        raise not_found("DemarcheDescriptor")
    if not can_read(context, found, opendata=True):
        raise hidden("DemarcheDescriptor")
    return demarche_descriptor(found, found.active_revision, context)


def _set_scalar(scalar, output, parse=None) -> None:
    # graphql-core 3.2 reads serialize/parse_value; 3.3 reads the coerce_* names.
    scalar.serialize = scalar.coerce_output_value = output
    if parse:
        scalar.parse_value = scalar.coerce_input_value = parse


@cache
def sandbox_schema() -> GraphQLSchema:
    schema = build_schema(SCHEMA_FILE.read_text())
    types = schema.type_map
    _set_scalar(types["BigInt"], str)
    _set_scalar(types["ISO8601DateTime"], serialize_datetime, parse_datetime)
    _set_scalar(types["ISO8601Date"], serialize_date, parse_date)
    _abstract(schema, "Champ").resolve_type = resolve_champ_type
    for name in ("ChampDescriptor", "Demandeur", "Column", "GeoArea"):
        _abstract(schema, name).resolve_type = resolve_by_typename
    for (type_name, field_name), key in CHAMP_FIELDS.items():
        _fields(schema, type_name)[field_name].resolve = _reader(key)
    root = _fields(schema, "Query")
    root["demarche"].resolve = resolve_demarche
    root["dossier"].resolve = resolve_dossier
    root["groupeInstructeur"].resolve = resolve_groupe_instructeur
    root["demarcheDescriptor"].resolve = resolve_demarche_descriptor
    for name, resolver in mutations.RESOLVERS.items():
        _fields(schema, "Mutation")[name].resolve = resolver
    return schema


def _abstract(schema: GraphQLSchema, name: str) -> GraphQLInterfaceType | GraphQLUnionType:
    found = schema.type_map[name]
    if not isinstance(found, (GraphQLInterfaceType, GraphQLUnionType)):
        raise TypeError(f"{name} is neither an interface nor a union in the sandbox's schema")
    return found


def _fields(schema: GraphQLSchema, name: str) -> GraphQLFieldMap:
    found = schema.type_map[name]
    if not isinstance(found, (GraphQLObjectType, GraphQLInterfaceType)):
        raise TypeError(f"{name} has no fields in the sandbox's schema")
    return found.fields
