"""One test per row of issue #12's table: each APT rule as the sources state it.

The per-rule positive and negative tests, each citing its source sentence,
live beside their module (test_checks.py, test_routing.py…); these ones
check each row end to end, from a mapped dossier (or a snapshot) to what
the connector decides.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from mappings import apt_period
from mappings.checks import check_decision
from mappings.dossier import EXPECTED_TYPENAMES
from mappings.procedure import default_procedure
from mappings.rules import default_rules
from notifications.apt_dates import apt_date_problems
from tests.snapshots import make_snapshot
from tests.sync_helpers import evaluator as evaluator_for
from tests.sync_helpers import recorded_binding
from validity.derive import derive_record, published_period

PEPPER = b"row-test-pepper-" + b"z" * 40
PROCEDURE = default_procedure()
BINDING = recorded_binding()
COMPLETE = json.loads((Path(__file__).parent / "fixtures" / "dossier_complete.json").read_text())
INTERNE, ATER = "Interne en médecine, pharmacie ou odontologie", "Contrat d'ATER"


@pytest.fixture(scope="module")
def evaluator():
    return evaluator_for()


def dossier(**champs) -> dict:
    """The complete fixture (a Moroccan student, full time for six months: an APT is needed) with some champs
    replaced: `key=value` for a choice or text, `key=[filenames]` for a pièce justificative, `key=None` to drop it."""
    raw = copy.deepcopy(COMPLETE)
    for key, value in champs.items():
        definition, ds_id = PROCEDURE.champ(key), BINDING.id_of(key)
        raw["champs"] = [c for c in raw["champs"] if c["champDescriptorId"] != ds_id]
        if value is None:
            continue
        champ = {
            "id": ds_id,
            "champDescriptorId": ds_id,
            "label": definition.label,
            "__typename": sorted(EXPECTED_TYPENAMES[definition.type])[0],
        }
        if definition.type == "piece_justificative":
            champ["files"] = [
                {"filename": name, "contentType": "application/pdf", "byteSizeBigInt": "150000", "checksum": "eA=="}
                for name in value
            ]
            champ["stringValue"] = " ".join(value)
        elif definition.type == "drop_down_list":
            champ["choice"] = champ["stringValue"] = value
        elif definition.type == "yes_no":
            champ["yesNo"], champ["stringValue"] = value, "Oui" if value else "Non"
        elif definition.type == "decimal_number":
            champ["decimalNumber"], champ["stringValue"] = value, str(value)
        elif definition.type == "date":
            champ["date"] = champ["stringValue"] = value
        elif definition.type == "pays":
            champ["pays"], champ["stringValue"] = {"code": value, "name": value}, value
        elif definition.type == "siret":
            etablissement = copy.deepcopy(next(c for c in COMPLETE["champs"] if c["champDescriptorId"] == ds_id))
            etablissement["etablissement"]["siret"] = champ["stringValue"] = value
            champ = etablissement
        else:
            champ["text"] = champ["stringValue"] = value
        raw["champs"].append(champ)
    return raw


def outcome(evaluator, raw) -> tuple[str, list[str]]:
    evaluation = evaluator.evaluate(raw)
    return evaluation.status, [f"{f.code}:{f.field}" for f in evaluation.findings]


def test_the_complete_fixture_needs_an_apt_and_is_complete(evaluator):
    assert outcome(evaluator, dossier()) == ("complet", [])


FULL_TIME_YEAR = dict(
    heures_unite="Par semaine",
    contrat_date_debut="2025-06-01",
    contrat_date_fin="2026-05-31",
    titre_date_debut="2025-05-01",
    titre_date_expiration="2026-08-31",
)


def test_964_h_for_non_algerian_students(evaluator):
    """RULES.md: a non-Algerian student "may work 964 h per year (60 % of 1,607 h) without APT … Above 964 h: APT
    required"; issue #12: above it "the job must belong to the course of study"."""
    # 12 h a week (52 h a month) plus 6 h elsewhere, for six months: 450 h, no APT needed.
    status, findings = outcome(evaluator, dossier(heures_nombre=52))
    assert (status, findings) == ("hors_perimetre", ["out_of_scope_under_threshold:heures_nombre"])
    message = next(f.message for f in evaluator.evaluate(dossier(heures_nombre=52)).findings)
    assert "sous le seuil de 964 h" in message and "aucune APT n'est nécessaire" in message
    # Full time for a year: an APT is needed, and the job must belong to the course.
    assert outcome(evaluator, dossier(**FULL_TIME_YEAR, heures_nombre=29)) == ("complet", [])
    assert outcome(evaluator, dossier(**FULL_TIME_YEAR, heures_nombre=29, emploi_lien_formation=False)) == (
        "incomplet",
        ["job_outside_course:emploi_lien_formation"],
    )
    assert outcome(evaluator, dossier(**FULL_TIME_YEAR, heures_nombre=29, emploi_lien_formation=None)) == (
        "incomplet",
        ["course_link_unanswered:emploi_lien_formation"],
    )
    # An Algerian student needs an APT from the first hour: 450 h is complete.
    assert outcome(
        evaluator, dossier(heures_nombre=52, nationalite="DZ", titre_type="Certificat de résidence algérien étudiant")
    ) == ("complet", [])


def test_the_year_the_hours_are_counted_over(evaluator):
    """RULES.md: "the year runs in 12-month blocks from the titre's start"."""
    # 19 h a week plus 6 h elsewhere for 12 months: 1,304 h from the contract's start, but the titre's years
    # (from 1 September) hold 328 h and 975 h: above the threshold by the second one only.
    year = dict(FULL_TIME_YEAR, titre_date_debut="2024-09-01")
    assert outcome(evaluator, dossier(**year, heures_nombre=19)) == ("complet", [])
    assert evaluator.evaluate(dossier(**year, heures_nombre=19)).hours_year.hours.to_integral() == 975
    # 18 h: 312 h and 936 h, each under 964 h although 1,251 h in 12 months: no APT needed.
    assert outcome(evaluator, dossier(**year, heures_nombre=18))[0] == "hors_perimetre"


def test_contract_longer_than_12_months(evaluator):
    """RULES.md: an APT "lasts at most 12 months"; "APT duration ≤ 12 months (… warning for the contract)"."""
    longer = dict(FULL_TIME_YEAR, heures_nombre=29, contrat_date_fin="2026-06-01", titre_date_expiration="2027-08-31")
    assert outcome(evaluator, dossier(**longer)) == ("a_verifier", ["contract_longer_than_apt:contrat_date_fin"])
    assert outcome(evaluator, dossier(**{**longer, "contrat_date_fin": "2026-05-31"})) == ("complet", [])


@pytest.mark.parametrize(
    "nationality, validated, expected",
    [
        ("MA", True, ("a_verifier", ["apt_probably_not_needed:contrat_type"])),
        ("MA", False, ("complet", [])),
        ("DZ", True, ("complet", [])),
    ],
)
def test_opco_validated_apprenticeship(evaluator, nationality, validated, expected):
    """RULES.md: "apprenticeship validated by the OPCO (non-Algerian), since 2021 | probably no APT needed: warn,
    do not reject"; the new champ apprentissage_valide_opco feeds it."""
    permit = {"titre_type": "Certificat de résidence algérien étudiant"} if nationality == "DZ" else {}
    raw = dossier(
        contrat_type="Contrat d'apprentissage", nationalite=nationality, apprentissage_valide_opco=validated, **permit
    )
    assert outcome(evaluator, raw) == expected


def test_one_apt_period_rule(monkeypatch):
    """RULES.md: an APT "lasts at most 12 months". One rule, read from rules.yaml by every reader."""
    start, seven_months = date(2026, 1, 1), date(2026, 7, 31)
    snapshot = make_snapshot(state="accepte", birth_date=date(2001, 1, 1), apt_start=start, apt_end=seven_months)
    from tests.test_checks import complete

    mapped = complete()
    mapped.agent.apt_start, mapped.agent.apt_end, mapped.student.permit_expiry = start, seven_months, None

    assert check_decision(mapped) == [] and apt_date_problems(start, seven_months, None) == ()
    assert published_period(snapshot) is not None
    # The figure comes from rules.yaml: change it there and the checks, the
    # notifications and the validity record all follow, with no copy to update.
    monkeypatch.setitem(default_rules().raw["apt"], "max_months", 6)
    assert [f.code for f in check_decision(mapped)] == ["apt_too_long"]
    assert apt_date_problems(start, seven_months, None) == (apt_period.TOO_LONG,)
    assert published_period(snapshot) is None and derive_record(snapshot, PEPPER, date(2026, 3, 1)) is None


@pytest.mark.parametrize("apt_start, apt_end", [(None, None), (date(2026, 2, 1), None)])
def test_public_validity(apt_start, apt_end):
    """The validity record publishes the agent's decision and the agent's APT dates, never the contract's."""
    accepted = dict(
        state="accepte",
        birth_date=date(2001, 1, 1),
        contract_start=date(2026, 2, 1),
        contract_end=date(2026, 7, 31),
        permit_expiry=date(2026, 12, 31),
    )
    assert (
        derive_record(make_snapshot(**accepted, apt_start=apt_start, apt_end=apt_end), PEPPER, date(2026, 3, 1)) is None
    )
    decided = derive_record(
        make_snapshot(**accepted, apt_start=date(2026, 2, 3), apt_end=date(2026, 6, 30)), PEPPER, date(2026, 3, 1)
    )
    assert (decided.apt_start, decided.apt_end) == (date(2026, 2, 3), date(2026, 6, 30))


def test_interne_en_medecine(evaluator):
    """RULES.md: "interne (outside AP-HP) | attestation de recrutement (duration, salary); attestation of the head
    of department; certificat de scolarité showing DFMS or DFMSA enrolment"; the FAQ adds « Copie passeport avec nom
    et prénom, ou titre de séjour », and its four documents stand for the general ones."""
    one_piece = dossier(contrat_type=INTERNE, pj_interne_recrutement=["recrutement.pdf"])
    assert outcome(evaluator, one_piece) == (
        "incomplet",
        [
            "missing_document:pj_interne_chef_service",
            "missing_document:pj_interne_dfms",
            "missing_document:pj_interne_identite",
        ],
    )
    four = dict(
        contrat_type=INTERNE,
        pj_interne_recrutement=["recrutement.pdf"],
        pj_interne_chef_service=["chef_service.pdf"],
        pj_interne_dfms=["dfms.pdf"],
        pj_interne_identite=["passeport.pdf"],
    )
    assert outcome(evaluator, dossier(**four)) == ("complet", [])
    assert outcome(evaluator, dossier(**four, pj_passeport=[], pj_contrat=[], pj_inscription=[])) == ("complet", [])
    aphp = dossier(**four, employeur_siret="26750045200011")  # an AP-HP hospital (SIREN 267 500 452)
    assert outcome(evaluator, aphp) == ("hors_perimetre", ["out_of_scope_aphp_interne:employeur_siret"])


@pytest.mark.parametrize("document", ["arrete_nomination.pdf", "attestation.pdf", "pv_installation.pdf"])
def test_ater(evaluator, document):
    """RULES.md: "ATER | the ATER contract with start date + appointment arrêté, attestation or PV d'installation"."""
    assert outcome(evaluator, dossier(contrat_type=ATER)) == ("incomplet", ["missing_document:pj_ater"])
    assert outcome(evaluator, dossier(contrat_type=ATER, pj_ater=[document])) == ("complet", [])
    assert "attestation ou procès-verbal" in PROCEDURE.champ("pj_ater").label


def test_renewal_set(evaluator):
    """RULES.md: "during a renewal the set of three: convocation, old titre, récépissé", each recto/verso;
    ANEF: "at most 3 files per document"."""
    renewal = dict(
        titre_type="Récépissé de demande de renouvellement",
        pj_titre_sejour=["recepisse_recto.pdf", "recepisse_verso.pdf"],
        pj_convocation=["convocation_recto.pdf", "convocation_verso.pdf"],
        pj_ancien_titre=["ancien_titre_recto.pdf", "ancien_titre_verso.pdf"],
    )
    assert outcome(evaluator, dossier(**renewal)) == ("complet", [])
    without_convocation = {**renewal, "pj_convocation": None}
    assert outcome(evaluator, dossier(**without_convocation)) == ("incomplet", ["missing_document:pj_convocation"])


def test_file_rules(evaluator, monkeypatch):
    """ANEF (configurable): "PDF / JPEG / PNG, at most 10 MB each"; the message names what rules.yaml allows."""
    raw = dossier(pj_contrat=["contrat.odt"])
    [message] = [f.message for f in evaluator.evaluate(raw).findings]
    assert message.endswith("n'est pas au format accepté : PDF, JPEG ou PNG uniquement.")
    allowed = evaluator.rules.section("files")["allowed_types"]
    monkeypatch.setitem(allowed, "application/vnd.oasis.opendocument.text", {"name": "ODT", "extensions": ["odt"]})
    raw["champs"][-1]["files"][0]["contentType"] = "application/vnd.oasis.opendocument.text"
    assert outcome(evaluator, raw) == ("complet", [])
    raw["champs"][-1]["files"][0]["contentType"] = "application/zip"
    [message] = [f.message for f in evaluator.evaluate(raw).findings]
    assert message.endswith(": PDF, JPEG, PNG ou ODT uniquement.")


def test_regulated_professions(evaluator):
    """RULES.md: "regulated profession (expert-comptable, avocat, commissaire aux comptes, security agent…) |
    attestation of the professional order or qualification certificate": an open list, linked to the job title."""
    undeclared = dossier(emploi_intitule="Agent de sécurité incendie (SSIAP 1)")
    assert outcome(evaluator, undeclared) == ("a_verifier", ["regulated_profession_by_title:profession_reglementee"])
    declared = dossier(emploi_intitule="Agent de sécurité incendie (SSIAP 1)", profession_reglementee=True)
    assert outcome(evaluator, declared) == ("incomplet", ["missing_document:pj_profession_reglementee"])
    with_proof = dossier(
        emploi_intitule="Agent de sécurité incendie (SSIAP 1)",
        profession_reglementee=True,
        pj_profession_reglementee=["carte_cnaps.pdf"],
    )
    assert outcome(evaluator, with_proof) == ("complet", [])
    assert outcome(evaluator, dossier(emploi_intitule="Architecte logiciel")) == ("complet", [])


def with_etablissement_address(raw: dict, **address) -> dict:
    """The établissement's address as DS may send it: `None` values leave a field out (departmentCode is nullable)."""
    siret = next(c for c in raw["champs"] if c["champDescriptorId"] == BINDING.id_of("employeur_siret"))
    fields = siret["etablissement"]["address"]
    fields.update(address)
    for key in [k for k, v in fields.items() if v is None]:
        del fields[key]
    return raw


@pytest.fixture(scope="module")
def by_employer():
    return evaluator_for(routing_key="employer")


def test_postal_codes_shared_by_two_departements(by_employer):
    """RULES.md: "About twenty postal codes span two départements …: prefer the INSEE commune code when DS gives
    one"; La Poste's table has 16 (mappings/postal_codes.csv). 33220 is Gironde's and, for two communes, Dordogne's."""
    dordogne = dict(postalCode="33220", cityName="Port-Sainte-Foy-et-Ponchapt", departmentCode=None)
    with_insee = by_employer.evaluate(with_etablissement_address(dossier(), **dordogne, cityCode="24335"))
    assert (with_insee.routing.departement, with_insee.routing.confidence, with_insee.status) == (
        "24",
        "high",
        "complet",
    )
    by_name = by_employer.evaluate(with_etablissement_address(dossier(), **dordogne, cityCode=None))
    assert (by_name.routing.departement, by_name.routing.confidence, by_name.status) == ("24", "high", "complet")
    unknown = by_employer.evaluate(
        with_etablissement_address(dossier(), **{**dordogne, "cityName": None}, cityCode=None)
    )
    assert (unknown.routing.departement, unknown.status) == ("33", "a_verifier")
    assert [f.code for f in unknown.findings] == ["routing_uncertain"]


def test_cedex_and_uncertain_routing(by_employer):
    """RULES.md: "CEDEX codes keep the département prefix but are low-confidence"; issue #12: "low confidence →
    « À vérifier »" (the confidence was computed, then dropped)."""
    cedex = dict(postalCode="92042", cityName="Paris La Défense Cedex", departmentCode=None, cityCode=None)
    evaluation = by_employer.evaluate(with_etablissement_address(dossier(), **cedex))
    assert (evaluation.routing.departement, evaluation.status) == ("92", "a_verifier")
    [finding] = evaluation.findings
    assert finding.code == "routing_uncertain" and "CEDEX" in finding.message and finding.field == "employeur_siret"
    settled = by_employer.evaluate(with_etablissement_address(dossier(), **{**cedex, "cityCode": "92062"}))
    assert (settled.routing.departement, settled.status) == ("92", "complet")


def test_status_label(evaluator):
    """Issue #12: "status ↔ label | one mapping": an « incomplet » dossier never carries « À vérifier », an
    out-of-scope one never shows Complétude « à vérifier »."""
    from core.snapshot import FindingFact
    from mappings.target import target_for
    from tests.snapshots import make_snapshot

    for raw, status, label, option in (
        (dossier(employeur_siret="12345678900016"), "incomplet", "incomplet", "incomplet"),  # wrong SIRET key
        (dossier(heures_nombre=52), "hors_perimetre", "hors_perimetre", "hors périmètre"),  # no APT needed
        (dossier(nationalite="IT"), "hors_perimetre", "hors_perimetre", "hors périmètre"),
        (dossier(titre_departement=None), "a_verifier", "a_verifier", "à vérifier"),  # a required champ missing
        (dossier(), "complet", "complet", "complet"),
    ):
        evaluation = evaluator.evaluate(raw)
        findings = tuple(FindingFact(f.code, f.severity, f.message, f.field) for f in evaluation.findings)
        target = target_for(make_snapshot(completeness_status=evaluation.status, findings=findings))
        assert (evaluation.status, target.label_keys, target.annotations["wif_statut"]) == (status, {label}, option)
