"""Malformed values (issue #15, items 2 and 7): a defect in a champ that a rule reads, or in a required
champ, is an issue naming that champ, so the dossier is never « Complet »; and every mapped value fits
the column it is stored in (numbers in range, text no longer than its column, no NUL, no lone surrogate).

The defects are those a fault campaign of 1,000 malformed dossiers found (some came out « Complet »,
some stopped the sync); each is applied to the complete fixture and run through the real mapping,
routing and checks (no network, no database).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Integer, Numeric, String

from core import models
from mappings import checks
from mappings.dossier import champs_by_key
from mappings.procedure import default_procedure
from mappings.values import fit, limit_of
from tests.sync_helpers import evaluator as evaluator_for
from tests.sync_helpers import recorded_binding

FIXTURES = Path(__file__).parent / "fixtures"
PROCEDURE = default_procedure()
COMPLETE = json.loads((FIXTURES / "dossier_complete.json").read_text())
LONG_TEXT = "Employée polyvalente " * 500  # 10,500 characters


@dataclass(frozen=True)
class Defect:
    key: str  # procedure key of the champ the issue must name
    apply: Callable[[dict], None]  # changes that champ of a raw DS dossier in place
    again: dict | None = None  # the champ a second time in the dossier, with these values


def values(**aliases) -> Callable[[dict], None]:
    def apply(champ: dict) -> None:
        champ.update(aliases)

    return apply


def address(**changes) -> Callable[[dict], None]:
    def apply(champ: dict) -> None:
        champ["address"].update(changes)

    return apply


def etablissement(**changes) -> Callable[[dict], None]:
    def apply(champ: dict) -> None:
        champ["etablissement"].update(changes)

    return apply


def other_job_row(*, blank: bool = True) -> Callable[[dict], None]:
    """One more row in « autres emplois »: blank (its champs empty), or without champs at all."""

    def apply(champ: dict) -> None:
        row = copy.deepcopy(champ["rows"][0])
        row["id"] += "2"
        for child in row["champs"]:
            child.update(stringValue="", text="", decimalNumber=None)
        champ["rows"].append(row if blank else {"id": row["id"], "champs": []})

    return apply


def nothing(champ: dict) -> None:
    pass


def first_file(**changes) -> Callable[[dict], None]:
    def apply(champ: dict) -> None:
        champ["files"][0].update(changes)

    return apply


DEFECTS = {
    # Came out « Complet » in the campaign.
    "contrat_type empty": Defect("contrat_type", values(choice=None, stringValue="")),
    "prénom empty": Defect("prenom", values(text="", stringValue="")),
    "birth date empty": Defect("date_naissance", values(date=None, stringValue="")),
    "titre expiry empty": Defect("titre_date_expiration", values(date=None, stringValue=None)),
    "hours -1e308": Defect("heures_nombre", values(decimalNumber=-1e308, stringValue="-1e+308")),
    "hours 123456789012": Defect("heures_nombre", values(decimalNumber=123456789012, stringValue="123456789012")),
    "contract start 25:61": Defect(
        "contrat_date_debut", values(date="2026-06-15T25:61:00Z", stringValue="2026-06-15T25:61:00Z")
    ),
    "titre type not in the list": Defect(
        "titre_type", values(choice="Passeport talent", stringValue="Passeport talent")
    ),
    # Stopped the sync on SQLite or PostgreSQL.
    "salary 1e308": Defect("salaire_brut_mensuel", values(decimalNumber=1e308, stringValue="1e+308")),
    "salary NaN": Defect("salaire_brut_mensuel", values(decimalNumber=float("nan"), stringValue="NaN")),
    "salary NaN as text": Defect("salaire_brut_mensuel", values(decimalNumber=None, stringValue="NaN")),
    "hours infinite": Defect("heures_nombre", values(decimalNumber=float("inf"), stringValue="Infinity")),
    "job title of 10,000 characters": Defect("emploi_intitule", values(text=LONG_TEXT, stringValue=LONG_TEXT)),
    "phone of 10,000 characters": Defect("telephone_etudiant", values(text="0" * 10_000, stringValue="0" * 10_000)),
    "NUL in the last name": Defect("nom", values(text="Exemple\x00Dupont", stringValue="Exemple\x00Dupont")),
    "lone surrogate in the first name": Defect("prenom", values(text="Am\udce9lie", stringValue="Am\udce9lie")),
    "lone surrogate in the birth place": Defect(
        "lieu_naissance", values(text="Ville\ud800", stringValue="Ville\ud800")
    ),
    "file size 99999999999999999999999": Defect("pj_passeport", first_file(byteSizeBigInt="99999999999999999999999")),
    "NUL in a file name": Defect("pj_contrat", first_file(filename="contrat\x00.pdf")),
    # A code longer than its column is not a code: before, it was dropped without a word.
    "nationality as an alpha-3 code": Defect("nationalite", values(pays={"name": "Maroc", "code": "MAR"})),
    "civilité unknown": Defect("civilite", values(civilite="Monseigneur", stringValue="Monseigneur")),
    "nationality code not two letters": Defect("nationalite", values(pays={"name": "Maroc", "code": "12"})),
    "titre département unreadable": Defect("titre_departement", values(departement=None, stringValue="Planète Mars")),
    "residence answer unreadable": Defect("residence_un_an", values(yesNo=None, stringValue="Peut-être")),
    # Came out « Complet » in the second campaign (issue #21, item 9).
    "autres emplois: an empty row": Defect("autres_emplois", other_job_row()),
    "autres emplois: a row without champs": Defect("autres_emplois", other_job_row(blank=False)),
    "titre number with zero-width spaces": Defect(
        "titre_numero", values(text="X000\u200b000\u200b000", stringValue="X000\u200b000\u200b000")
    ),
    "titre number with a byte order mark": Defect(
        "titre_numero", values(text="\ufeffX000000000", stringValue="\ufeffX000000000")
    ),
    "phone with a right-to-left override": Defect(
        "telephone_etudiant", values(text="06 00 \u202e00 00 00", stringValue="06 00 \u202e00 00 00")
    ),
    "employer e-mail with a zero-width space": Defect(
        "employeur_email", values(text="rh@entre\u200bprise.example", stringValue="rh@entre\u200bprise.example")
    ),
    "contrat_type given twice": Defect("contrat_type", nothing, again={"choice": "CDI", "stringValue": "CDI"}),
    "contrat_type given twice alike": Defect("contrat_type", nothing, again={}),
    "salary 0": Defect("salaire_brut_mensuel", values(decimalNumber=0, stringValue="0")),
    "titre expiring 2999-12-31": Defect("titre_date_expiration", values(date="2999-12-31", stringValue="2999-12-31")),
    "titre starting 0001-01-01": Defect("titre_date_debut", values(date="0001-01-01", stringValue="0001-01-01")),
    "contract ending 2999-12-31": Defect("contrat_date_fin", values(date="2999-12-31", stringValue="2999-12-31")),
    "titre département 2C": Defect("titre_departement", values(departement={"name": "Aisne", "code": "2C"})),
    "workplace département 9A": Defect("lieu_travail", address(departmentCode="9A")),
    "workplace postal code of four digits": Defect("lieu_travail", address(postalCode="9210")),
    "student's INSEE code malformed": Defect("adresse_etudiant", address(cityCode="751A1")),
    "employer NAF code malformed": Defect("employeur_siret", etablissement(naf="47-11")),
}


@pytest.fixture(scope="module")
def evaluator():
    return evaluator_for()


def with_defects(*names: str) -> dict:
    raw = copy.deepcopy(COMPLETE)
    champs = champs_by_key(raw, PROCEDURE, recorded_binding())
    for name in names:
        defect = DEFECTS[name]
        defect.apply(champs[defect.key])
        if defect.again is not None:
            raw["champs"].append({**copy.deepcopy(champs[defect.key]), **defect.again})
    return raw


def misfits(rows: models.DossierRows) -> list[str]:
    """Values their column would refuse (PostgreSQL) or that SQLite's driver cannot bind."""
    tables = [
        (models.Dossier, [rows.dossier]),
        (models.Student, [rows.student]),
        (models.Employer, [rows.employer]),
        (models.Contract, [rows.contract]),
        (models.DocumentFile, rows.documents),
        (models.MappingIssue, rows.issues),
        (models.Finding, rows.findings),
    ]
    problems = []
    for model, records in tables:
        columns = model.__table__.columns
        for record in records:
            for name, value in record.items():
                kind, where = columns[name].type, f"{model.__tablename__}.{name} = {value!r:.60}"
                if isinstance(value, str):
                    try:
                        value.encode("utf-8")
                    except UnicodeEncodeError:
                        problems.append(f"{where}: lone surrogate")
                    if "\x00" in value:
                        problems.append(f"{where}: NUL")
                    if isinstance(kind, String) and kind.length and len(value) > kind.length:
                        problems.append(f"{where}: {len(value)} characters > {kind.length}")
                elif isinstance(value, Decimal):
                    if not value.is_finite():
                        problems.append(f"{where}: not finite")
                    elif (
                        isinstance(kind, Numeric)
                        and kind.precision
                        and abs(round(value, kind.scale or 0)) >= Decimal(10) ** (kind.precision - (kind.scale or 0))
                    ):
                        problems.append(f"{where}: overflows numeric({kind.precision}, {kind.scale})")
                elif isinstance(value, int) and not isinstance(value, bool) and isinstance(kind, (Integer, BigInteger)):
                    if not -(2**63) <= value < 2**63:
                        problems.append(f"{where}: overflows a 64-bit integer")
    return problems


def issues_naming(evaluation, key: str) -> list[str]:
    return [issue.message for issue in evaluation.mapped.issues if issue.field == key]


def test_the_complete_fixture_is_complete_without_a_defect(evaluator):
    evaluation = evaluator.evaluate(copy.deepcopy(COMPLETE))
    assert (evaluation.status, evaluation.mapped.issues, misfits(evaluation.rows())) == (checks.COMPLET, [], [])


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_a_defect_is_an_issue_naming_the_champ_and_the_dossier_is_to_be_checked(evaluator, name):
    key = DEFECTS[name].key
    evaluation = evaluator.evaluate(with_defects(name))

    messages = issues_naming(evaluation, key)
    assert messages, [(i.field, i.code, i.message[:80]) for i in evaluation.mapped.issues]
    assert all(PROCEDURE.champ(key).label in message for message in messages)
    assert evaluation.status == checks.A_VERIFIER
    assert misfits(evaluation.rows()) == []


def test_an_impossible_time_is_named_with_the_value_as_typed(evaluator):
    [message] = issues_naming(evaluator.evaluate(with_defects("contract start 25:61")), "contrat_date_debut")
    assert message == "« Date de début du contrat » : valeur illisible « 2026-06-15T25:61:00Z »"


def test_a_date_with_a_valid_time_still_reads_as_its_day(evaluator):
    raw = copy.deepcopy(COMPLETE)
    champs_by_key(raw, PROCEDURE, recorded_binding())["contrat_date_debut"].update(date="2025-01-06T09:30:00+01:00")
    evaluation = evaluator.evaluate(raw)
    assert evaluation.mapped.issues == [] and str(evaluation.mapped.contract.start) == "2025-01-06"


def test_an_implausible_number_is_dropped_so_no_rule_reads_it(evaluator):
    evaluation = evaluator.evaluate(with_defects("hours -1e308"))
    contract = evaluation.mapped.contract
    assert (contract.hours_value, contract.hours_per_week, evaluation.hours_year) == (None, None, None)
    # -1e308 hours a week used to put the dossier under the threshold: « Hors périmètre ».
    assert not any(f.code.startswith("out_of_scope") for f in evaluation.findings)


def test_monthly_hours_are_judged_per_week(evaluator):
    """600 h a month is 138 h a week: plausible, if not legal; 800 h a month is more than a month holds."""
    for hours, plausible in ((600, True), (800, False)):
        raw = copy.deepcopy(COMPLETE)  # its hours are given per month
        champs_by_key(raw, PROCEDURE, recorded_binding())["heures_nombre"].update(
            decimalNumber=hours, stringValue=str(hours)
        )
        evaluation = evaluator.evaluate(raw)
        assert (issues_naming(evaluation, "heures_nombre") == []) is plausible, hours
        assert (evaluation.mapped.contract.hours_per_week is not None) is plausible


def test_the_plausible_bounds_are_rules_data(evaluator):
    bounds = checks.default_rules().section("plausible_numbers")
    assert set(bounds) == {"heures_nombre", "autre_heures_semaine", "salaire_brut_mensuel"}
    raw = copy.deepcopy(COMPLETE)
    champs_by_key(raw, PROCEDURE, recorded_binding())["salaire_brut_mensuel"].update(
        decimalNumber=bounds["salaire_brut_mensuel"]["max"] + 1
    )
    assert issues_naming(evaluator.evaluate(raw), "salaire_brut_mensuel")


def test_too_long_text_is_truncated_to_its_column_with_an_issue(evaluator):
    evaluation = evaluator.evaluate(with_defects("job title of 10,000 characters"))
    length = models.Contract.__table__.c.job_title.type.length
    assert evaluation.mapped.contract.job_title == LONG_TEXT.strip()[:length].strip()
    [message] = issues_naming(evaluation, "emploi_intitule")
    assert "tronqué" in message and len(message) < 300  # the message does not quote 10,000 characters


def test_invalid_characters_are_removed_with_an_issue(evaluator):
    evaluation = evaluator.evaluate(with_defects("NUL in the last name", "lone surrogate in the first name"))
    assert evaluation.mapped.student.last_name == "EXEMPLEDUPONT"
    assert evaluation.mapped.student.first_name == "Am\ufffdlie"
    assert {(i.field, i.code) for i in evaluation.mapped.issues} == {
        ("nom", "invalid_characters"),
        ("prenom", "invalid_characters"),
    }
    assert all("caractères invalides" in m for key in ("nom", "prenom") for m in issues_naming(evaluation, key))


def test_a_long_text_with_invalid_characters_says_both():
    value, problem = fit("\x00" + "x" * 400, limit_of("contract.job_title"))
    assert (len(value), problem.code) == (300, "text_truncated")
    assert problem.reason == "caractères invalides retirés, texte de 400 caractères tronqué à 300"


def test_an_unknown_option_of_any_drop_down_is_an_issue_and_no_value(evaluator):
    evaluation = evaluator.evaluate(with_defects("titre type not in the list"))
    assert evaluation.mapped.student.permit_kind is None
    assert issues_naming(evaluation, "titre_type") == [
        "« Document autorisant le séjour » : option inconnue « Passeport talent »."
    ]


def test_a_required_champ_that_gives_no_value_says_whether_it_was_blank_or_unreadable(evaluator):
    unreadable = evaluator.evaluate(with_defects("titre département unreadable"))
    assert issues_naming(unreadable, "titre_departement") == [
        "« Département qui figure sur le titre de séjour » : valeur illisible « Planète Mars »"
    ]
    blank = evaluator.evaluate(with_defects("birth date empty"))
    assert issues_naming(blank, "date_naissance") == ["« Date de naissance » : champ obligatoire vide."]


def test_an_empty_optional_champ_is_not_an_issue(evaluator):
    raw = copy.deepcopy(COMPLETE)
    champs_by_key(raw, PROCEDURE, recorded_binding())["titre_prefecture"].update(text="", stringValue="")
    assert evaluator.evaluate(raw).mapped.issues == []


def test_issue_messages_and_fields_fit_their_columns_whatever_the_champ_label(evaluator):
    raw = copy.deepcopy(COMPLETE)
    raw["champs"].append(
        {
            "id": "x",
            "champDescriptorId": "x" * 5000,
            "__typename": "TextChamp",
            "label": "Question\x00 ajoutée " + "é" * 5000 + "\udc80",
            "stringValue": "oui",
        }
    )
    evaluation = evaluator.evaluate(raw)
    assert [i.code for i in evaluation.mapped.issues] == ["unknown_champ"]
    assert misfits(evaluation.rows()) == []


# --- a generated campaign: 300 dossiers, each with one to three defects on different champs ---


def _distinct_champs(names: list[str]) -> bool:
    keys = [DEFECTS[name].key for name in names]
    return len(set(keys)) == len(keys)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(sorted(DEFECTS)), min_size=1, max_size=3, unique=True).filter(_distinct_champs))
def test_no_malformed_dossier_is_complete_and_every_defect_is_named(evaluator, names):
    evaluation = evaluator.evaluate(with_defects(*names))

    assert evaluation.status != checks.COMPLET
    for name in names:
        assert issues_naming(evaluation, DEFECTS[name].key), name
    assert misfits(evaluation.rows()) == []


def test_an_option_padded_with_spaces_is_that_option(evaluator):
    """`"CDD "` is the option CDD, not a malformed value (docs/ds-malformed-values.md#a-padded-option): DS's editor
    strips each option it saves, so a value that differs from one only by spaces around it can be no other; an
    invisible character is not a space, and makes an unknown option."""
    raw = copy.deepcopy(COMPLETE)
    champs_by_key(raw, PROCEDURE, recorded_binding())["contrat_type"].update(choice="CDD ", stringValue="CDD ")
    evaluation = evaluator.evaluate(raw)
    assert (evaluation.status, evaluation.mapped.issues) == (checks.COMPLET, [])
    assert evaluation.mapped.contract.contract_type.name == "CDD"
    champs_by_key(raw, PROCEDURE, recorded_binding())["contrat_type"].update(choice="CDD\u200b")
    assert issues_naming(evaluator.evaluate(raw), "contrat_type") == [
        "« Type de contrat » : option inconnue « CDD\u200b »."
    ]


def test_an_identifier_keeps_its_value_without_the_invisible_characters(evaluator):
    evaluation = evaluator.evaluate(
        with_defects("titre number with zero-width spaces", "phone with a right-to-left override")
    )
    assert evaluation.mapped.student.permit_number == "X000000000"  # the validity check finds it
    assert evaluation.mapped.student.phone == "06 00 00 00 00"
    assert issues_naming(evaluation, "titre_numero") == [
        "« Numéro du titre de séjour » : caractères invisibles retirés (U+200B)"
    ]


def test_a_departement_code_outside_the_list_routes_nowhere(evaluator):
    """ "2C" used to be read as Aisne's 02 and routed to its service; now it is no code, named."""
    evaluation = evaluator.evaluate(with_defects("titre département 2C"))
    assert evaluation.mapped.student.permit_departement is None
    assert issues_naming(evaluation, "titre_departement") == [
        "« Département qui figure sur le titre de séjour » : code de département illisible « 2C »"
    ]


def test_a_campaign_of_1000_fuzzed_dossiers_leaves_none_of_them_complete(evaluator):
    """The second fault campaign (issue #21, item 9): 1,000 dossiers, each with one to three defects drawn from
    every kind above on different champs; before, 45 came out « Complet »."""
    rng = random.Random(21)
    names = sorted(DEFECTS)
    complete, unnamed = [], []
    for _ in range(1000):
        drawn = []
        for name in rng.sample(names, rng.randint(1, 3)):
            if DEFECTS[name].key not in {DEFECTS[d].key for d in drawn}:
                drawn.append(name)
        evaluation = evaluator.evaluate(with_defects(*drawn))
        if evaluation.status == checks.COMPLET:
            complete.append(drawn)
        unnamed += [name for name in drawn if not issues_naming(evaluation, DEFECTS[name].key)]
    assert complete == [] and unnamed == []


# --- whatever a champ holds, every value fits its column ---

weird_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=30) | st.builds(
    lambda char, n: char * n, st.sampled_from(["x", "é", "\x00", "\udc80", "\ud83d", " "]), st.integers(0, 12_000)
)
weird_numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**30), 10**30)
weird_values = st.none() | weird_text | weird_numbers | st.booleans()
ALIASES = ["stringValue", "text", "date", "choice", "civilite", "decimalNumber", "integerNumber", "yesNo"]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_whatever_the_champs_hold_every_mapped_value_fits_its_column(evaluator, data):
    raw = copy.deepcopy(COMPLETE)
    for champ in raw["champs"]:
        if data.draw(st.booleans()):
            champ[data.draw(st.sampled_from(ALIASES))] = data.draw(weird_values)
        for file in champ.get("files") or []:
            if data.draw(st.booleans()):
                file[data.draw(st.sampled_from(["filename", "contentType", "checksum", "byteSizeBigInt"]))] = data.draw(
                    weird_text | st.integers(-(10**30), 10**30).map(str)
                )
    assert misfits(evaluator.evaluate(raw).rows()) == []
