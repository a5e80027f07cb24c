"""DS dossier JSON (the shape of `DossierFragment`) → MappedDossier.

Champs are found by `champDescriptorId` (stable across revisions, NOTES
§10) through the démarche's stored binding (`mappings.binding`), never by
label: a label renamed in DS changes nothing. Bad data never raises: each
problem becomes a MappingIssue naming the champ, and the field stays None.
Every value enters the record through `_Context.put`, which makes it fit
its column (mappings.values) and judges numbers against the plausible
bounds of rules.yaml; a required champ that gave no value is an issue too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from mappings import normalize, values
from mappings.binding import Binding
from mappings.procedure import LAYOUT_TYPES, ChampDefinition, Procedure
from mappings.records import (
    ContractType,
    Document,
    DocumentFile,
    HoursUnit,
    MappedDossier,
    MappingIssue,
)
from mappings.rules import Rules, default_rules

# The stored value of an option is the one procedure.yaml gives it; these columns hold it as the code's enum.
OPTION_CONVERSIONS: dict[str, Callable] = {"contrat_type": ContractType, "heures_unite": HoursUnit}

# What DS sends for each procedure type when the query names the fragment
# (fragments.graphql does); anything else is a degraded typing (docs/ds-champs.md#specific-type-or-fallback).
EXPECTED_TYPENAMES = {
    "address": {"AddressChamp"},
    "checkbox": {"CheckboxChamp"},
    "civilite": {"CiviliteChamp"},
    "communes": {"CommuneChamp"},
    "date": {"DateChamp"},
    "datetime": {"DatetimeChamp"},
    "decimal_number": {"DecimalNumberChamp"},
    "departements": {"DepartementChamp"},
    "drop_down_list": {"DropDownListChamp"},
    "email": {"TextChamp"},
    "integer_number": {"IntegerNumberChamp"},
    "pays": {"PaysChamp"},
    "phone": {"TextChamp"},
    "piece_justificative": {"PieceJustificativeChamp"},
    "repetition": {"RepetitionChamp"},
    "siret": {"SiretChamp"},
    "text": {"TextChamp"},
    "textarea": {"TextChamp"},
    "yes_no": {"YesNoChamp"},
}
_POSTAL_CODE_IN_TEXT = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_INSEE_CODE = re.compile(r"\d{5}|2[AB]\d{3}")
_NAF_CODE = re.compile(r"\d{2}\.?\d{2}[A-Z]")  # INSEE's NAF rév. 2: 4711D (DS), 47.11D


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _str(value) -> str | None:
    return value if isinstance(value, str) else None


@cache
def _target(path: str) -> tuple[str, str, values.Limit]:
    part, attribute = path.split(".")
    return part, attribute, values.limit_of(path)


@dataclass
class _Context:
    mapped: MappedDossier
    binding: Binding
    bounds: dict = field(default_factory=dict)  # rules.yaml plausible_numbers, by procedure key
    hours_text: str | None = None
    hours_definition: ChampDefinition | None = None
    filled: set[str] = field(default_factory=set)  # keys of the champs that gave the record a value
    texts: dict[str, str | None] = field(default_factory=dict)  # each champ's stringValue, for the messages

    def issue(self, field_name: str, code: str, message: str) -> None:
        # fit gives a text back as text, cut to the column.
        self.mapped.issues.append(
            MappingIssue(
                field=str(values.fit(field_name, values.ISSUE_FIELD_LIMIT)[0] or "?"),
                code=code,
                message=values.printable(message),
            )
        )

    def judge(self, definition: ChampDefinition, value):
        """The number, or None with an issue when rules.yaml deems it implausible for this champ."""
        reason = values.outside(value, self.bounds.get(definition.key))
        if reason:
            self.issue(definition.key, "implausible_number", f"« {definition.label} » : {reason}")
            return None
        return value

    def fitted(self, definition: ChampDefinition, value, limit: values.Limit, code: bool = False):
        value, problem = values.fit(value, limit, code)
        if problem:
            self.issue(definition.key, problem.code, f"« {definition.label} » : {problem.reason}")
        return value

    def put(self, definition: ChampDefinition, path: str, value, *, code: bool = False, judged: bool = True):
        """Set `part.attribute` of the record to a value its column can store (`code`: too long is dropped,
        not cut); `judged`: a number is held to the champ's plausible bounds. Returns what was set."""
        part, attribute, limit = _target(path)
        if judged and isinstance(value, Decimal):
            value = self.judge(definition, value)
        value = self.fitted(definition, value, limit, code)
        setattr(getattr(self.mapped, part), attribute, value)
        if value is not None:
            self.filled.add(definition.key)
        return value


# --- readers: the value of a champ, from its typed alias or its stringValue ---


def read_text(champ: dict) -> str | None:
    return normalize.blank_to_none(_str(champ.get("text")) or _str(champ.get("stringValue")))


def read_choice(champ: dict) -> str | None:
    return normalize.blank_to_none(
        _str(champ.get("choice")) or _str(champ.get("text")) or _str(champ.get("stringValue"))
    )


def read_date(champ: dict):
    return normalize.parse_date(_str(champ.get("date")) or _str(champ.get("stringValue")))


def read_decimal(champ: dict) -> Decimal | None:
    for alias in ("decimalNumber", "integerNumber"):
        value = champ.get(alias)
        if value is not None and not isinstance(value, (dict, list)):
            return normalize.parse_decimal(value)
    return normalize.parse_decimal(_str(champ.get("stringValue")))


def read_bool(champ: dict) -> bool | None:
    for alias in ("yesNo", "checked"):
        if isinstance(champ.get(alias), bool):
            return champ[alias]
    return normalize.parse_bool(_str(champ.get("stringValue")))


def read_civilite(champ: dict) -> str | None:
    value = normalize.blank_to_none(_str(champ.get("civilite")) or _str(champ.get("stringValue")))
    return value.rstrip(".") if value else None


def read_address(champ: dict) -> dict:
    """Postal code, city, INSEE code and département, whatever the typing of the champ."""
    address, commune = _dict(champ.get("address")), _dict(champ.get("commune"))
    label = normalize.clean_text(_str(address.get("label")) or _str(champ.get("stringValue")))
    postal_code = normalize.normalize_postal_code(_str(address.get("postalCode")) or _str(commune.get("postalCode")))
    if postal_code is None and label:
        found = _POSTAL_CODE_IN_TEXT.search(label)
        postal_code = found.group(1) if found else None
    departement = _str(address.get("departmentCode")) or _str(_dict(champ.get("departement")).get("code"))
    insee_code = normalize.blank_to_none(_str(address.get("cityCode")) or _str(commune.get("code")))
    given_postal_code = normalize.blank_to_none(_str(address.get("postalCode")) or _str(commune.get("postalCode")))
    unreadable = _unreadable_codes(
        ("code postal", given_postal_code, normalize.normalize_postal_code(given_postal_code)),
        ("code INSEE de la commune", insee_code, insee_code if _INSEE_CODE.fullmatch(insee_code or "") else None),
        ("code de département", departement, normalize.normalize_departement_code(departement)),
    )
    return {
        "label": label,
        "postal_code": postal_code,
        "city": normalize.clean_text(_str(address.get("cityName")) or _str(commune.get("name"))),
        "insee_code": insee_code if _INSEE_CODE.fullmatch(insee_code or "") else None,
        "departement": normalize.normalize_departement_code(departement),
        "unreadable": unreadable,
    }


def _unreadable_codes(*codes: tuple[str, str | None, str | None]) -> list[str]:
    """What a code was given as but cannot be read as, for the issue: ["code postal « 7501 »", …]."""
    return [
        f"{what} illisible « {values.quoted(given)} »"
        for what, given, read in codes
        if normalize.blank_to_none(given) is not None and read is None
    ]


def _report_codes(context: _Context, definition: ChampDefinition, unreadable: list[str]) -> None:
    for reason in unreadable:
        context.issue(definition.key, "invalid_code", f"« {definition.label} » : {reason}")


# --- handlers: where each champ's value goes in the record ---

Handler = Callable[[_Context, dict, ChampDefinition], None]


@dataclass(frozen=True)
class _Assign:
    """A champ whose value, read and converted, goes to one field of the record (`path`)."""

    path: str
    reader: Callable
    convert: Callable = lambda value: value
    error_code: str = "invalid_value"
    code: bool = False
    judged: bool = True

    def __call__(self, context: _Context, champ: dict, definition: ChampDefinition) -> None:
        try:
            value = self.convert(self.reader(champ))
        except (ValueError, ArithmeticError) as error:
            context.issue(definition.key, self.error_code, f"« {definition.label} » : {error}")
            return
        context.put(definition, self.path, value, code=self.code, judged=self.judged)


def _assign(
    path: str,
    reader,
    convert=lambda value: value,
    error_code: str = "invalid_value",
    code: bool = False,
    judged: bool = True,
) -> _Assign:
    return _Assign(path, reader, convert, error_code, code, judged)


@dataclass(frozen=True)
class _Option:
    """A drop-down: the chosen option's value (procedure.yaml) goes to one field of the record (`path`);
    an unknown option is an issue."""

    path: str

    def stored(self, definition: ChampDefinition, label: str):
        """The record value of an option label; KeyError for a label the definition does not have."""
        value = definition.option_values[label]
        convert = OPTION_CONVERSIONS.get(definition.key)
        return convert(value) if convert else value

    def __call__(self, context: _Context, champ: dict, definition: ChampDefinition) -> None:
        label = read_choice(champ)
        if label is None:
            return
        try:
            value = self.stored(definition, label)
        except KeyError:
            context.issue(
                definition.key,
                "unknown_option",
                f"« {definition.label} » : option inconnue « {values.quoted(label)} ».",
            )
            return
        context.put(definition, self.path, value)


def _option(path: str) -> _Option:
    return _Option(path)


def _identifier(path: str, convert=normalize.clean_text) -> Handler:
    """A number or an address read by machines: an invisible character in it (a zero-width space, a byte order
    mark, a bidi override) is removed and named, so that the value is right and an agent looks at it."""

    def handler(context: _Context, champ: dict, definition: ChampDefinition) -> None:
        text = read_text(champ)
        hidden = normalize.invisible_characters(text)
        if hidden:
            context.issue(
                definition.key,
                "invalid_characters",
                f"« {definition.label} » : caractères invisibles retirés ({', '.join(hidden)})",
            )
        context.put(definition, path, convert(normalize.without_invisible(text)))

    return handler


def _nationality(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    pays = _dict(champ.get("pays"))
    name = normalize.clean_text(_str(pays.get("name")) or _str(champ.get("stringValue")))
    code = normalize.blank_to_none(_str(pays.get("code")))
    if code is None and name and re.fullmatch(r"[A-Za-z]{2}", name):
        code = name
    if code is not None and not re.fullmatch(r"[A-Za-z]{2}", code):
        # The rules read the ISO code (EU nationals, Algerian students): a wrong one is no nationality.
        context.issue(
            definition.key, "invalid_value", f"« {definition.label} » : code pays illisible « {values.quoted(code)} »"
        )
        code = None
    context.put(definition, "student.nationality_name", name)
    context.put(definition, "student.nationality_code", code.upper() if code else None, code=True)


def _student_address(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    parts = read_address(champ)
    _report_codes(context, definition, parts["unreadable"])
    context.put(definition, "student.address_label", parts["label"])
    context.put(definition, "student.postal_code", parts["postal_code"], code=True)
    context.put(definition, "student.city", parts["city"])
    context.put(definition, "student.city_insee_code", parts["insee_code"], code=True)
    context.put(definition, "student.address_departement", parts["departement"], code=True)


def _workplace(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    parts = read_address(champ)
    _report_codes(context, definition, parts["unreadable"])
    context.put(definition, "contract.workplace_postal_code", parts["postal_code"], code=True)
    context.put(definition, "contract.workplace_departement", parts["departement"], code=True)


def _permit_departement(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    code = _str(_dict(champ.get("departement")).get("code")) or _str(champ.get("stringValue"))
    read = normalize.normalize_departement_code(code)
    if _dict(champ.get("departement")).get("code") is not None:  # DS's own code: unreadable is malformed
        _report_codes(context, definition, _unreadable_codes(("code de département", code, read)))
    context.put(definition, "student.permit_departement", read, code=True)


def _employer_siret(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    etablissement = _dict(champ.get("etablissement"))
    address, entreprise = _dict(etablissement.get("address")), _dict(etablissement.get("entreprise"))
    siret = normalize.digits_only(_str(etablissement.get("siret")) or _str(champ.get("stringValue")))
    if siret is not None and len(siret) > 14:
        context.issue(
            definition.key, "invalid_siret", f"« {definition.label} » : le SIRET saisi a plus de 14 chiffres."
        )
        siret = None
    context.put(definition, "employer.siret", siret, code=True)
    context.put(definition, "employer.company_name", normalize.clean_text(_str(entreprise.get("raisonSociale"))))
    naf = normalize.blank_to_none(_str(etablissement.get("naf")))
    postal_code = normalize.blank_to_none(_str(address.get("postalCode")))
    insee_code = normalize.blank_to_none(_str(address.get("cityCode")))
    departement = normalize.blank_to_none(_str(address.get("departmentCode")))
    readings = {
        "naf": naf if _NAF_CODE.fullmatch(naf or "") else None,
        "postal_code": normalize.normalize_postal_code(postal_code),
        "city_insee_code": insee_code if _INSEE_CODE.fullmatch(insee_code or "") else None,
        "departement": normalize.normalize_departement_code(departement),
    }
    _report_codes(
        context,
        definition,
        _unreadable_codes(
            ("code NAF", naf, readings["naf"]),
            ("code postal", postal_code, readings["postal_code"]),
            ("code INSEE de la commune", insee_code, readings["city_insee_code"]),
            ("code de département", departement, readings["departement"]),
        ),
    )
    context.put(definition, "employer.naf", readings["naf"], code=True)
    context.put(definition, "employer.postal_code", readings["postal_code"], code=True)
    context.put(definition, "employer.city", normalize.clean_text(_str(address.get("cityName"))))
    context.put(definition, "employer.city_insee_code", readings["city_insee_code"], code=True)
    context.put(definition, "employer.departement", readings["departement"], code=True)


def _hours_value(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    # Free text such as "35 heures/semaine" (the old form) also tells the unit.
    context.hours_text = read_text(champ)
    context.hours_definition = definition
    # Judged per week once the unit is known (_finish_hours).
    _assign("contract.hours_value", read_decimal, error_code="invalid_number", judged=False)(context, champ, definition)


def _other_jobs(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    hours_child = next((child for child in definition.champs if child.key == "autre_heures_semaine"), None)
    if hours_child is None or context.binding.id_of(hours_child.key) is None:
        return
    total = Decimal(0)
    children = {context.binding.id_of(child.key): child for child in definition.champs}
    for number, row in enumerate(_list(champ.get("rows")), start=1):
        given = {}
        for child in _list(_dict(row).get("champs")):
            child = _dict(child)
            known = children.get(child.get("champDescriptorId"))
            if known is not None and _answered(child):
                given[known.key] = child
        if not given:
            # DS lets no row of required champs be submitted blank: an empty row is a broken answer.
            context.issue(definition.key, "empty_row", f"« {definition.label} » : ligne {number} vide.")
            continue
        for child in definition.champs:
            if child.required and child.key not in given:
                context.issue(
                    definition.key, "empty_champ", f"« {definition.label} », ligne {number} : « {child.label} » vide."
                )
        if hours_child.key not in given:
            continue
        try:
            total += context.judge(hours_child, read_decimal(given[hours_child.key])) or Decimal(0)
        except (ValueError, ArithmeticError) as error:
            context.issue(hours_child.key, "invalid_number", f"« {hours_child.label} » : {error}")
    context.put(definition, "contract.other_jobs_hours_per_week", total, judged=False)


def _answered(champ: dict) -> bool:
    """The champ holds something, in its typed alias or its text."""
    return (
        any(champ.get(alias) is not None for alias in ("decimalNumber", "integerNumber"))
        or read_text(champ) is not None
    )


def _document(context: _Context, champ: dict, definition: ChampDefinition) -> None:
    files, columns = [], values.FILE_LIMITS
    for raw_file in _list(champ.get("files")):
        raw_file = _dict(raw_file)
        try:
            byte_size = int(raw_file["byteSizeBigInt"]) if raw_file.get("byteSizeBigInt") is not None else None
        except (TypeError, ValueError):
            byte_size = None
            context.issue(definition.key, "invalid_number", f"« {definition.label} » : taille de fichier illisible.")
        files.append(
            DocumentFile(
                filename=context.fitted(definition, _str(raw_file.get("filename")) or "", columns["filename"]) or "",
                content_type=context.fitted(
                    definition,
                    normalize.blank_to_none(_str(raw_file.get("contentType"))),
                    columns["content_type"],
                    code=True,
                ),
                byte_size=context.fitted(definition, byte_size, columns["byte_size"]),
                checksum=context.fitted(definition, _str(raw_file.get("checksum")), columns["checksum"], code=True),
            )
        )
    context.mapped.documents[definition.key] = Document(key=definition.key, files=files)


HANDLERS: dict[str, Handler] = {
    "civilite": _assign("student.civilite", read_civilite, code=True),
    "nom": _assign("student.last_name", read_text, normalize.clean_last_name),
    "prenom": _assign("student.first_name", read_text, normalize.clean_first_name),
    "date_naissance": _assign("student.birth_date", read_date, error_code="invalid_date"),
    "lieu_naissance": _assign("student.birth_place", read_text, normalize.clean_text),
    "nationalite": _nationality,
    "email_etudiant": _identifier("student.email", normalize.clean_email),
    "telephone_etudiant": _identifier("student.phone"),
    "adresse_etudiant": _student_address,
    "demande_type": _option("student.request_kind"),
    "apt_precedente_reference": _identifier("student.previous_apt_reference"),
    "titre_type": _option("student.permit_kind"),
    "titre_numero": _identifier("student.permit_number"),
    "titre_date_debut": _assign("student.permit_start", read_date, error_code="invalid_date"),
    "titre_date_expiration": _assign("student.permit_expiry", read_date, error_code="invalid_date"),
    "titre_departement": _permit_departement,
    "titre_prefecture": _assign("student.permit_prefecture", read_text, normalize.clean_text),
    "residence_un_an": _assign("student.resident_one_year", read_bool),
    "formation_master_cge": _assign("student.master_or_cge", read_bool),
    "cursus_etablissement": _assign("student.school", read_text, normalize.clean_text),
    "cursus_diplome": _assign("student.diploma", read_text, normalize.clean_text),
    "cursus_annee": _option("student.study_year"),
    "depose_par": _option("employer.filed_by_student"),
    "employeur_siret": _employer_siret,
    "employeur_nom": _assign("employer.representative_last_name", read_text, normalize.clean_last_name),
    "employeur_prenom": _assign("employer.representative_first_name", read_text, normalize.clean_first_name),
    "employeur_email": _identifier("employer.email", normalize.clean_email),
    "employeur_telephone": _identifier("employer.phone"),
    "emploi_intitule": _assign("contract.job_title", read_text, normalize.clean_text),
    "lieu_travail": _workplace,
    "contrat_type": _option("contract.contract_type"),
    "contrat_date_debut": _assign("contract.start", read_date, error_code="invalid_date"),
    "contrat_date_fin": _assign("contract.end", read_date, error_code="invalid_date"),
    "heures_unite": _option("contract.hours_unit"),
    "heures_nombre": _hours_value,
    "salaire_brut_mensuel": _assign("contract.monthly_gross_salary", read_decimal, error_code="invalid_number"),
    "profession_reglementee": _assign("contract.regulated_profession", read_bool),
    "mannequin_spectacle": _assign("contract.model_or_live_show", read_bool),
    "emploi_lien_formation": _assign("contract.course_related", read_bool),
    "apprentissage_valide_opco": _assign("contract.opco_validated", read_bool),
    "autres_emplois": _other_jobs,
    "apt_date_debut": _assign("agent.apt_start", read_date, error_code="invalid_date"),
    "apt_date_fin": _assign("agent.apt_end", read_date, error_code="invalid_date"),
}


def condition_field(definition: ChampDefinition) -> tuple[str, Callable] | None:
    """Where a `when`/`unless` on this champ reads the record: (the field's path, option label or answer →
    record value); None when the mapping does not store the champ's choice in one field of the record."""
    handler = HANDLERS.get(definition.key)
    if isinstance(handler, _Option) and definition.type == "drop_down_list":
        return handler.path, lambda label: handler.stored(definition, label)
    if isinstance(handler, _Assign) and definition.type in ("yes_no", "checkbox"):

        def answer(value):
            if not isinstance(value, bool):
                raise KeyError(value)
            return value

        return handler.path, answer
    return None


# --- matching champs to the procedure ---

# A champ DS sends that the procedure does not know is a form change (a champ an administrateur added in DS):
# nothing an agent can act on in the dossier, so it is the operators' alert (`wif status`, `wif procedure check`),
# never what makes a dossier « À vérifier ».
UNKNOWN_CHAMP = "unknown_champ"
OPERATOR_ISSUES = frozenset({UNKNOWN_CHAMP})


def _match(champ: dict, lookup: dict, context: _Context, report_unknown: bool) -> ChampDefinition | None:
    definition = lookup.get(_str(champ.get("champDescriptorId")) or "")
    if definition is None and report_unknown:
        label = _str(champ.get("label"))
        context.issue(
            label or _str(champ.get("champDescriptorId")) or "?",
            UNKNOWN_CHAMP,
            f"Champ inconnu de la procédure : « {values.quoted(label or champ.get('champDescriptorId'))} ».",
        )
    return definition


def _map_champ(champ: dict, definition: ChampDefinition, context: _Context) -> None:
    if definition.type in LAYOUT_TYPES:
        return
    typename = _str(champ.get("__typename"))
    if typename not in EXPECTED_TYPENAMES.get(definition.type, {typename}):
        expected = " ou ".join(sorted(EXPECTED_TYPENAMES[definition.type]))
        context.issue(
            definition.key,
            "unexpected_type",
            f"« {definition.label} » reçu comme {typename} au lieu de {expected} : valeur lue en texte.",
        )
    context.texts[definition.key] = normalize.blank_to_none(_str(champ.get("stringValue")))
    handler = HANDLERS.get(definition.key)
    if handler is not None:
        handler(context, champ, definition)
    elif definition.type == "piece_justificative":
        _document(context, champ, definition)


def _map_section(raw_champs, definitions, context: _Context, report_unknown: bool) -> set[str]:
    lookup = context.binding.lookup(definitions)
    seen: set[str] = set()
    twice: set[str] = set()
    for champ in _list(raw_champs):
        champ = _dict(champ)
        definition = _match(champ, lookup, context, report_unknown)
        if definition is None:
            continue
        if definition.key in seen:
            if report_unknown and definition.key not in twice:  # the applicant's champs: DS sends each once
                twice.add(definition.key)
                context.issue(
                    definition.key,
                    "duplicate_champ",
                    f"« {definition.label} » : champ reçu plusieurs fois, seule la première valeur est lue.",
                )
            continue
        seen.add(definition.key)
        _map_champ(champ, definition, context)
    return seen


# Checked elsewhere: a missing pièce is a finding of the rules (« Incomplet »), rows are read one by one.
_NOT_VALUES = LAYOUT_TYPES | {"piece_justificative", "repetition"}


def _report_missing(procedure: Procedure, seen: set[str], context: _Context) -> None:
    reported = {issue.field for issue in context.mapped.issues}
    for definition in procedure.champs:
        if not definition.required or definition.type in LAYOUT_TYPES or definition.absent_from_older_dossiers:
            continue
        if definition.key not in seen:
            context.issue(
                definition.key, "missing_champ", f"Champ obligatoire absent du dossier : « {definition.label} »."
            )
        elif definition.type not in _NOT_VALUES and definition.key not in context.filled | reported:
            # DS does not let a required champ be submitted blank: a blank one is a broken dossier.
            text = context.texts.get(definition.key)
            if text:
                context.issue(
                    definition.key,
                    "invalid_value",
                    f"« {definition.label} » : valeur illisible « {values.quoted(text)} »",
                )
            else:
                context.issue(definition.key, "empty_champ", f"« {definition.label} » : champ obligatoire vide.")


def _finish_hours(context: _Context) -> None:
    contract, definition = context.mapped.contract, context.hours_definition
    if contract.hours_unit is None:
        contract.hours_unit = normalize.hours_unit_from_text(context.hours_text)
    if definition is None or contract.hours_value is None:
        return
    # An unknown unit is already reported (missing or unknown option); weekly is the form's default.
    try:
        weekly = normalize.hours_per_week(contract.hours_value, contract.hours_unit or HoursUnit.PER_WEEK)
    except ArithmeticError:  # decimal.InvalidOperation on absurd magnitudes
        context.issue(
            definition.key,
            "invalid_number",
            f"« {definition.label} » : valeur illisible « {values.quoted(contract.hours_value)} »",
        )
        weekly = None
    else:
        weekly = context.put(definition, "contract.hours_per_week", weekly)
    if weekly is None:  # no rule may read hours that are not plausible per week
        contract.hours_value = None


def _deposit(raw: dict, context: _Context) -> None:
    try:
        submitted_at = normalize.parse_datetime(_str(raw.get("dateDepot")))
    except ValueError as error:
        context.issue("dateDepot", "invalid_date", f"Date de dépôt : {error}")
        return
    context.mapped.submitted_at = submitted_at
    context.mapped.mapped_on = submitted_at.date() if submitted_at else None


def _number(raw: dict, context: _Context) -> int:
    try:
        return int(raw["number"])
    except (KeyError, TypeError, ValueError, OverflowError):
        context.issue("number", "invalid_number", "Numéro de dossier absent ou illisible.")
        return 0


def map_dossier(raw: dict, procedure: Procedure, binding: Binding, *, rules: Rules | None = None) -> MappedDossier:
    """`binding`: the démarche's stored binding (key → DS descriptor id); `rules`: where the
    plausible bounds of numbers come from (rules.yaml by default)."""
    raw = _dict(raw)
    context = _Context(MappedDossier(number=0), binding, bounds=(rules or default_rules()).section("plausible_numbers"))
    context.mapped.number = _number(raw, context)
    _deposit(raw, context)
    seen = _map_section(raw.get("champs"), procedure.champs, context, report_unknown=True)
    # Agents may add their own annotations: only ours matter, the others are not an anomaly.
    _map_section(raw.get("annotations"), procedure.annotations, context, report_unknown=False)
    _report_missing(procedure, seen, context)
    _finish_hours(context)
    return context.mapped


def champs_by_key(raw: dict, procedure: Procedure, binding: Binding) -> dict[str, dict]:
    """The raw champs and annotations of a dossier, keyed by procedure key (through the binding)."""
    result: dict[str, dict] = {}
    for section, definitions in (("champs", procedure.champs), ("annotations", procedure.annotations)):
        lookup = binding.lookup(definitions)
        for champ in _list(_dict(raw).get(section)):
            champ = _dict(champ)
            definition = lookup.get(_str(champ.get("champDescriptorId")) or "")
            if definition is not None:
                result.setdefault(definition.key, champ)
    return result
