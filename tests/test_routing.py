import csv
import re
from pathlib import Path

import pytest

from mappings.procedure import DefinitionError, default_procedure
from mappings.records import Employer, MappedDossier, Student
from mappings.routing import (
    DEPARTEMENTS_FILE,
    SERVICES_FILE,
    Routing,
    departement_from_insee_code,
    departement_from_postal_code,
    load_postal_codes,
    load_routing_table,
    route,
    shared_postal_code_departements,
)

METROPOLITAN = [f"{n:02d}" for n in range(1, 20)] + ["2A", "2B"] + [f"{n:02d}" for n in range(21, 96)]
OVERSEAS = ["971", "972", "973", "974", "976"]
ALL_DEPARTEMENTS = METROPOLITAN + OVERSEAS
# RULES.md: the 36 départements where Work in France was open at the end.
WIF_OPEN = set(
    "02 10 13 21 25 33 35 36 38 42 45 51 52 54 55 57 59 60 62 63 64 67 68 69 74 75 76 77 78 80 88 91 "
    "92 93 94 95".split()
)
# One postal code per département, chosen to exercise the special cases.
POSTAL_CODE = {code: f"{code}000" for code in METROPOLITAN if code not in ("2A", "2B")}
POSTAL_CODE.update(
    {"2A": "20000", "2B": "20200", "971": "97100", "972": "97200", "973": "97300", "974": "97400", "976": "97600"}
)


@pytest.fixture(scope="module")
def table():
    return load_routing_table()


def dossier(student: Student | None = None, employer: Employer | None = None) -> MappedDossier:
    return MappedDossier(number=1, student=student or Student(), employer=employer or Employer())


def test_table_lists_every_departement_once(table):
    codes = [code for code, info in table.departements.items() if info.kind == "departement"]
    assert sorted(codes) == sorted(ALL_DEPARTEMENTS)
    assert {c for c, info in table.departements.items() if info.kind == "collectivite"} == {"975", "977", "978"}
    assert {c for c, info in table.departements.items() if info.wif_open} == WIF_OPEN


def test_groupe_labels_are_unique_and_include_the_fallback(table):
    labels = table.groupe_labels()
    assert len(labels) == len(set(labels))
    assert labels[-1] == default_procedure().fallback_groupe


@pytest.mark.parametrize("code", ALL_DEPARTEMENTS)
def test_route_by_permit_departement(table, code):
    routing = route(dossier(Student(permit_departement=code)), table)

    assert (routing.departement, routing.departement_source) == (code, "permit")
    assert not routing.out_of_scope
    service = table.service_for(code)
    assert routing.service == service.name
    if code in WIF_OPEN:
        assert (routing.groupe_label, routing.fallback, routing.reason) == (service.groupe_label, False, None)
    else:
        assert routing.groupe_label == "À orienter manuellement"
        assert routing.fallback and "n'instruit pas encore" in routing.reason


@pytest.mark.parametrize("code", ALL_DEPARTEMENTS)
def test_route_by_postal_code_when_nothing_else_is_known(table, code):
    assert departement_from_postal_code(POSTAL_CODE[code]) == (code, "high")
    routing = route(dossier(Student(postal_code=POSTAL_CODE[code])), table)
    assert (routing.departement, routing.departement_source) == (code, "student_postal_code")


@pytest.mark.parametrize(
    "postal_code, expected",
    [
        ("20000", "2A"),
        ("20100", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("20300", None),
        ("20900", None),
        ("97133", "977"),
        ("97150", "978"),
        ("97500", "975"),
        ("97100", "971"),
        ("98800", "988"),
        ("98000", "980"),
        ("7501", None),
        ("750011", None),
        ("", None),
        (None, None),
    ],
)
def test_postal_code_rules(postal_code, expected):
    assert departement_from_postal_code(postal_code)[0] == expected


@pytest.mark.parametrize("postal_code", ["75008 CEDEX 08", "92042 PARIS LA DEFENSE CEDEX"])
def test_cedex_codes_keep_their_prefix_but_are_low_confidence(postal_code):
    """RULES.md: "CEDEX codes keep the département prefix but are low-confidence"."""
    assert departement_from_postal_code(postal_code) == (postal_code[:2], "low")
    assert departement_from_postal_code(postal_code[:5], city="Paris Cedex 08") == (postal_code[:2], "low")
    assert departement_from_postal_code(postal_code[:5]) == (postal_code[:2], "high")


# The four codes routed with "high" confidence to the wrong département, with a commune of each side.
@pytest.mark.parametrize(
    "postal_code, city, departement",
    [
        ("33220", "Port-Sainte-Foy-et-Ponchapt", "24"),
        ("33220", "Sainte-Foy-la-Grande", "33"),
        ("52100", "Saint-Eulien", "51"),
        ("52100", "Saint-Dizier", "52"),
        ("05130", "Piégut", "04"),
        ("05130", "Tallard", "05"),
        ("01410", "Lajoux", "39"),
        ("01410", "Chézery-Forens", "01"),
        ("42620", "Saint-Pierre-Laval", "03"),
        ("01200", "Éloise", "74"),
    ],
)
def test_a_shared_postal_code_is_settled_by_the_commune(postal_code, city, departement):
    """RULES.md: "About twenty postal codes span two départements … prefer the INSEE commune code when DS gives
    one" — and, without it, the commune's name from La Poste's table."""
    assert departement_from_postal_code(postal_code, city=city) == (departement, "high")


@pytest.mark.parametrize("postal_code", ["33220", "52100", "05130", "01410", "42620", "01200", "05110"])
def test_a_shared_postal_code_without_its_commune_is_low_confidence(postal_code):
    departement, confidence = departement_from_postal_code(postal_code)
    assert confidence == "low" and departement in shared_postal_code_departements(postal_code)


def test_the_table_has_the_sixteen_shared_codes_of_la_poste():
    table = load_postal_codes()
    shared = {code for code in table.communes if len(table.departements(code)) > 1}
    assert shared == set(
        "01200 01410 01590 05110 05130 05160 05700 06260 13780 21340 33220 37160 42620 43450 48250 52100".split()
    )


@pytest.mark.parametrize("postal_code, departement", [("94390", "91"), ("97133", "977"), ("97150", "978")])
def test_a_code_belonging_whole_to_another_departement_is_certain(postal_code, departement):
    """94390 (listed as shared by RULES.md) is only Paray-Vieille-Poste, Essonne, in La Poste's data."""
    assert departement_from_postal_code(postal_code) == (departement, "high")


def test_insee_code_wins_over_a_shared_postal_code():
    assert departement_from_postal_code("42620", insee_code="03250") == ("03", "high")
    assert departement_from_postal_code("42620", insee_code="42257", city="Saint-Pierre-Laval") == ("42", "high")


@pytest.mark.parametrize(
    "line, message",
    [
        ("3322O,X,24335,24", "postal_codes.csv line 3: postal code '3322O' is not five digits"),
        ("33220,X,24335,33", "postal_codes.csv line 3: département '33' is not the one of INSEE code 24335 (24)"),
        ("33220,X,2433,24", "postal_codes.csv line 3: '2433' is not an INSEE commune code"),
        ("33220,,24335,24", "postal_codes.csv line 3: the commune has no name"),
    ],
)
def test_an_invalid_postal_codes_file_is_refused_naming_the_line(tmp_path, line, message):
    path = tmp_path / "postal_codes.csv"
    path.write_text("# comment\npostal_code,commune,insee_code,departement\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=re.escape(message)):
        load_postal_codes(path)


@pytest.mark.parametrize(
    "insee, expected",
    [
        ("75111", "75"),
        ("2A004", "2A"),
        ("2B033", "2B"),
        ("97101", "971"),
        ("97611", "976"),
        ("98818", "988"),
        ("20004", None),
        ("7511", None),
        (None, None),
    ],
)
def test_departement_from_insee_code(insee, expected):
    assert departement_from_insee_code(insee) == expected


def test_student_address_comes_before_postal_code_and_prefers_insee(table):
    student = Student(postal_code="42620", city_insee_code="03123", address_departement="42")
    routing = route(dossier(student), table)
    assert (routing.departement, routing.departement_source) == ("03", "student_address")


def test_unknown_permit_code_falls_back_to_the_address(table):
    routing = route(dossier(Student(permit_departement="99", address_departement="75")), table)
    assert (routing.departement, routing.departement_source) == ("75", "student_address")


def test_missing_address_goes_to_the_fallback_groupe(table):
    routing = route(dossier(), table)
    assert routing.fallback and not routing.out_of_scope
    assert routing.departement is None and routing.service is None
    assert routing.groupe_label == "À orienter manuellement"
    assert routing.reason.startswith("Aucun département n'a pu être déterminé")


@pytest.mark.parametrize(
    "student",
    [
        Student(permit_departement="988"),
        Student(postal_code="98800"),
        Student(postal_code="98000"),  # Monaco
        Student(city_insee_code="98735"),
    ],
)
def test_out_of_scope_territories_go_to_the_fallback(table, student):
    routing = route(dossier(student), table)
    assert routing.out_of_scope and routing.fallback
    assert routing.groupe_label == table.fallback_groupe
    assert "hors du périmètre" in routing.reason


@pytest.mark.parametrize("code", ["975", "977", "978"])
def test_collectivities_have_their_own_closed_service(table, code):
    routing = route(dossier(Student(permit_departement=code)), table)
    assert routing.departement == code and not routing.out_of_scope
    assert routing.fallback and routing.service == table.service_for(code).name


def test_employer_key_routes_by_the_etablissement(table):
    mapped = dossier(Student(permit_departement="75"), Employer(departement="92", postal_code="92100"))
    by_permit, by_employer = route(mapped, table), route(mapped, table, key="employer")
    assert (by_permit.departement, by_permit.employer_departement) == ("75", "92")
    assert (by_employer.departement, by_employer.departement_source) == ("92", "employer")
    assert by_employer.groupe_label == table.service_for("92").groupe_label


def test_employer_key_uses_employer_postal_code_then_the_permit(table):
    assert route(dossier(employer=Employer(postal_code="33000")), table, key="employer").departement == "33"
    fallback = route(dossier(Student(permit_departement="13")), table, key="employer")
    assert (fallback.departement, fallback.departement_source) == ("13", "permit")


def test_unknown_routing_key_is_a_programming_error(table):
    with pytest.raises(ValueError):
        route(dossier(), table, key="prefecture")


# --- the table is validated at load ---


def write_services(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "services.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["service_id", "service", "groupe_label", "email", "open", "departements"])
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [["a", "A", "G", "a@example.gouv.fr", "oui", "75"], ["b", "B", "G", "b@example.gouv.fr", "oui", "92"]],
            "duplicate groupe_label",
        ),
        ([["a", "A", "G", "a@example.gouv.fr", "oui", "20"]], "unknown département code '20'"),
        (
            [["a", "A", "G", "a@example.gouv.fr", "oui", "75"], ["b", "B", "H", "b@example.gouv.fr", "oui", "75 92"]],
            "already covered",
        ),
        ([["a", "A", "G", "a@example.gouv.fr", "peut-être", "75"]], "open flag"),
        ([["a", "A", "G", "pas-une-adresse", "oui", "75"]], "not an e-mail"),
        ([["a", "A", "G", "a@example.gouv.fr", "oui", "988"]], "out of scope"),
        ([["a", "A", "À orienter manuellement", "a@example.gouv.fr", "oui", "75"]], "fallback groupe"),
    ],
)
def test_invalid_services_file_is_refused_with_a_clear_error(tmp_path, rows, message):
    path = write_services(tmp_path, rows)
    with pytest.raises(DefinitionError, match=message):
        load_routing_table(DEPARTEMENTS_FILE, path)


def test_one_service_may_cover_several_departements(tmp_path):
    path = write_services(
        tmp_path,
        [
            ["bethune", "Plateforme de Béthune", "PF Béthune", "pf-bethune@example.gouv.fr", "oui", "59 62 80"],
        ],
    )
    table = load_routing_table(DEPARTEMENTS_FILE, path)
    routing = route(dossier(Student(permit_departement="80")), table)
    assert (routing.service, routing.groupe_label, routing.fallback) == ("Plateforme de Béthune", "PF Béthune", False)
    assert route(dossier(Student(permit_departement="75")), table).reason.startswith("Aucun service")


def test_invalid_departements_file_is_refused(tmp_path):
    path = tmp_path / "departements.csv"
    path.write_text("code,name,kind,wif_open\n75,Paris,departement,oui\n75,Paris,departement,oui\n")
    with pytest.raises(DefinitionError, match="listed twice"):
        load_routing_table(path, SERVICES_FILE)


def test_unrouted_goes_to_the_fallback_groupe():
    routing = Routing.unrouted("Lecture automatique impossible.")
    assert (routing.groupe_label, routing.fallback, routing.departement) == ("À orienter manuellement", True, None)
    assert routing.reason == "Lecture automatique impossible."


# --- confidence of the routing ---


def test_a_shared_postal_code_alone_routes_with_low_confidence_and_says_why(table):
    routing = route(dossier(Student(postal_code="33220", address_label="3 rue X 33220")), table)
    assert (routing.departement, routing.departement_source, routing.confidence) == ("33", "student_postal_code", "low")
    assert routing.uncertainty == (
        "Département 33 déduit du code postal 33220 de l'adresse de l'étudiant (partagé par "
        "les départements 33 et 24, sans commune reconnue) : à vérifier."
    )
    named = route(dossier(Student(postal_code="33220", city="Port-Sainte-Foy-et-Ponchapt")), table)
    assert (named.departement, named.confidence, named.uncertainty) == ("24", "high", None)


def test_a_cedex_employer_address_routes_with_low_confidence(table):
    employer = Employer(postal_code="92042", city="PARIS LA DEFENSE CEDEX")
    routing = route(dossier(Student(), employer), table, key="employer")
    assert (routing.departement, routing.confidence) == ("92", "low")
    assert "CEDEX" in routing.uncertainty
    with_insee = route(
        dossier(Student(), Employer(postal_code="92042", city="PARIS LA DEFENSE CEDEX", city_insee_code="92062")),
        table,
        key="employer",
    )
    assert (with_insee.departement, with_insee.confidence) == ("92", "high")


def test_the_employer_insee_code_settles_its_shared_postal_code(table):
    employer = Employer(postal_code="33220", city_insee_code="24335")  # Port-Sainte-Foy-et-Ponchapt, Dordogne
    routing = route(dossier(Student(permit_departement="75"), employer), table)
    assert routing.employer_departement == "24"
    assert route(dossier(Student(), employer), table, key="employer").departement == "24"


def test_the_permit_departement_is_certain(table):
    routing = route(dossier(Student(permit_departement="33", postal_code="33220")), table)
    assert (routing.departement, routing.confidence, routing.uncertainty) == ("33", "high", None)
