"""The sandbox answers like DS: auth, errors, pagination, deletions, champ typing."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import requests

from tests.sandbox_requests import post, run_document

TODAY = date(2026, 1, 1)


# The shared `store` and `server` fixtures (conftest): a seed whose dossiers include trashed and deleted ones.
SANDBOX = dict(n=150, seed=6, today=TODAY)


def dossiers_page(server, **variables):
    response = run_document(server.url, "getDemarcheDossiers", demarcheNumber=1, **variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["demarche"]["dossiers"]


def all_numbers(server, **variables):
    numbers, after = [], None
    while True:
        page = dossiers_page(server, after=after, **variables)
        numbers += [node["number"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return numbers
        after = page["pageInfo"]["endCursor"]


# --- auth and errors ----------------------------------------------------------


def test_missing_or_unknown_token_is_403(server):
    for token in (None, "not-a-token"):
        response = run_document(server.url, "getDossier", token=token, dossierNumber=1)
        assert response.status_code == 403
        assert response.json() == {
            "errors": [
                {"message": "Without a token, only persisted queries are allowed", "extensions": {"code": "forbidden"}}
            ],
            "data": None,
        }


def test_expired_token_is_401(server, store):
    store.add_token("old-token", expired=True)
    response = run_document(server.url, "getDossier", token="old-token", dossierNumber=1)
    assert response.status_code == 401
    assert response.json()["errors"][0] == {"message": "Token expired", "extensions": {"code": "unauthorized"}}


def test_token_form_with_token_equals_is_accepted(server, store):
    number = store.visible_dossiers(1)[0].number
    response = requests.post(
        server.url,
        json={"query": "query q($n: Int!) { dossier(number: $n) { number } }", "variables": {"n": number}},
        headers={"Authorization": 'Bearer token="sandbox-token"'},
        timeout=10,
    )
    assert response.json() == {"data": {"dossier": {"number": number}}}


def test_unknown_demarche_is_not_found_with_null_data(server):
    body = run_document(server.url, "getDemarcheDescriptor", demarcheNumber=999).json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Demarche not found"
    assert body["errors"][0]["extensions"] == {"code": "not_found"}


def test_demarche_outside_token_scope_is_hidden(server, store):
    store.add_token("other-demarche", demarches=[2])
    response = run_document(server.url, "getDemarcheDescriptor", token="other-demarche", demarcheNumber=1)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "An object of type Demarche was hidden due to permissions"
    assert body["errors"][0]["extensions"]["code"] == "unauthorized"


def test_bad_json_syntax_error_and_validation_error(server):
    headers = {"Authorization": "Bearer sandbox-token", "Content-Type": "application/json"}
    bad_json = requests.post(server.url, data=b"{not json", headers=headers, timeout=10)
    assert bad_json.status_code == 400
    assert bad_json.json()["errors"][0]["extensions"]["code"] == "bad_request"
    syntax = post(server.url, "query { demarche(number: 1) { id ")
    assert syntax.status_code == 400
    assert syntax.json()["errors"][0]["extensions"]["code"] == "graphql_parse_failed"
    invalid = post(server.url, "query { demarche(number: 1) { doesNotExist } }")
    assert invalid.status_code == 200
    assert "data" not in invalid.json() and invalid.json()["errors"]


# --- pagination -----------------------------------------------------------------


def test_default_order_is_deposit_date_then_number(server, store):
    expected = [d.number for d in sorted(store.visible_dossiers(1), key=lambda d: (d.depose_at, d.number))]
    assert all_numbers(server, first=40) == expected


def decoded_cursor(cursor: str) -> tuple[str, int]:
    """DS's cursors are URL-safe base64 without padding of "<UTC time with nanoseconds>Z;<id>"."""
    assert "=" not in cursor
    stamp, number = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(";")
    return stamp, int(number)


def test_cursor_encodes_the_active_order_column(server, store):
    page = dossiers_page(server, first=5)
    last = store.dossier(page["nodes"][-1]["number"])
    stamp, number = decoded_cursor(page["pageInfo"]["endCursor"])
    assert number == last.number
    assert stamp == last.depose_at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"

    since = min(d.updated_at for d in store.visible_dossiers(1)).isoformat()
    page = dossiers_page(server, first=5, updatedSince=since)
    last = store.dossier(page["nodes"][-1]["number"])
    stamp, _ = decoded_cursor(page["pageInfo"]["endCursor"])
    assert stamp == last.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def test_first_is_capped_at_100_and_has_next_says_whether_more_follow(server, store):
    visible = len(store.visible_dossiers(1))
    first = dossiers_page(server, first=500)
    assert len(first["nodes"]) == 100 and first["pageInfo"]["hasNextPage"] is True
    second = dossiers_page(server, first=100, after=first["pageInfo"]["endCursor"])
    assert len(second["nodes"]) == visible - 100 and second["pageInfo"]["hasNextPage"] is False
    rest = visible - 100
    exact = dossiers_page(server, first=rest, after=first["pageInfo"]["endCursor"])
    # DS reads one row past the page: a page that takes exactly what is left says nothing follows.
    assert len(exact["nodes"]) == rest and exact["pageInfo"]["hasNextPage"] is False
    almost = dossiers_page(server, first=rest - 1, after=first["pageInfo"]["endCursor"])
    assert almost["pageInfo"]["hasNextPage"] is True
    empty = dossiers_page(server, first=rest, after=exact["pageInfo"]["endCursor"])
    assert empty["nodes"] == [] and empty["pageInfo"] == {"hasNextPage": False, "endCursor": None}


def test_updated_since_orders_by_update_and_sees_modifications(server, store):
    visible = store.visible_dossiers(1)
    since = (max(d.updated_at for d in visible) + timedelta(microseconds=1)).isoformat()
    assert all_numbers(server, updatedSince=since) == []
    later, earlier = visible[0], visible[5]
    store.modify(later.number, nom="Nouveau-Nom")
    store.modify(earlier.number, prenom="Élodie")
    assert all_numbers(server, updatedSince=since) == [later.number, earlier.number]

    everything = min(d.updated_at for d in visible).isoformat()
    expected = [d.number for d in sorted(store.visible_dossiers(1), key=lambda d: (d.updated_at, d.number))]
    assert all_numbers(server, updatedSince=everything, first=33) == expected


def test_bookmark_cursor_brings_back_an_updated_dossier(server, store):
    since = min(d.updated_at for d in store.visible_dossiers(1)).isoformat()
    page = dossiers_page(server, first=100, updatedSince=since)
    while page["pageInfo"]["hasNextPage"]:
        cursor = page["pageInfo"]["endCursor"]
        page = dossiers_page(server, first=100, updatedSince=since, after=cursor)
        cursor = page["pageInfo"]["endCursor"] or cursor
    target = store.visible_dossiers(1)[3].number
    store.set_state(target, "en_instruction") if store.dossier(
        target
    ).state == "en_construction" else store.add_message(target, "usager@example.org", "Bonjour")
    assert [n["number"] for n in dossiers_page(server, updatedSince=since, after=cursor)["nodes"]] == [target]


def test_state_and_archived_filters(server, store):
    accepted = {d.number for d in store.visible_dossiers(1) if d.state == "accepte"}
    query = """query q($state: DossierState, $archived: Boolean) { demarche(number: 1) {
        dossiers(state: $state, archived: $archived) { nodes { number state archived } } } }"""
    nodes = post(server.url, query, {"state": "accepte"}).json()["data"]["demarche"]["dossiers"]["nodes"]
    assert {n["number"] for n in nodes} == accepted
    nodes = post(server.url, query, {"archived": True}).json()["data"]["demarche"]["dossiers"]["nodes"]
    assert {n["number"] for n in nodes} == {d.number for d in store.visible_dossiers(1) if d.archived}


# --- deletions --------------------------------------------------------------------


def test_trash_restore_and_delete_visibility(server, store):
    number = store.visible_dossiers(1)[10].number
    before_pending = {n["number"] for n in pending(server)}
    store.trash(number)
    assert number not in all_numbers(server)
    assert number in {n["number"] for n in pending(server)} - before_pending
    assert (
        run_document(server.url, "getDossier", dossierNumber=number).json()["errors"][0]["extensions"]["code"]
        == "not_found"
    )

    store.restore(number)
    assert number in all_numbers(server)
    assert number not in {n["number"] for n in pending(server)}
    assert store.dossier(number).updated_at == max(d.updated_at for d in store.visible_dossiers(1))

    store.delete(number, reason="user_request")
    assert number not in all_numbers(server)
    deleted = run_document(server.url, "getDeletedDossiers", demarcheNumber=1, first=100).json()
    row = deleted["data"]["demarche"]["deletedDossiers"]["nodes"][-1]
    assert row["number"] == number and row["reason"] == "user_request"


def pending(server):
    body = run_document(server.url, "getPendingDeletedDossiers", demarcheNumber=1, first=100).json()
    return body["data"]["demarche"]["pendingDeletedDossiers"]["nodes"]


def test_deleted_since_filters_and_orders(server, store):
    entries = store.deleted[1]
    assert entries, "the generator deletes about 1 % of dossiers"
    since = entries[-1].deleted_at.isoformat()
    body = run_document(server.url, "getDeletedDossiers", demarcheNumber=1, deletedSince=since).json()
    assert [n["number"] for n in body["data"]["demarche"]["deletedDossiers"]["nodes"]] == [entries[-1].dossier_number]


# --- champ typing --------------------------------------------------------------------

CHAMPS_WITHOUT_FRAGMENTS = """query q($n: Int!) { dossier(number: $n) { champs {
  __typename champDescriptorId stringValue ... on TextChamp { value } ... on CheckboxChamp { checked: value } } } }"""
CHAMPS_WITH_FRAGMENTS = """query q($n: Int!) { dossier(number: $n) { champs {
  __typename champDescriptorId ...Typed } } }
fragment Typed on Champ { ... on AddressChamp { address { departmentCode } } ... on YesNoChamp { yesNo: value } }"""


def champ_by_key(champs, store, key):
    wanted = store.demarches[1].champ(key).id
    return next(c for c in champs if c["champDescriptorId"] == wanted)


def test_specific_types_need_a_fragment(server, store):
    dossier = store.visible_dossiers(1)[0]
    plain = post(server.url, CHAMPS_WITHOUT_FRAGMENTS, {"n": dossier.number}).json()["data"]["dossier"]["champs"]
    address = champ_by_key(plain, store, "adresse_etudiant")
    assert address["__typename"] == "TextChamp" and address["value"] == dossier.values["adresse_etudiant"].label
    assert champ_by_key(plain, store, "demande_type")["__typename"] == "TextChamp"
    assert champ_by_key(plain, store, "residence_un_an")["__typename"] == "CheckboxChamp"

    typed = post(server.url, CHAMPS_WITH_FRAGMENTS, {"n": dossier.number}).json()["data"]["dossier"]["champs"]
    address = champ_by_key(typed, store, "adresse_etudiant")
    assert address == {
        "__typename": "AddressChamp",
        "champDescriptorId": address["champDescriptorId"],
        "address": {"departmentCode": dossier.values["adresse_etudiant"].commune.departement},
    }
    yes_no = champ_by_key(typed, store, "residence_un_an")
    assert yes_no["__typename"] == "YesNoChamp" and yes_no["yesNo"] is dossier.values["residence_un_an"]
    assert champ_by_key(typed, store, "demande_type")["__typename"] == "TextChamp"  # no DropDownListChamp fragment


def test_big_ints_are_json_strings(server, store):
    dossier = next(d for d in store.visible_dossiers(1) if d.values.get("pj_passeport") and d.revision == 1)
    store.demarches[1].change_champ_type("heures_nombre", "integer_number")
    body = run_document(server.url, "getDossier", dossierNumber=dossier.number).json()
    champs = body["data"]["dossier"]["champs"]
    hours = champ_by_key(champs, store, "heures_nombre")
    assert hours["__typename"] == "IntegerNumberChamp"
    assert hours["integerNumber"] == str(int(dossier.values["heures_nombre"]))
    files = champ_by_key(champs, store, "pj_passeport")["files"]
    assert files[0]["byteSizeBigInt"] == str(dossier.values["pj_passeport"][0].byte_size)
    assert files[0]["url"].startswith(server.base_url + "/files/")


def test_champs_follow_the_dossier_revision(server, store):
    old = next(d for d in store.visible_dossiers(1) if d.revision == 0)
    body = run_document(server.url, "getDossier", dossierNumber=old.number).json()["data"]["dossier"]
    assert body["demarche"]["revision"]["id"] == store.demarches[1].revisions[0].id
    ids = {c["champDescriptorId"] for c in body["champs"]}
    assert store.demarches[1].champ("autres_emplois").id not in ids
    assert store.demarches[1].champ("nom").id in ids


def test_drift_is_visible_in_the_descriptor(server, store):
    demarche = store.demarches[1]
    demarche.remove_champ("telephone_etudiant")
    demarche.rename_champ("nom", "Nom de famille")
    demarche.remove_annotation("wif_anomalies")
    store.add_groupe(1, "Paris")
    body = run_document(server.url, "getDemarcheDescriptor", demarcheNumber=1).json()["data"]["demarche"]
    labels = {d["label"] for d in body["activeRevision"]["champDescriptors"]}
    assert "Téléphone de l'étudiant" not in labels and "Nom de famille" in labels
    assert "Anomalies (Work in France)" not in {d["label"] for d in body["activeRevision"]["annotationDescriptors"]}
    assert [g["label"] for g in body["groupeInstructeurs"]] == ["défaut", "Paris"]  # DS orders groupes by label


def test_variables_of_the_wrong_type_are_a_bad_request(server):
    response = run_document(server.url, "getDossier", dossierNumber="not-a-number")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "bad_request"


def test_revision_filter(server, store):
    old_revision = store.demarches[1].revisions[0]
    query = """query q($r: ID) { demarche(number: 1) { dossiers(revision: $r) { nodes { number } } } }"""
    nodes = post(server.url, query, {"r": old_revision.id}).json()["data"]["demarche"]["dossiers"]["nodes"]
    assert {n["number"] for n in nodes} == {d.number for d in store.visible_dossiers(1) if d.revision == 0}


def test_removed_groupe_hands_its_dossiers_over(store):
    demarche = store.demarches[1]
    paris = store.add_groupe(1, "Paris")
    dossier = store.visible_dossiers(1)[0]
    store.move_to_groupe(dossier.number, paris.number)
    before = dossier.updated_at
    store.remove_groupe(1, paris.number)
    assert dossier.groupe == demarche.groupes[0].number and dossier.updated_at > before


def test_second_demarche_and_scoped_token(server, store):
    from sandbox.generator import generate

    second = store.add_demarche(groupe_labels=["Autre"])
    records, deleted = generate(20, seed=1, today=TODAY, demarche=second, first_number=900_001)
    store.load_dossiers(records, deleted)
    store.add_token("only-second", demarches=[second.number])
    numbers = [
        n["number"]
        for n in run_document(
            server.url, "getDemarcheDossiers", token="only-second", demarcheNumber=second.number
        ).json()["data"]["demarche"]["dossiers"]["nodes"]
    ]
    assert numbers and all(n >= 900_001 for n in numbers)
    hidden = run_document(
        server.url, "getDossier", token="only-second", dossierNumber=store.visible_dossiers(1)[0].number
    )
    assert hidden.json()["errors"][0]["message"] == "An object of type Dossier was hidden due to permissions"
