import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings import checks
from mappings.checks import (
    RULES,
    RULES_REVISION,
    Finding,
    check_decision,
    check_dossier,
    completeness_status,
    default_rules,
    hours_limit,
    parse_rules,
    required_documents,
)
from mappings.procedure import DefinitionError, default_procedure
from mappings.records import (
    AgentAnnotations,
    Contract,
    ContractType,
    Document,
    DocumentFile,
    Employer,
    HoursUnit,
    MappedDossier,
    MappingIssue,
    Student,
)

DEPOSIT = date(2025, 3, 3)


@pytest.fixture(scope="module")
def rules():
    return default_rules()


def pdf(name: str = "piece.pdf", size: int = 150_000) -> DocumentFile:
    return DocumentFile(filename=name, content_type="application/pdf", byte_size=size, checksum="x")


def complete(**contract_changes) -> MappedDossier:
    """A dossier that every rule accepts: the `complete` intent."""
    documents = {
        key: Document(key, [pdf(f"{key}.pdf")])
        for key in ("pj_titre_sejour", "pj_passeport", "pj_inscription", "pj_contrat")
    }
    # Full time for nine months inside one titre year: 1,375 h, above the 964 h threshold, so an APT
    # is needed (and the job belongs to the course).
    contract = Contract(
        job_title="Vendeuse",
        contract_type=ContractType.CDD,
        start=date(2025, 4, 1),
        end=date(2025, 12, 31),
        hours_unit=HoursUnit.PER_WEEK,
        hours_value=Decimal(35),
        hours_per_week=Decimal(35),
        regulated_profession=False,
        model_or_live_show=False,
        course_related=True,
    )
    return MappedDossier(
        number=7,
        student=Student(
            last_name="TEST",
            first_name="Synthétique",
            birth_date=date(2002, 6, 1),
            nationality_code="MA",
            request_kind="first",
            permit_kind="Carte de séjour étudiant",
            permit_start=date(2025, 1, 15),
            permit_expiry=date(2026, 8, 31),
            permit_departement="75",
            resident_one_year=True,
            master_or_cge=False,
            school="Université de Lyon",
            diploma="Licence informatique",
            study_year="3e année",
        ),
        employer=Employer(siret="12345678900015", filed_by_student=False),
        contract=dataclasses.replace(contract, **contract_changes),
        documents=documents,
        mapped_on=DEPOSIT,
    )


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def run(rule, mapped, rules) -> list[str]:
    return codes(list(rule(mapped, rules)))


def test_complete_dossier_has_no_finding(rules):
    assert check_dossier(complete(), rules) == []
    assert completeness_status([], []) == "complet"


def test_revision_comes_from_the_rules_file(rules):
    assert RULES_REVISION == rules.revision == yaml.safe_load(checks.RULES_FILE.read_text())["revision"]


# --- documents ---

GENERAL = ["pj_titre_sejour", "pj_passeport", "pj_inscription", "pj_contrat"]


@pytest.mark.parametrize(
    "change, extra, instead_of",
    [
        (lambda m: setattr(m.employer, "filed_by_student", True), ["pj_mandat"], []),
        (lambda m: setattr(m.student, "request_kind", "renewal"), ["pj_apt_precedente", "pj_bulletins_salaire"], []),
        # FAQ: « une copie du contrat CIFRE »: the CIFRE's contract is its own pièce.
        (lambda m: setattr(m.contract, "contract_type", ContractType.CIFRE), ["pj_cifre"], ["pj_contrat"]),
        (lambda m: setattr(m.contract, "contract_type", ContractType.ATER), ["pj_ater"], []),
        # FAQ: the interne's four documents stand for the general ones.
        (
            lambda m: setattr(m.contract, "contract_type", ContractType.INTERNE),
            ["pj_interne_recrutement", "pj_interne_chef_service", "pj_interne_dfms", "pj_interne_identite"],
            GENERAL,
        ),
        (
            lambda m: setattr(m.student, "permit_kind", "Récépissé de demande de renouvellement"),
            ["pj_convocation", "pj_ancien_titre"],
            [],
        ),
        (lambda m: setattr(m.contract, "regulated_profession", True), ["pj_profession_reglementee"], []),
        (lambda m: setattr(m.contract, "model_or_live_show", True), ["pj_licence_spectacle"], []),
        (lambda m: None, [], []),
    ],
)
def test_required_documents_by_case(rules, change, extra, instead_of):
    mapped = complete()
    change(mapped)
    expected = [key for key in GENERAL if key not in instead_of] + extra
    assert sorted(required_documents(mapped, rules)) == sorted(expected)
    findings = list(checks.check_required_documents(mapped, rules))
    assert [f.field for f in findings] == extra
    for key in extra:
        mapped.documents[key] = Document(key, [pdf()])
    assert list(checks.check_required_documents(mapped, rules)) == []


def test_missing_document_message_names_it_in_french(rules):
    mapped = complete()
    mapped.documents["pj_passeport"] = Document("pj_passeport", [])
    [finding] = checks.check_required_documents(mapped, rules)
    assert (finding.code, finding.severity) == ("missing_document", "blocking")
    assert finding.message == "Pièce manquante : passeport (pages d'identité)"


def interne(**documents) -> MappedDossier:
    mapped = complete(contract_type=ContractType.INTERNE, job_title="Interne en médecine générale")
    mapped.documents.update({key: Document(key, [pdf(f"{key}.pdf")]) for key in documents})
    return mapped


def test_an_interne_sends_the_four_documents_of_the_faq(rules):
    """FAQ, internes: « Attestation de recrutement avec durée et salaire », « Attestation du chef de service »,
    « Certificat de scolarité précisant inscription en DFMS ou DFMSA », « Copie passeport … ou titre de séjour »:
    separate documents, standing for the general ones (docs/apt-documents.md#internes)."""
    four = interne(pj_interne_recrutement=1, pj_interne_chef_service=1, pj_interne_dfms=1, pj_interne_identite=1)
    assert check_dossier(four, rules) == []
    for general in ("pj_titre_sejour", "pj_passeport", "pj_inscription", "pj_contrat"):
        del four.documents[general]
    assert check_dossier(four, rules) == []
    one_of_four = interne(pj_interne_recrutement=1)
    assert [f.field for f in check_dossier(one_of_four, rules)] == [
        "pj_interne_chef_service",
        "pj_interne_dfms",
        "pj_interne_identite",
    ]


def test_an_aphp_interne_is_outside_the_procedure(rules):
    """RULES.md: "interne (outside AP-HP)"; the AP-HP's SIREN is 267 500 452."""
    aphp = interne(pj_interne_recrutement=1, pj_interne_chef_service=1, pj_interne_dfms=1, pj_interne_identite=1)
    aphp.employer.siret = "26750045200012"
    assert run(checks.check_aphp_interne, aphp, rules) == ["out_of_scope_aphp_interne"]
    assert completeness_status(check_dossier(aphp, rules)) == "hors_perimetre"
    other_hospital = interne()
    other_hospital.employer.siret = "26130008100015"  # another CHU: in the procedure
    assert run(checks.check_aphp_interne, other_hospital, rules) == []
    not_an_interne = complete()
    not_an_interne.employer.siret = "26750045200012"  # an AP-HP CDD is in the procedure
    assert run(checks.check_aphp_interne, not_an_interne, rules) == []


@pytest.mark.parametrize("filename", ["arrete_nomination.pdf", "attestation_ater.pdf", "pv_installation.pdf"])
def test_an_ater_sends_any_one_of_the_three_documents(rules, filename):
    """RULES.md: "ATER | the ATER contract with start date + appointment arrêté, attestation or PV d'installation"."""
    ater = complete(contract_type=ContractType.ATER)
    assert [f.field for f in check_dossier(ater, rules)] == ["pj_ater"]
    ater.documents["pj_ater"] = Document("pj_ater", [pdf(filename)])
    assert check_dossier(ater, rules) == []
    assert " ou " in rules.document_names["pj_ater"] and " et " not in rules.document_names["pj_ater"]


def test_a_renewal_set_of_six_pages_is_complete(rules):
    """RULES.md: "during a renewal the set of three: convocation, old titre, récépissé", each both sides."""
    mapped = complete()
    mapped.student.permit_kind = "Récépissé de demande de renouvellement"
    sides = lambda key: Document(key, [pdf(f"{key}_recto.pdf"), pdf(f"{key}_verso.pdf")])  # noqa: E731
    mapped.documents.update({key: sides(key) for key in ("pj_titre_sejour", "pj_convocation", "pj_ancien_titre")})
    assert check_dossier(mapped, rules) == []
    del mapped.documents["pj_convocation"]
    assert [f.code for f in check_dossier(mapped, rules)] == ["missing_document"]


def test_rules_file_is_validated_against_its_schema():
    raw = yaml.safe_load(checks.RULES_FILE.read_text())
    raw["hours"]["student_threshold"] = "beaucoup"
    with pytest.raises(DefinitionError, match="hours/student_threshold"):
        parse_rules(raw, default_procedure())


# --- files ---


@pytest.mark.parametrize(
    "file, code",
    [
        (DocumentFile("archive.zip", "application/zip", 1000, None), "file_type_not_allowed"),
        (DocumentFile("scan.pdf", "image/png", 1000, None), "file_type_not_allowed"),  # extension and type disagree
        (DocumentFile("scan", "application/pdf", 1000, None), "file_type_not_allowed"),
        (DocumentFile("gros.pdf", "application/pdf", 10 * 1024 * 1024 + 1, None), "file_too_large"),
        (DocumentFile("vide.pdf", "application/pdf", 0, None), "empty_file"),
    ],
)
def test_bad_file_is_blocking(rules, file, code):
    mapped = complete()
    mapped.documents["pj_contrat"].files.append(file)
    findings = list(checks.check_files(mapped, rules))
    assert codes(findings) == [code]
    assert findings[0].severity == "blocking" and findings[0].field == "pj_contrat"


@pytest.mark.parametrize(
    "file",
    [
        DocumentFile("photo.JPEG", "image/jpeg", 10 * 1024 * 1024, None),
        DocumentFile("scan.png", "image/png", 1, None),
        DocumentFile("contrat.pdf", "application/pdf", None, None),
    ],
)
def test_good_files_pass(rules, file):
    mapped = complete()
    mapped.documents["pj_contrat"].files.append(file)
    assert run(checks.check_files, mapped, rules) == []


def test_the_file_type_message_names_the_configured_formats():
    raw = yaml.safe_load(checks.RULES_FILE.read_text())
    assert {kind["name"] for kind in raw["files"]["allowed_types"].values()} == {"PDF", "JPEG", "PNG"}
    default = parse_rules(raw, default_procedure())
    mapped = complete()
    mapped.documents["pj_contrat"].files.append(DocumentFile("contrat.docx", "application/msword", 1000, None))
    [finding] = checks.check_files(mapped, default)
    assert finding.message.endswith(": PDF, JPEG ou PNG uniquement.")
    raw["files"]["allowed_types"] = {"application/pdf": {"name": "PDF", "extensions": ["pdf"]}}
    raw["files"]["max_bytes"] = 5 * 1024 * 1024
    pdf_only = parse_rules(raw, default_procedure())
    mapped.documents["pj_contrat"].files[-1] = DocumentFile("photo.png", "image/png", 6 * 1024 * 1024, None)
    assert [f.message for f in checks.check_files(mapped, pdf_only)] == [
        "Le fichier « photo.png » (contrat de travail ou promesse d'embauche) n'est pas au format accepté : PDF "
        "uniquement.",
        "Le fichier « photo.png » (contrat de travail ou promesse d'embauche) dépasse 5 Mo.",
    ]


def test_at_most_three_files_per_document(rules):
    mapped = complete()
    mapped.documents["pj_contrat"].files[:] = [pdf(f"p{i}.pdf") for i in range(3)]
    assert run(checks.check_files, mapped, rules) == []
    mapped.documents["pj_contrat"].files.append(pdf("p4.pdf"))
    assert run(checks.check_files, mapped, rules) == ["too_many_files"]


# --- dates ---


def test_contract_end_before_start_is_blocking(rules):
    assert run(checks.check_contract_dates, complete(end=date(2025, 3, 1)), rules) == ["contract_dates_inverted"]
    assert run(checks.check_contract_dates, complete(end=date(2025, 4, 1)), rules) == []


def test_contract_start_long_before_deposit_is_a_warning(rules):
    tolerance = rules.section("tolerances")["contract_start_past_days"]
    at_limit = complete(start=DEPOSIT - timedelta(days=tolerance))
    assert run(checks.check_contract_start_not_past, at_limit, rules) == []
    too_old = complete(start=DEPOSIT - timedelta(days=tolerance + 1))
    assert run(checks.check_contract_start_not_past, too_old, rules) == ["contract_start_in_past"]


def test_permit_must_be_valid_at_contract_start(rules):
    mapped = complete()
    mapped.student.permit_expiry = date(2025, 3, 31)
    assert run(checks.check_permit_valid_at_start, mapped, rules) == ["permit_expired_at_start"]
    mapped.student.permit_expiry = date(2025, 4, 1)
    assert run(checks.check_permit_valid_at_start, mapped, rules) == []
    mapped.student.permit_start = date(2025, 4, 2)
    assert run(checks.check_permit_valid_at_start, mapped, rules) == ["permit_not_yet_valid"]


def test_permit_ending_before_the_contract_is_a_warning(rules):
    mapped = complete()
    mapped.student.permit_expiry = date(2025, 12, 30)
    assert run(checks.check_permit_covers_contract, mapped, rules) == ["permit_ends_before_contract"]
    mapped.student.permit_expiry = date(2025, 12, 31)
    assert run(checks.check_permit_covers_contract, mapped, rules) == []


def test_cdi_without_end_is_not_flagged_for_outliving_the_permit(rules):
    cdi = complete(contract_type=ContractType.CDI, end=None)
    assert check_dossier(cdi, rules) == []


# --- hours ---


@pytest.mark.parametrize(
    "nationality, permit_kind, contract_type, limit",
    [
        ("MA", "Carte de séjour étudiant", ContractType.CDD, ("threshold", Decimal(964))),
        ("DZ", "Certificat de résidence algérien étudiant", ContractType.CDI, ("ceiling", Decimal(804))),
        # RULES.md: "6-month long-stay visa (one semester) | cap pro rata of the stay (e.g. 482 h for 6 months)".
        ("MA", "Visa long séjour étudiant de 6 mois", ContractType.CDD, ("threshold", Decimal(482))),
        ("MA", "Carte de séjour étudiant", ContractType.APPRENTISSAGE, None),
        ("DZ", "Carte de séjour étudiant", ContractType.DOCTORAL, None),
        ("MA", "Carte de séjour étudiant", ContractType.INTERNE, None),
    ],
)
def test_hours_limit_by_case(rules, nationality, permit_kind, contract_type, limit):
    mapped = complete(contract_type=contract_type)
    mapped.student.nationality_code, mapped.student.permit_kind = nationality, permit_kind
    found = hours_limit(mapped, rules)
    assert (found.kind, found.hours) == limit if limit else found is None


# RULES.md: a non-Algerian student "may work 964 h per year (60 % of 1,607 h) without APT".
# 964 h over the 275 days of the contract (1 April – 31 December) is 24.54 h a week.
@pytest.mark.parametrize(
    "weekly, expected",
    [
        (Decimal(20), ["out_of_scope_under_threshold"]),  # 785.71 h: no APT is needed
        (Decimal("24.53"), ["out_of_scope_under_threshold"]),  # 963.68 h: still up to the threshold
        (Decimal("24.55"), []),  # 964.46 h: above it, an APT is needed
        (Decimal(35), []),
    ],
)
def test_a_non_algerian_student_under_the_threshold_needs_no_apt(rules, weekly, expected):
    mapped = complete(hours_per_week=weekly)
    assert run(checks.check_hours_threshold, mapped, rules) == expected
    if expected:
        [finding] = checks.check_hours_threshold(mapped, rules)
        assert "sous le seuil de 964 h" in finding.message and "aucune APT n'est nécessaire" in finding.message
        assert completeness_status(check_dossier(mapped, rules)) == "hors_perimetre"


ALGERIAN_PERMIT = "Certificat de résidence algérien étudiant"


def algerian(mapped: MappedDossier) -> MappedDossier:
    """An Algerian student holding the certificat de résidence: the accord's rules apply."""
    mapped.student.nationality_code, mapped.student.permit_kind = "DZ", ALGERIAN_PERMIT
    return mapped


def test_the_threshold_is_not_applied_to_algerian_students(rules):
    """RULES.md: an Algerian student needs an APT "from the first hour"."""
    mapped = algerian(complete(hours_per_week=Decimal(5)))
    assert run(checks.check_hours_threshold, mapped, rules) == []
    assert completeness_status(check_dossier(mapped, rules)) == "complet"


@pytest.mark.parametrize(
    "course_related, expected",
    [
        (True, []),
        (False, ["job_outside_course"]),
        (None, ["course_link_unanswered"]),
    ],
)
def test_above_the_threshold_the_job_must_belong_to_the_course(rules, course_related, expected):
    """Issue #12 (from the procedure's texts): above 964 h "an APT is needed and the job must belong to the course"."""
    mapped = complete(course_related=course_related)
    assert run(checks.check_course_link, mapped, rules) == expected
    if course_related is False:
        [finding] = checks.check_course_link(mapped, rules)
        assert finding.severity == "blocking" and "n'est pas en lien avec la formation" in finding.message
    # Under the threshold the question does not arise: no APT at all.
    assert (
        run(checks.check_course_link, complete(hours_per_week=Decimal(10), course_related=course_related), rules) == []
    )


def test_hours_are_counted_over_the_years_of_the_titre(rules):
    """RULES.md: "the year runs in 12-month blocks from the titre's start"."""
    # 25 h a week for 12 months is 1,304 h from the contract's start, but the titre's years
    # (from 1 September) hold 328 h (June – August) and 975 h (September – May).
    mapped = complete(start=date(2025, 6, 1), end=date(2026, 5, 31), hours_per_week=Decimal(25))
    mapped.student.permit_start, mapped.student.permit_expiry = date(2024, 9, 1), date(2026, 8, 31)
    year = checks.titre_year_hours(mapped, rules)
    assert (year.start, year.end, round(year.hours)) == (date(2025, 9, 1), date(2026, 8, 31), 975)
    assert run(checks.check_hours_threshold, mapped, rules) == []  # 975 h > 964 h: an APT is needed
    # 24 h a week: 312 h and 936 h, each under the threshold, although 1,251 h in 12 months.
    mapped.contract.hours_per_week = Decimal(24)
    assert run(checks.check_hours_threshold, mapped, rules) == ["out_of_scope_under_threshold"]


def test_algerian_hours_over_the_cap_are_a_warning(rules):
    """RULES.md: Algerian students, "cap 50 % of the branch's annual duration (≈ 804 h on 1,607 h)"."""
    mapped = algerian(complete(hours_per_week=Decimal(20)))  # 785.71 h over 275 days
    assert run(checks.check_hours_cap, mapped, rules) == []
    mapped.contract.hours_per_week = Decimal(21)  # 825 h
    assert run(checks.check_hours_cap, mapped, rules) == ["hours_over_cap"]


@pytest.mark.parametrize(
    "contract_type, capped",
    [
        (ContractType.ATER, True),  # no text exempts it (docs/apt-hours.md#the-algerian-cap-and-its-exceptions)
        (ContractType.CIFRE, False),
        (ContractType.DOCTORAL, False),
        (ContractType.APPRENTISSAGE, False),
        (ContractType.PROFESSIONNALISATION, False),
        (ContractType.INTERNE, False),
        (ContractType.CDD, True),
    ],
)
def test_the_algerian_cap_and_its_exceptions(rules, contract_type, capped):
    """ANEF: « jusqu'à 50 % de la durée annuelle de travail », no exception; a secondary summary exempts
    « alternance, doctorate, interne » (rules.yaml algerian_cap_exempt_contract_types, one row each)."""
    full_time = algerian(complete(contract_type=contract_type, hours_per_week=Decimal(35)))
    assert run(checks.check_hours_cap, full_time, rules) == (["hours_over_cap"] if capped else [])


def test_an_internship_is_out_of_scope(rules):
    """ANEF: a student who « souhaite faire un stage, n'a pas à solliciter une autorisation de travail »."""
    internship = complete(contract_type=ContractType.STAGE)
    assert run(checks.check_internship, internship, rules) == ["out_of_scope_internship"]
    assert hours_limit(internship, rules) is None  # no threshold is judged besides
    assert completeness_status(check_dossier(internship, rules)) == "hors_perimetre"
    assert run(checks.check_internship, complete(), rules) == []


@pytest.mark.parametrize(
    "nationality, name, permit, regime",
    [
        ("DZ", "Algérie", "Carte de séjour étudiant", "threshold"),
        ("MA", "Maroc", ALGERIAN_PERMIT, "ceiling"),
    ],
)
def test_a_nationality_that_disagrees_with_the_titre_is_named_with_it(rules, nationality, name, permit, regime):
    """ANEF: the accord is for « étudiants algériens titulaires d'un certificat de résidence »: the titre decides,
    and a mismatch is « À vérifier » with both values named."""
    mapped = complete(hours_per_week=Decimal(35))
    mapped.student.nationality_code, mapped.student.nationality_name, mapped.student.permit_kind = (
        nationality,
        name,
        permit,
    )
    [finding] = checks.check_nationality_matches_permit(mapped, rules)
    assert (finding.code, finding.severity, finding.field) == ("nationality_permit_mismatch", "warning", "titre_type")
    assert f"Nationalité « {name} »" in finding.message and f"titre « {permit} »" in finding.message
    assert hours_limit(mapped, rules).kind == regime
    assert completeness_status(check_dossier(mapped, rules)) == "a_verifier"
    agree = algerian(complete())
    assert run(checks.check_nationality_matches_permit, agree, rules) == []
    agree.student.permit_kind = "Récépissé de demande de renouvellement"  # names no regime: nothing to compare
    assert run(checks.check_nationality_matches_permit, agree, rules) == []


def test_other_jobs_count_towards_the_hours(rules):
    mapped = complete(hours_per_week=Decimal(15))  # 589 h: under the threshold
    assert run(checks.check_hours_threshold, mapped, rules) == ["out_of_scope_under_threshold"]
    mapped.contract.other_jobs_hours_per_week = Decimal(10)  # 982 h in all
    assert run(checks.check_hours_threshold, mapped, rules) == []


def test_exempt_contracts_have_neither_threshold_nor_cap(rules):
    doctoral = complete(contract_type=ContractType.DOCTORAL, hours_per_week=Decimal(3), end=date(2026, 3, 31))
    assert (
        run(checks.check_hours_threshold, doctoral, rules) == [] and run(checks.check_hours_cap, doctoral, rules) == []
    )


def test_a_contract_longer_than_one_apt_is_a_warning(rules):
    """RULES.md: "APT duration ≤ 12 months (blocking for an agent-entered APT period; warning for the contract)"."""
    assert run(checks.check_contract_longer_than_apt, complete(end=date(2026, 3, 31)), rules) == []  # 12 months
    assert run(checks.check_contract_longer_than_apt, complete(end=date(2026, 4, 1)), rules) == [
        "contract_longer_than_apt"
    ]
    cdi = complete(contract_type=ContractType.CDI, end=None)
    assert run(checks.check_contract_longer_than_apt, cdi, rules) == []


def test_open_ended_contracts_are_warned_on_only_when_configured(rules):
    raw = yaml.safe_load(checks.RULES_FILE.read_text())
    raw["apt"]["warn_open_ended_contracts"] = True
    strict = parse_rules(raw, default_procedure())
    cdi = complete(contract_type=ContractType.CDI, end=None)
    assert run(checks.check_contract_longer_than_apt, cdi, strict) == ["contract_longer_than_apt"]


# --- residence and OPCO ---


@pytest.mark.parametrize(
    "contract_type, resident, master, expected",
    [
        (ContractType.APPRENTISSAGE, False, False, ["residence_under_one_year"]),
        (ContractType.APPRENTISSAGE, False, True, []),
        (ContractType.PROFESSIONNALISATION, False, True, ["residence_under_one_year"]),
        (ContractType.PROFESSIONNALISATION, True, False, []),
        (ContractType.CDD, False, False, []),
        (ContractType.APPRENTISSAGE, None, False, []),
    ],
)
def test_residence_of_one_year_for_alternance(rules, contract_type, resident, master, expected):
    mapped = complete(contract_type=contract_type)
    mapped.student.resident_one_year, mapped.student.master_or_cge = resident, master
    assert run(checks.check_residence, mapped, rules) == expected


@pytest.mark.parametrize(
    "nationality, validated, expected",
    [
        ("MA", True, ["apt_probably_not_needed"]),
        ("DZ", True, []),
        ("MA", None, []),
    ],
)
def test_opco_validated_apprenticeship(rules, nationality, validated, expected):
    mapped = complete(contract_type=ContractType.APPRENTISSAGE, opco_validated=validated)
    mapped.student.nationality_code = nationality
    if nationality == "DZ":
        algerian(mapped)
    assert run(checks.check_opco_apprenticeship, mapped, rules) == expected


# --- regulated professions ---


@pytest.mark.parametrize(
    "title, declared, expected",
    [
        ("Agent de sécurité", False, ["regulated_profession_by_title"]),
        ("Assistant expert-comptable", None, ["regulated_profession_by_title"]),
        ("Agent de sécurité", True, []),  # declared: the attestation is required instead (documents)
        ("Agent d'accueil", False, []),
        ("Architecte logiciel", False, []),
    ],
)
def test_a_job_title_naming_a_regulated_profession_is_flagged(rules, title, declared, expected):
    """RULES.md: "regulated profession (expert-comptable, avocat, commissaire aux comptes, security agent…) |
    attestation of the professional order or qualification certificate"."""
    mapped = complete(job_title=title, regulated_profession=declared)
    assert run(checks.check_regulated_profession_by_title, mapped, rules) == expected
    if expected:
        [finding] = checks.check_regulated_profession_by_title(mapped, rules)
        assert finding.severity == "warning" and f"« {title} »" in finding.message


def test_the_title_match_severity_is_configurable():
    raw = yaml.safe_load(checks.RULES_FILE.read_text())
    raw["regulated_professions"]["title_match_severity"] = "blocking"
    strict = parse_rules(raw, default_procedure())
    mapped = complete(job_title="Vigile", regulated_profession=False)
    assert completeness_status(check_dossier(mapped, strict)) == "incomplet"
    assert completeness_status(check_dossier(mapped, default_rules())) == "a_verifier"


# --- identity ---


@pytest.mark.parametrize(
    "siret, expected",
    [
        ("12345678900015", []),
        ("35600000000010", []),
        ("12345678900016", ["invalid_siret"]),
        ("1234", ["invalid_siret"]),
        (None, []),
    ],
)
def test_siret(rules, siret, expected):
    mapped = complete()
    mapped.employer.siret = siret
    assert run(checks.check_siret, mapped, rules) == expected


@pytest.mark.parametrize(
    "birth, expected",
    [
        (date(2009, 3, 3), []),  # 16 on the deposit day
        (date(2009, 3, 4), ["age_implausible"]),
        (date(1954, 3, 4), []),  # 70
        (date(1954, 3, 3), ["age_implausible"]),  # 71
        (None, []),
    ],
)
def test_age_is_measured_on_the_deposit_day(rules, birth, expected):
    mapped = complete()
    mapped.student.birth_date = birth
    assert run(checks.check_age, mapped, rules) == expected


@pytest.mark.parametrize(
    "nationality, expected",
    [
        ("DE", ["out_of_scope_nationality"]),
        ("NO", ["out_of_scope_nationality"]),
        ("CH", ["out_of_scope_nationality"]),
        ("MC", ["out_of_scope_nationality"]),
        ("SM", ["out_of_scope_nationality"]),
        ("DZ", []),
        ("US", []),
        (None, []),
    ],
)
def test_european_nationals_are_out_of_scope(rules, nationality, expected):
    mapped = complete()
    mapped.student.nationality_code = nationality
    assert run(checks.check_nationality_in_scope, mapped, rules) == expected


# --- status ---


def test_status_rule_order():
    warning, blocking = Finding("x", "warning", "m"), Finding("y", "blocking", "m")
    out = Finding("out_of_scope_nationality", "blocking", "m")
    issue = MappingIssue("nom", "missing_champ", "m")
    assert completeness_status([out, blocking, warning], [issue]) == "hors_perimetre"
    assert completeness_status([blocking, warning], [issue]) == "incomplet"
    assert completeness_status([warning], []) == "a_verifier"
    assert completeness_status([], [issue]) == "a_verifier"
    assert completeness_status([], []) == "complet"


def test_rules_table_has_each_rule_once():
    assert len(RULES) == len(set(RULES))


# --- generator intents: one defect each, one expected status ---


def _missing_mandate(m):
    m.employer.filed_by_student = True


def _zip(m):
    m.documents["pj_passeport"].files[0] = DocumentFile("passeport.zip", "application/zip", 1000, None)


def _four_files(m):
    m.documents["pj_inscription"].files[:] = [pdf(f"p{i}.pdf") for i in range(4)]


def _inverted(m):
    m.contract.end = m.contract.start - timedelta(days=10)


def _expired(m):
    m.student.permit_expiry = m.contract.start - timedelta(days=1)


def _ends_before(m):
    m.student.permit_expiry = m.contract.end - timedelta(days=1)


def _under_threshold(m):
    m.contract.hours_per_week = Decimal(15)


def _not_in_course(m):
    m.contract.course_related = False


def _algerian_hours(m):
    m.student.nationality_code, m.student.permit_kind = "DZ", "Certificat de résidence algérien étudiant"


def _siret(m):
    m.employer.siret = "12345678900016"


def _eu(m):
    m.student.nationality_code = "IT"


def _bad_date(m):
    m.student.birth_date = None
    m.issues.append(MappingIssue("date_naissance", "invalid_date", "date impossible"))


def _no_nom(m):
    m.issues.append(MappingIssue("nom", "missing_champ", "absent"))


@pytest.mark.parametrize(
    "defect, status",
    [
        (lambda m: None, "complet"),
        (lambda m: m.documents.pop("pj_passeport"), "incomplet"),
        (_missing_mandate, "incomplet"),
        (_zip, "incomplet"),
        (_four_files, "incomplet"),
        (lambda m: setattr(m.documents["pj_contrat"].files[0], "byte_size", 11 * 1024 * 1024), "incomplet"),
        (lambda m: setattr(m.documents["pj_contrat"].files[0], "byte_size", 0), "incomplet"),
        (_inverted, "incomplet"),
        (_expired, "incomplet"),
        (_ends_before, "a_verifier"),
        (_under_threshold, "hors_perimetre"),
        (_not_in_course, "incomplet"),
        (_algerian_hours, "a_verifier"),
        (_siret, "incomplet"),
        (_eu, "hors_perimetre"),
        (_bad_date, "a_verifier"),
        (_no_nom, "a_verifier"),
    ],
    ids=[
        "complete",
        "missing_document",
        "missing_mandate",
        "bad_file_zip",
        "bad_file_4",
        "bad_file_big",
        "bad_file_empty",
        "inconsistent_dates",
        "permit_expired_at_start",
        "permit_ends_before_contract",
        "under_threshold",
        "job_not_in_course",
        "hours_over_cap_dz",
        "invalid_siret",
        "out_of_scope_nationality",
        "malformed_date",
        "malformed_nom",
    ],
)
def test_intent_gives_expected_status(rules, defect, status):
    mapped = complete()
    defect(mapped)
    assert completeness_status(check_dossier(mapped, rules), mapped.issues) == status


# --- decision checks (accepted dossiers) ---


def decided(start, end, expiry=date(2026, 8, 31)) -> MappedDossier:
    mapped = complete()
    mapped.agent = AgentAnnotations(apt_start=start, apt_end=end)
    mapped.student.permit_expiry = expiry
    return mapped


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (date(2025, 4, 1), date(2025, 12, 31), []),
        (date(2025, 4, 1), date(2026, 3, 31), []),  # exactly 12 months
        (date(2025, 4, 1), date(2026, 4, 1), ["apt_too_long"]),
        (None, date(2025, 12, 31), ["apt_dates_missing"]),
        (date(2025, 4, 1), None, ["apt_dates_missing"]),
        (date(2025, 4, 1), date(2025, 3, 1), ["apt_dates_inverted"]),
        (date(2026, 1, 1), date(2026, 9, 30), ["apt_beyond_permit"]),
    ],
)
def test_check_decision(start, end, expected):
    assert codes(check_decision(decided(start, end))) == expected


def test_decision_checks_do_not_change_completeness(rules):
    mapped = decided(None, None)
    assert check_dossier(mapped, rules) == []


# --- never raise ---

optional_dates = st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
optional_decimals = st.none() | st.decimals(min_value=0, max_value=1000, places=2)
files = st.builds(
    DocumentFile,
    filename=st.text(max_size=12),
    content_type=st.none() | st.text(max_size=20),
    byte_size=st.none() | st.integers(min_value=0, max_value=20 * 1024 * 1024),
    checksum=st.none(),
)
document_keys = st.sampled_from([d.key for d in default_procedure().champs if d.type == "piece_justificative"])
random_dossiers = st.builds(
    MappedDossier,
    number=st.integers(min_value=0, max_value=10**9),
    student=st.builds(
        Student,
        birth_date=optional_dates,
        permit_start=optional_dates,
        permit_expiry=optional_dates,
        nationality_code=st.none() | st.sampled_from(["DZ", "MA", "FR", "NO", "US"]),
        request_kind=st.none() | st.sampled_from(["first", "renewal", "autre"]),
        permit_kind=st.none() | st.text(max_size=40),
        resident_one_year=st.none() | st.booleans(),
        master_or_cge=st.none() | st.booleans(),
    ),
    employer=st.builds(
        Employer,
        siret=st.none() | st.text(alphabet="0123456789a", max_size=15),
        filed_by_student=st.none() | st.booleans(),
    ),
    contract=st.builds(
        Contract,
        contract_type=st.none() | st.sampled_from(list(ContractType)),
        start=optional_dates,
        end=optional_dates,
        hours_per_week=optional_decimals,
        other_jobs_hours_per_week=st.decimals(min_value=0, max_value=100, places=2),
        regulated_profession=st.none() | st.booleans(),
        model_or_live_show=st.none() | st.booleans(),
        opco_validated=st.none() | st.booleans(),
        course_related=st.none() | st.booleans(),
    ),
    documents=st.dictionaries(
        document_keys, st.builds(Document, key=st.just("k"), files=st.lists(files, max_size=5)), max_size=6
    ),
    agent=st.builds(AgentAnnotations, apt_start=optional_dates, apt_end=optional_dates),
    mapped_on=optional_dates,
)


@settings(max_examples=300, deadline=None)
@given(random_dossiers)
def test_checks_never_raise(mapped):
    findings = check_dossier(mapped)
    assert completeness_status(findings, mapped.issues) in {"complet", "incomplet", "a_verifier", "hors_perimetre"}
    assert all(f.severity in ("blocking", "warning") for f in findings + check_decision(mapped))


def test_no_threshold_is_assumed_when_neither_titre_nor_nationality_tells_the_regime(rules):
    # A récépissé names no regime and an unknown nationality may be Algerian, who needs an APT from the first hour.
    mapped = complete(hours_per_week=Decimal(5))
    mapped.student.nationality_code, mapped.student.permit_kind = None, "Récépissé de demande de renouvellement"
    assert hours_limit(mapped, rules) is None
    assert run(checks.check_hours_threshold, mapped, rules) == []
    # A titre « étudiant » tells it: the threshold applies whatever the nationality.
    mapped.student.permit_kind = "Carte de séjour étudiant"
    assert hours_limit(mapped, rules).hours == 964
    # On a récépissé, the nationality tells it.
    mapped.student.permit_kind, mapped.student.nationality_code = "Récépissé de demande de renouvellement", "DZ"
    assert hours_limit(mapped, rules).kind == "ceiling"


# --- what the routing leaves to agents ---


def test_routing_findings():
    """RULES.md: 98x "are out of scope → manual review"; "CEDEX codes … are low-confidence" → « À vérifier »."""
    from mappings.routing import Routing

    sure = Routing("75", "permit", "75", "MOE 75", "MOE 75", False, None, False, "high", None)
    assert list(checks.check_routing(sure)) == []
    uncertain = Routing(
        "33", "student_postal_code", None, "MOE 33", "MOE 33", False, None, False, "low", "Département 33…"
    )
    assert [(f.code, f.severity, f.field) for f in checks.check_routing(uncertain)] == [
        ("routing_uncertain", "warning", "adresse_etudiant")
    ]
    territory = Routing(
        "988", "permit", None, None, "À orienter manuellement", True, "Hors du périmètre.", True, "high"
    )
    assert [f.code for f in checks.check_routing(territory)] == ["out_of_scope_territory"]
    assert completeness_status(checks.check_routing(territory)) == "hors_perimetre"


def test_every_rule_says_which_source_sentence_it_implements():
    rules = [*RULES, checks.check_routing, check_decision]
    undocumented = [
        rule.__name__
        for rule in rules
        if not (
            rule.__doc__
            and any(
                source in rule.__doc__ for source in ("Issue #12", "issue #12", "ANEF", "typing error", "docs/apt-")
            )
        )
    ]
    assert undocumented == []
