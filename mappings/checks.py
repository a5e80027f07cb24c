"""Completeness and consistency checks on a MappedDossier.

One small function per rule, listed in RULES in the order agents read the
findings; figures and lists come from rules.yaml. Time-relative rules use
the deposit day (`mapped_on`) as "today", so a result never drifts with the
calendar. Missing data is not a finding here: the mapping reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from mappings import apt_period
from mappings.normalize import YearHours, age_on, busiest_titre_year, is_valid_siret
from mappings.professions import profession_of
from mappings.records import ContractType, DocumentFile, MappedDossier
from mappings.routing import LOW, Routing

# The rules file is loaded by mappings.rules; its names are re-exported for the rules' readers.
from mappings.rules import (  # noqa: F401
    RULES_FILE,
    RULES_REVISION,
    RULES_SCHEMA,
    Rules,
    contract_types,
    default_rules,
    load_rules,
    parse_rules,
)

BLOCKING, WARNING = "blocking", "warning"
COMPLET, INCOMPLET, A_VERIFIER, HORS_PERIMETRE = "complet", "incomplet", "a_verifier", "hors_perimetre"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # blocking | warning
    message: str  # French, for an agent or the applicant
    field: str | None = None


# --- documents ---


def required_documents(mapped: MappedDossier, rules: Rules) -> list[str]:
    """The pièces justificatives of procedure.yaml this dossier's case asks for, in form order."""
    return [document.key for document in rules.documents if document.asked(mapped)]


def check_required_documents(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """Each pièce justificative the case needs (procedure.yaml, docs/apt-documents.md)."""
    for key in required_documents(mapped, rules):
        document = mapped.documents.get(key)
        if document is None or not document.files:
            name = rules.document_names.get(key, key)
            yield Finding("missing_document", BLOCKING, f"Pièce manquante : {name}", key)


def _extension(file: DocumentFile) -> str:
    return file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else ""


def french_list(words: list[str], last: str = "ou") -> str:
    """["PDF", "JPEG", "PNG"] → "PDF, JPEG ou PNG"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _file_problems(file: DocumentFile, name: str, limits: dict) -> Iterator[tuple[str, str]]:
    allowed = limits["allowed_types"]
    content_type = (file.content_type or "").lower()
    if content_type not in allowed or _extension(file) not in allowed[content_type]["extensions"]:
        formats = french_list([kind["name"] for kind in allowed.values()])
        yield (
            "file_type_not_allowed",
            (f"Le fichier « {file.filename} » ({name}) n'est pas au format accepté : {formats} uniquement."),
        )
    if file.byte_size is not None and file.byte_size > limits["max_bytes"]:
        yield "file_too_large", f"Le fichier « {file.filename} » ({name}) dépasse {_megabytes(limits['max_bytes'])} Mo."
    if limits["refuse_empty"] and file.byte_size == 0:
        yield "empty_file", f"Le fichier « {file.filename} » ({name}) est vide."


def _megabytes(byte_count: int) -> str:
    megabytes = byte_count / (1024 * 1024)
    return f"{megabytes:.0f}" if megabytes.is_integer() else f"{megabytes:.1f}".replace(".", ",")


def check_files(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """At most 3 files per document, PDF / JPEG / PNG, at most 10 Mo each, no archive "
    "(docs/apt-documents.md#file-rules)."""
    limits = rules.section("files")
    for key, document in mapped.documents.items():
        name = rules.document_names.get(key, key)
        if len(document.files) > limits["max_files_per_document"]:
            yield Finding(
                "too_many_files",
                BLOCKING,
                f"Trop de fichiers pour la pièce « {name} » : {len(document.files)} envoyés, "
                f"{limits['max_files_per_document']} au plus.",
                key,
            )
        for file in document.files:
            for code, message in _file_problems(file, name, limits):
                yield Finding(code, BLOCKING, message, key)


# --- dates ---


def check_contract_dates(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """A contract ends after it starts (docs/apt-consistency.md#contract-dates)."""
    contract = mapped.contract
    if contract.start and contract.end and contract.end < contract.start:
        yield Finding(
            "contract_dates_inverted",
            BLOCKING,
            "La date de fin du contrat est antérieure à sa date de début.",
            "contrat_date_fin",
        )


def check_contract_start_not_past(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """A start far in the past is a warning (docs/apt-consistency.md#contract-dates)."""
    start, today = mapped.contract.start, mapped.mapped_on
    tolerance = rules.section("tolerances")["contract_start_past_days"]
    if start and today and start < today - timedelta(days=tolerance):
        yield Finding(
            "contract_start_in_past",
            WARNING,
            f"Le contrat a commencé le {start:%d/%m/%Y}, plus de {tolerance} jours avant le dépôt de la demande.",
            "contrat_date_debut",
        )


def check_permit_valid_at_start(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """The titre is valid on the contract's first day "
    "(docs/apt-consistency.md#the-titre-at-the-start-of-the-contract)."""
    student, start = mapped.student, mapped.contract.start
    if start is None:
        return
    if student.permit_expiry and student.permit_expiry < start:
        yield Finding(
            "permit_expired_at_start",
            BLOCKING,
            "Le titre de séjour expire avant le début du contrat.",
            "titre_date_expiration",
        )
    elif student.permit_start and student.permit_start > start:
        yield Finding(
            "permit_not_yet_valid",
            BLOCKING,
            "Le titre de séjour n'est pas encore valide au début du contrat.",
            "titre_date_debut",
        )


def check_permit_covers_contract(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """A titre ending during the contract is a warning "
    "(docs/apt-consistency.md#the-titre-at-the-start-of-the-contract)."""
    # A CDI has no end: the APT then ends with the titre, which is normal.
    expiry, contract = mapped.student.permit_expiry, mapped.contract
    if expiry and contract.end and (contract.start is None or expiry >= contract.start) and expiry < contract.end:
        yield Finding(
            "permit_ends_before_contract",
            WARNING,
            f"Le titre de séjour expire le {expiry:%d/%m/%Y}, avant la fin du contrat : l'autorisation "
            "ne pourra pas aller au-delà.",
            "titre_date_expiration",
        )


# --- hours and the case of the student ---

THRESHOLD, CEILING = "threshold", "ceiling"


@dataclass(frozen=True)
class HoursLimit:
    kind: str  # threshold: up to it no APT is needed | ceiling: the APT allows up to it
    hours: Decimal
    pro_rata_months: int | None = None  # the stay the figure is pro rata of, for a short visa

    def words(self) -> str:
        name = "seuil" if self.kind == THRESHOLD else "plafond"
        stay = f" (au prorata d'un séjour de {self.pro_rata_months} mois)" if self.pro_rata_months else ""
        return f"{name} de {self.hours} h{stay}"


def algerian_accord(mapped: MappedDossier, rules: Rules) -> bool | None:
    """Whether the 1968 accord's rules apply (docs/apt-hours.md#who-is-algerian): the titre decides; for a titre
    that names no regime (a récépissé) the nationality does; None when neither tells."""
    accord, student = rules.section("algerian_accord"), mapped.student
    if student.permit_kind is not None and student.permit_kind not in accord["permit_kinds_without_regime"]:
        return student.permit_kind in accord["permit_kinds"]
    if student.nationality_code is None:
        return None
    return student.nationality_code in accord["nationalities"]


def nationality_disputes_permit(mapped: MappedDossier, rules: Rules) -> bool:
    """The nationality and the titre tell different regimes (an Algerian on a titre étudiant, another national on
    a certificat de résidence algérien)."""
    accord, student = rules.section("algerian_accord"), mapped.student
    kind, code = student.permit_kind, student.nationality_code
    if kind is None or code is None or kind in accord["permit_kinds_without_regime"]:
        return False
    return (kind in accord["permit_kinds"]) != (code in accord["nationalities"])


def _contract_type_in(mapped: MappedDossier, rows) -> bool:
    contract_type = mapped.contract.contract_type
    return contract_type is not None and contract_type.value in contract_types(rows)


def hours_limit(mapped: MappedDossier, rules: Rules) -> HoursLimit | None:
    """The figure the student's hours are judged against; None when the contract always needs an APT (or none),
    or when the regime is unknown (under the accord an APT is needed from the first hour: no threshold may be
    assumed)."""
    hours = rules.section("hours")
    if _contract_type_in(mapped, rules.section("out_of_scope_contract_types")):
        return None
    algerian = algerian_accord(mapped, rules)
    if algerian is None:
        return None
    exempt = hours["algerian_cap_exempt_contract_types" if algerian else "threshold_exempt_contract_types"]
    if _contract_type_in(mapped, exempt):
        return None
    figure = Decimal(str(hours["algerian_cap"] if algerian else hours["student_threshold"]))
    months = hours["pro_rata_permits"].get(mapped.student.permit_kind or "")
    if months:
        figure = figure * months / 12
    return HoursLimit(CEILING if algerian else THRESHOLD, figure.quantize(Decimal(1)), months)


def titre_year_hours(mapped: MappedDossier, rules: Rules) -> YearHours | None:
    """The busiest year of the titre de séjour within what one APT may cover of the contract."""
    return busiest_titre_year(
        mapped.contract,
        mapped.student.permit_start,
        rules.section("hours")["titre_year_months"],
        apt_period.max_months(rules),
    )


def _year_words(mapped: MappedDossier, year: YearHours) -> str:
    if mapped.student.permit_start is None:
        return f"sur 12 mois à partir du début du contrat ({year.start:%d/%m/%Y})"
    return f"sur l'année du titre de séjour du {year.start:%d/%m/%Y} au {year.end:%d/%m/%Y}"


def _judged_hours(mapped: MappedDossier, rules: Rules, kind: str) -> tuple[HoursLimit, YearHours] | None:
    limit = hours_limit(mapped, rules)
    if limit is None or limit.kind != kind:
        return None
    year = titre_year_hours(mapped, rules)
    return (limit, year) if year is not None else None


def check_hours_threshold(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """A non-Algerian student works up to 964 h a titre year without an APT (docs/apt-hours.md#two-regimes)."""
    judged = _judged_hours(mapped, rules, THRESHOLD)
    if judged is None or judged[1].hours > judged[0].hours:
        return
    if nationality_disputes_permit(mapped, rules):
        return  # an Algerian may need an APT from the first hour: not out of scope before an agent settles it
    limit, year = judged
    yield Finding(
        "out_of_scope_under_threshold",
        BLOCKING,
        f"Heures estimées : {year.hours:.0f} h {_year_words(mapped, year)} (autres emplois compris), "
        f"sous le {limit.words()}. Jusqu'à ce seuil (60 % de la durée annuelle du travail), un étudiant "
        "étranger peut travailler sans autorisation provisoire de travail : aucune APT n'est nécessaire, "
        "demande hors périmètre.",
        "heures_nombre",
    )


def check_course_link(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """Issue #12, from the sources: above the threshold "an APT is needed and the job must belong to the course"."""
    judged = _judged_hours(mapped, rules, THRESHOLD)
    if judged is None or judged[1].hours <= judged[0].hours:
        return
    limit, year = judged
    over = f"{year.hours:.0f} h {_year_words(mapped, year)}, au-delà du {limit.words()}"
    if mapped.contract.course_related is False:
        yield Finding(
            "job_outside_course",
            BLOCKING,
            f"L'emploi n'est pas en lien avec la formation suivie : avec {over}, l'autorisation ne peut "
            "être accordée que pour un emploi qui s'inscrit dans le cursus de l'étudiant.",
            "emploi_lien_formation",
        )
    elif mapped.contract.course_related is None:
        yield Finding(
            "course_link_unanswered",
            BLOCKING,
            f"Avec {over}, l'emploi doit être en lien avec la formation suivie : la question « L'emploi "
            "est-il en lien avec la formation suivie ? » est restée sans réponse.",
            "emploi_lien_formation",
        )
    missing = mapped.student.cursus_missing
    if missing:
        # A dossier filed before the form asked the cursus (procedure.yaml absent_from_older_dossiers): only here,
        # where the link is judged, is its absence something an agent must know (docs/apt-hours.md#the-cursus).
        yield Finding(
            "cursus_missing",
            WARNING,
            f"Cursus non renseigné dans le dossier ({', '.join(missing)}) : avec {over}, le lien entre "
            "l'emploi et la formation ne peut pas être jugé sans lui.",
            "cursus_etablissement",
        )


def check_hours_cap(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """An Algerian student needs an APT from the first hour, capped at 50 % of the annual duration
    (docs/apt-hours.md#the-algerian-cap-and-its-exceptions)."""
    judged = _judged_hours(mapped, rules, CEILING)
    if judged is None or judged[1].hours <= judged[0].hours:
        return
    limit, year = judged
    yield Finding(
        "hours_over_cap",
        WARNING,
        f"Heures estimées : {year.hours:.0f} h {_year_words(mapped, year)} (autres emplois compris), "
        f"au-delà du {limit.words()} applicable à l'étudiant.",
        "heures_nombre",
    )


def check_contract_longer_than_apt(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """An APT lasts at most 12 months: a warning for a longer contract (docs/apt-consistency.md#the-apt-period)."""
    contract, months = mapped.contract, apt_period.max_months(rules)
    if contract.start is None:
        return
    if contract.contract_type == ContractType.CDI or contract.end is None:  # open-ended
        if contract.contract_type == ContractType.CDI and rules.section("apt")["warn_open_ended_contracts"]:
            yield Finding(
                "contract_longer_than_apt",
                WARNING,
                f"Contrat à durée indéterminée : une autorisation couvre au plus {months} mois, une "
                "demande de renouvellement sera nécessaire.",
                "contrat_date_fin",
            )
        return
    if contract.end > apt_period.latest_end(contract.start, months):
        yield Finding(
            "contract_longer_than_apt",
            WARNING,
            f"Le contrat dure plus de {months} mois (jusqu'au {contract.end:%d/%m/%Y}) : une autorisation "
            f"couvre au plus {months} mois, jusqu'au {apt_period.latest_end(contract.start, months):%d/%m/%Y} ; "
            "une demande de renouvellement sera nécessaire.",
            "contrat_date_fin",
        )


def check_residence(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """One year of residence before an alternance contract "
    "(docs/apt-consistency.md#residence-before-an-alternance-contract)."""
    residence, contract_type = rules.section("residence"), mapped.contract.contract_type
    if contract_type is None or contract_type.value not in residence["one_year_required"]:
        return
    if mapped.student.resident_one_year is not False:
        return
    if contract_type.value in residence["master_cge_exempt"] and mapped.student.master_or_cge:
        return
    yield Finding(
        "residence_under_one_year",
        WARNING,
        "Ce contrat demande en principe au moins un an de résidence en France.",
        "residence_un_an",
    )


def check_opco_apprenticeship(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """An OPCO-validated apprenticeship probably needs no APT: warn, never reject
    (docs/apt-consistency.md#apprenticeships-validated-by-the-opco)."""
    opco, contract = rules.section("opco"), mapped.contract
    if contract.contract_type is None or contract.contract_type.value not in opco["contract_types"]:
        return
    if contract.opco_validated and algerian_accord(mapped, rules) is False:
        yield Finding(
            "apt_probably_not_needed",
            WARNING,
            "APT probablement non nécessaire : contrat d'apprentissage validé par l'OPCO.",
            "contrat_type",
        )


def check_regulated_profession_by_title(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """A regulated profession needs its attestation, read from the job title too "
    "(docs/apt-consistency.md#regulated-professions)."""
    contract = mapped.contract
    if contract.regulated_profession is True:
        return  # the applicant said so: the attestation is required (documents.conditional)
    profession = profession_of(contract.job_title, rules.professions)
    if profession is None:
        return
    yield Finding(
        "regulated_profession_by_title",
        rules.section("regulated_professions")["title_match_severity"],
        f"L'emploi « {contract.job_title} » semble relever d'une profession réglementée ({profession.label}) : "
        "si c'est le cas, la réponse « non » à « L'emploi relève-t-il d'une profession réglementée ? » "
        "est à corriger, et l'attestation de l'ordre professionnel ou le certificat de qualification est "
        "à demander.",
        "profession_reglementee",
    )


# --- identity ---


def check_siret(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """One valid SIRET (docs/apt-consistency.md#the-siret)."""
    siret = mapped.employer.siret
    if siret is not None and not is_valid_siret(siret):
        yield Finding(
            "invalid_siret",
            BLOCKING,
            "Le numéro SIRET de l'employeur n'est pas valide (14 chiffres, clé de contrôle).",
            "employeur_siret",
        )


def check_age(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """A birth date far outside a student's ages is more likely a typing error than a fact (configurable)."""
    birth, today, limits = mapped.student.birth_date, mapped.mapped_on, rules.section("age")
    if birth is None or today is None:
        return
    age = age_on(birth, today)
    if not limits["min"] <= age <= limits["max"]:
        yield Finding(
            "age_implausible",
            WARNING,
            f"Âge de l'étudiant au dépôt peu vraisemblable ({age} ans) : vérifiez la date de naissance.",
            "date_naissance",
        )


def check_aphp_interne(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """The AP-HP's internes are outside the procedure (docs/apt-consistency.md#internes-of-the-ap-hp)."""
    siret = mapped.employer.siret or ""
    if mapped.contract.contract_type != ContractType.INTERNE or len(siret) != 14:
        return
    if siret[:9] in rules.section("internes")["outside_procedure_sirens"]:
        yield Finding(
            "out_of_scope_aphp_interne",
            BLOCKING,
            "Interne employé par l'Assistance publique – Hôpitaux de Paris (AP-HP) : sa demande ne relève pas "
            "de cette démarche, demande hors périmètre.",
            "employeur_siret",
        )


def check_nationality_in_scope(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """Nationals who need no authorisation are out of scope (docs/apt-scope.md#nationals-who-need-no-authorisation)."""
    if mapped.student.nationality_code in rules.section("out_of_scope_nationalities"):
        yield Finding(
            "out_of_scope_nationality",
            BLOCKING,
            "Les ressortissants de l'Union européenne, de l'EEE, de Suisse, de Monaco, d'Andorre et de "
            "Saint-Marin n'ont pas besoin d'autorisation de travail : demande hors périmètre.",
            "nationalite",
        )


def check_internship(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """ANEF: a student who « souhaite faire un stage, n'a pas à solliciter une autorisation de travail »
    (docs/apt-scope.md#internships)."""
    if _contract_type_in(mapped, rules.section("out_of_scope_contract_types")):
        yield Finding(
            "out_of_scope_internship",
            BLOCKING,
            "Stage sous convention de stage : un étudiant étranger n'a pas à demander d'autorisation de "
            "travail pour un stage, demande hors périmètre.",
            "contrat_type",
        )


def check_nationality_matches_permit(mapped: MappedDossier, rules: Rules) -> Iterator[Finding]:
    """ANEF: the accord's rule is for « étudiants algériens titulaires d'un certificat de résidence » — the titre and
    the nationality must agree (docs/apt-hours.md#who-is-algerian)."""
    if not nationality_disputes_permit(mapped, rules):
        return
    student = mapped.student
    kind, nationality = student.permit_kind, student.nationality_name or student.nationality_code
    by_titre = kind in rules.section("algerian_accord")["permit_kinds"]
    applied = (
        "de l'accord franco-algérien (autorisation dès la première heure, plafond annuel)"
        if by_titre
        else "du titre étudiant (seuil de 964 h, emploi en lien avec la formation au-delà)"
    )
    why = (
        "le certificat de résidence algérien n'est délivré qu'aux ressortissants algériens"
        if by_titre
        else "un étudiant algérien détient en principe un certificat de résidence algérien"
    )
    yield Finding(
        "nationality_permit_mismatch",
        WARNING,
        f"Nationalité « {nationality} » et titre « {kind} » : {why}. L'une des deux réponses est à vérifier ; "
        f"en attendant, les règles {applied} sont appliquées d'après le titre, sans conclure qu'aucune "
        "autorisation n'est nécessaire.",
        "titre_type",
    )


Rule = Callable[[MappedDossier, Rules], Iterable[Finding]]

RULES: tuple[Rule, ...] = (
    check_nationality_in_scope,
    check_internship,
    check_aphp_interne,
    check_nationality_matches_permit,
    check_required_documents,
    check_files,
    check_siret,
    check_contract_dates,
    check_permit_valid_at_start,
    check_permit_covers_contract,
    check_contract_start_not_past,
    check_hours_threshold,
    check_course_link,
    check_hours_cap,
    check_contract_longer_than_apt,
    check_residence,
    check_opco_apprenticeship,
    check_regulated_profession_by_title,
    check_age,
)


ROUTING_FIELDS = {"student_postal_code": "adresse_etudiant", "employer": "employeur_siret"}


def check_routing(routing: Routing) -> Iterator[Finding]:
    """What the routing leaves to an agent: the 98x collectivities and Monaco, uncertain codes
    (docs/apt-routing.md#département-codes, docs/apt-routing.md#shared-postal-codes)."""
    if routing.out_of_scope:
        yield Finding(
            "out_of_scope_territory", BLOCKING, routing.reason or "Territoire hors périmètre.", "titre_departement"
        )
    if routing.confidence == LOW:
        yield Finding(
            "routing_uncertain",
            WARNING,
            routing.uncertainty or "Département incertain : à vérifier.",
            ROUTING_FIELDS.get(routing.departement_source or "", "adresse_etudiant"),
        )


def check_dossier(mapped: MappedDossier, rules: Rules | None = None) -> list[Finding]:
    rules = rules or default_rules()
    return [finding for rule in RULES for finding in rule(mapped, rules)]


def completeness_status(findings: Iterable[Finding], mapping_issues: Iterable[object] = ()) -> str:
    """`mapping_issues`: what the mapping could not read (its issues, or their codes): whether there is one counts."""
    findings = list(findings)
    if any(f.code.startswith("out_of_scope") for f in findings):
        return HORS_PERIMETRE
    if any(f.severity == BLOCKING for f in findings):
        return INCOMPLET
    if findings or any(True for _ in mapping_issues):
        return A_VERIFIER
    return COMPLET


# --- decision (accepted dossiers), not part of completeness ---


def check_decision(mapped: MappedDossier, rules: Rules | None = None) -> list[Finding]:
    """The period agents enter on an accepted dossier (docs/apt-consistency.md#accepted-dossiers, "
    "mappings.apt_period)."""
    rules = rules or default_rules()
    start, end, expiry = mapped.agent.apt_start, mapped.agent.apt_end, mapped.student.permit_expiry
    months = apt_period.max_months(rules)
    findings = []
    for problem in apt_period.period_problems(start, end, expiry, months):
        if problem == apt_period.MISSING:
            findings.append(
                Finding(
                    "apt_dates_missing",
                    BLOCKING,
                    "Dossier accepté sans dates de début et de fin de l'APT : l'attestation ne peut pas être établie.",
                    "apt_date_debut" if start is None else "apt_date_fin",
                )
            )
        elif problem == apt_period.INVERTED:
            findings.append(
                Finding(
                    "apt_dates_inverted",
                    BLOCKING,
                    "La date de fin de l'APT est antérieure à sa date de début.",
                    "apt_date_fin",
                )
            )
        elif problem == apt_period.TOO_LONG:
            findings.append(
                Finding(
                    "apt_too_long",
                    BLOCKING,
                    f"L'APT dépasse {months} mois ({start:%d/%m/%Y} – {end:%d/%m/%Y}).",
                    "apt_date_fin",
                )
            )
        elif problem == apt_period.AFTER_PERMIT:
            findings.append(
                Finding(
                    "apt_beyond_permit",
                    BLOCKING,
                    f"L'APT se termine après l'expiration du titre de séjour ({expiry:%d/%m/%Y}).",
                    "apt_date_fin",
                )
            )
    return findings
