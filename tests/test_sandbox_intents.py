"""The generator's intents and the completeness checks agree (shared contract).

Dossiers go through the sandbox over HTTP, then through the real mapping and
checks: each dossier's status must be the one its intent promises.
"""
from __future__ import annotations

from collections import Counter
from datetime import date

from mappings import pipeline
from sandbox.generator import seeded_store
from sandbox.server import start_server
from tests.sandbox_requests import run_document

EXPECTED_STATUS = {
    "complete": "complet", "missing_document": "incomplet", "bad_file": "incomplet", "inconsistent_dates": "incomplet",
    "permit_expired_at_start": "incomplet", "permit_ends_before_contract": "a_verifier",
    "hours_over_cap": "a_verifier", "invalid_siret": "incomplet", "out_of_scope_nationality": "hors_perimetre",
    "malformed": "a_verifier",
}


def test_every_dossier_gets_the_status_of_its_intent():
    store = seeded_store(400, seed=11, today=date(2026, 1, 1))
    evaluate = pipeline.Evaluator.default()
    wrong, seen, after = Counter(), 0, None
    with start_server(store) as server:
        while True:
            body = run_document(server.url, "getDemarcheDossiers", demarcheNumber=1, first=100, after=after).json()
            page = body["data"]["demarche"]["dossiers"]
            for node in page["nodes"]:
                seen += 1
                intent = store.intent(node["number"])
                status = evaluate.evaluate(node).status
                if status != EXPECTED_STATUS[intent]:
                    wrong[(intent, status)] += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert seen == len(store.visible_dossiers(1))
    assert wrong == Counter()
