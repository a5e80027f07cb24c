"""The generator's intents and the completeness checks agree (shared contract).

Dossiers go through the sandbox over HTTP, then through the real mapping and
checks: each dossier's status must be the one its intent promises, for the one
reason the intent names (its only finding), so no case passes by accident.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from connector.client import DSClient
from sandbox.generator import INTENTS, seeded_store
from sandbox.server import start_server
from tests.sandbox_requests import run_document
from tests.sync_helpers import evaluator, sandbox_binding

# intent → (status, the finding codes the dossier carries: exactly these)
FILE_CODES = ("too_many_files", "file_type_not_allowed", "file_too_large", "empty_file")
EXPECTED = {
    "complete": ("complet", ()),
    "missing_document": ("incomplet", ("missing_document",)),
    "bad_file": ("incomplet", FILE_CODES),  # one of them
    "inconsistent_dates": ("incomplet", ("contract_dates_inverted",)),
    "permit_expired_at_start": ("incomplet", ("permit_expired_at_start",)),
    "permit_ends_before_contract": ("a_verifier", ("permit_ends_before_contract",)),
    "invalid_siret": ("incomplet", ("invalid_siret",)),
    "out_of_scope_nationality": ("hors_perimetre", ("out_of_scope_nationality",)),
    "malformed": ("a_verifier", ()),  # a mapping issue, no finding
    # Hours: an Algerian student over the cap, a non-Algerian one under the threshold (no APT needed),
    # including when only the titre's years keep each under it, and above it with a job outside the course.
    "hours_over_cap": ("a_verifier", ("hours_over_cap",)),
    "under_threshold": ("hors_perimetre", ("out_of_scope_under_threshold",)),
    "under_threshold_per_titre_year": ("hors_perimetre", ("out_of_scope_under_threshold",)),
    "job_not_in_course": ("incomplet", ("job_outside_course",)),
    "six_month_visa": ("complet", ()),
    "contract_longer_than_apt": ("a_verifier", ("contract_longer_than_apt",)),
    "non_algerian_apprentice": ("complet", ()),
    "opco_validated_apprenticeship": ("a_verifier", ("apt_probably_not_needed",)),
    # Documents of a case.
    "interne_three_documents": ("complet", ()),
    "aphp_interne": ("hors_perimetre", ("out_of_scope_aphp_interne",)),
    "ater_any_document": ("complet", ()),
    "renewal_set": ("complet", ()),
    "regulated_by_title": ("a_verifier", ("regulated_profession_by_title",)),
    # Routing: the commune's INSEE code settles a shared postal code and a CEDEX address (see below).
    "shared_postal_code": ("complet", ()),
    "cedex_address": ("complet", ()),
    "out_of_scope_territory": ("hors_perimetre", ("out_of_scope_territory",)),
}


@pytest.fixture(scope="module")
def outcomes():
    """(sandbox record, intent, evaluation) of every visible dossier, read over HTTP."""
    store = seeded_store(400, seed=11, today=date(2026, 1, 1))
    out, after = [], None
    with start_server(store) as server, DSClient(server.url, server.token) as client:
        evaluate = evaluator(sandbox_binding(client))  # read through the ids this sandbox gave its champs
        while True:
            body = run_document(server.url, "getDemarcheDossiers", demarcheNumber=1, first=100, after=after).json()
            page = body["data"]["demarche"]["dossiers"]
            out += [
                (store.dossier(node["number"]), store.intent(node["number"]), evaluate.evaluate(node))
                for node in page["nodes"]
            ]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert len(out) == len(store.visible_dossiers(1))
    return out


def test_every_dossier_gets_the_status_of_its_intent_for_its_one_reason(outcomes):
    wrong = Counter()
    for record, intent, evaluation in outcomes:
        status, codes = EXPECTED[intent]
        if record.anomaly == ("extra_champ",):
            status = "complet"  # a champ unknown to the procedure is the operators' alert, not the dossier's status
        found = {f.code for f in evaluation.findings}
        one_reason = found == set(codes) if intent != "bad_file" else len(found) == 1 and found <= set(codes)
        if evaluation.status != status or not one_reason:
            wrong[(intent, evaluation.status, tuple(sorted(found)))] += 1
        if intent == "malformed":
            assert evaluation.mapped.issues
    assert wrong == Counter()


def test_every_intent_has_an_expected_outcome_and_is_generated(outcomes):
    assert set(INTENTS) == set(EXPECTED) == {intent for _, intent, _ in outcomes}


def test_routing_finds_the_departement_the_sandbox_placed_each_dossier_in(outcomes):
    """The student's commune (the titre's département) and the établissement's, as the sandbox knows them,
    including communes whose postal code says another département and CEDEX codes without DS's département."""
    checked = Counter()
    for record, intent, evaluation in outcomes:
        student = record.values["adresse_etudiant"].commune
        etablissement = record.values["employeur_siret"].place.commune
        assert evaluation.routing.departement == student.departement, (record.number, intent)
        assert evaluation.routing.employer_departement == etablissement.departement, (record.number, intent)
        assert evaluation.routing.confidence == "high", (record.number, intent)
        if etablissement.postal_code[:2] != etablissement.departement[:2] or "Cedex" in etablissement.name:
            checked[intent] += 1
    assert checked["shared_postal_code"] and checked["cedex_address"]
