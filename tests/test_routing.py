import csv
from pathlib import Path

import pytest

from mappings.procedure import DefinitionError, default_procedure
from mappings.records import Employer, MappedDossier, Student
from mappings.routing import (
    DEPARTEMENTS_FILE,
    SERVICES_FILE,
    departement_from_insee_code,
    departement_from_postal_code,
    Routing,
    load_routing_table,
    route,
)

METROPOLITAN = [f"{n:02d}" for n in range(1, 20)] + ["2A", "2B"] + [f"{n:02d}" for n in range(21, 96)]
OVERSEAS = ["971", "972", "973", "974", "976"]
ALL_DEPARTEMENTS = METROPOLITAN + OVERSEAS
# RULES.md: the 36 départements where Work in France was open at the end.
WIF_OPEN = set("02 10 13 21 25 33 35 36 38 42 45 51 52 54 55 57 59 60 62 63 64 67 68 69 74 75 76 77 78 80 88 91 "
               "92 93 94 95".split())
# One postal code per département, chosen to exercise the special cases.
POSTAL_CODE = {code: f"{code}000" for code in METROPOLITAN if code not in ("2A", "2B")}
POSTAL_CODE.update({"2A": "20000", "2B": "20200", "971": "97100", "972": "97200", "973": "97300", "974": "97400",
                    "976": "97600"})


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


@pytest.mark.parametrize("postal_code, expected", [
    ("20000", "2A"), ("20100", "2A"), ("20200", "2B"), ("20600", "2B"), ("20300", None), ("20900", None),
    ("97133", "977"), ("97150", "978"), ("97500", "975"), ("97100", "971"), ("98800", "988"), ("98000", "980"),
    ("7501", None), ("750011", None), ("", None), (None, None),
])
def test_postal_code_rules(postal_code, expected):
    assert departement_from_postal_code(postal_code)[0] == expected


@pytest.mark.parametrize("postal_code", ["75008 CEDEX 08", "42620", "94390", "01200", "05110"])
def test_cedex_and_shared_postal_codes_are_low_confidence(postal_code):
    departement, confidence = departement_from_postal_code(postal_code)
    assert departement == postal_code[:2]
    assert confidence == "low"


def test_insee_code_wins_over_a_shared_postal_code():
    assert departement_from_postal_code("42620", insee_code="03123") == ("03", "high")


@pytest.mark.parametrize("insee, expected", [
    ("75111", "75"), ("2A004", "2A"), ("2B033", "2B"), ("97101", "971"), ("97611", "976"), ("98818", "988"),
    ("20004", None), ("7511", None), (None, None),
])
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


@pytest.mark.parametrize("student", [
    Student(permit_departement="988"),
    Student(postal_code="98800"),
    Student(postal_code="98000"),  # Monaco
    Student(city_insee_code="98735"),
])
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


@pytest.mark.parametrize("rows, message", [
    ([["a", "A", "G", "a@example.gouv.fr", "oui", "75"], ["b", "B", "G", "b@example.gouv.fr", "oui", "92"]],
     "duplicate groupe_label"),
    ([["a", "A", "G", "a@example.gouv.fr", "oui", "20"]], "unknown département code '20'"),
    ([["a", "A", "G", "a@example.gouv.fr", "oui", "75"], ["b", "B", "H", "b@example.gouv.fr", "oui", "75 92"]],
     "already covered"),
    ([["a", "A", "G", "a@example.gouv.fr", "peut-être", "75"]], "open flag"),
    ([["a", "A", "G", "pas-une-adresse", "oui", "75"]], "not an e-mail"),
    ([["a", "A", "G", "a@example.gouv.fr", "oui", "988"]], "out of scope"),
    ([["a", "A", "À orienter manuellement", "a@example.gouv.fr", "oui", "75"]], "fallback groupe"),
])
def test_invalid_services_file_is_refused_with_a_clear_error(tmp_path, rows, message):
    path = write_services(tmp_path, rows)
    with pytest.raises(DefinitionError, match=message):
        load_routing_table(DEPARTEMENTS_FILE, path)


def test_one_service_may_cover_several_departements(tmp_path):
    path = write_services(tmp_path, [
        ["bethune", "Plateforme de Béthune", "PF Béthune", "pf-bethune@example.gouv.fr", "oui", "59 62 80"],
    ])
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
