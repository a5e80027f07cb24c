"""DS's rules for its mutations (docs/ds-mutations.md): who may do what in which state, errors as
data, DS's own wording, what else a change does (follow, DS's message, justificatif, attestation),
a brouillon copy of a démarche, uploads checked before they are joined."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date

import pytest
import requests

from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.generator import seeded_store
from sandbox.ids import gid
from sandbox.server import start_server
from sandbox.store import DS_CONTACT_EMAIL
from tests.sandbox_requests import post

ME = CONNECTOR_INSTRUCTEUR_ID
PAYLOAD = "{ dossier { id state archived instructeurs { id } } errors { message } }"


@pytest.fixture(scope="module")
def store():
    return seeded_store(60, seed=31, today=date(2026, 1, 1), groupe_labels=["Paris", "Lyon"])


@pytest.fixture(scope="module")
def server(store):
    with start_server(store) as running:
        yield running


def run(server, mutation, selection=PAYLOAD, **input_fields):
    body = post(
        server.url,
        f"mutation m($input: {mutation[0].upper() + mutation[1:]}Input!) {{ {mutation}(input: $input) {selection} }}",
        {"input": input_fields},
    ).json()
    return body


def payload(server, mutation, selection=PAYLOAD, **input_fields):
    body = run(server, mutation, selection, **input_fields)
    assert "errors" not in body, body["errors"]
    return body["data"][mutation]


def errors(server, mutation, selection=PAYLOAD, **input_fields):
    return [e["message"] for e in payload(server, mutation, selection, **input_fields)["errors"] or []]


# The dossiers the module's tests already changed (they share one sandbox store).
TAKEN: set[int] = set()


def taken(store, state):
    """A dossier in `state` no other test of the module changed."""
    dossier = next(d for d in store.visible_dossiers(1) if d.state == state and d.number not in TAKEN)
    TAKEN.add(dossier.number)
    return dossier


def test_a_decision_needs_a_dossier_en_instruction(server, store):
    dossier = taken(store, "en_construction")
    assert errors(server, "dossierAccepter", dossierId=dossier.id, instructeurId=ME) == [
        "Le dossier est déjà en construction"
    ]
    accepted = taken(store, "accepte")
    assert errors(server, "dossierRefuser", dossierId=accepted.id, instructeurId=ME, motivation="Non.") == [
        "Le dossier est déjà accepté"
    ]
    assert errors(server, "dossierPasserEnInstruction", dossierId=accepted.id, instructeurId=ME) == [
        "Le dossier est déjà accepté"
    ]


def test_only_an_instructeur_of_the_dossier_groupe(server, store):
    dossier = taken(store, "en_instruction")
    stranger = store.instructeur_by_email("ailleurs@example.gouv.fr")
    assert errors(server, "dossierAccepter", dossierId=dossier.id, instructeurId=stranger.id) == [
        "L’instructeur n’a pas les droits d’accès à ce dossier"
    ]
    usager = gid("User", dossier.number)
    assert errors(server, "dossierAccepter", dossierId=dossier.id, instructeurId=usager) == [
        "L’instructeur n’a pas les droits d’accès à ce dossier"
    ]
    assert store.dossier(dossier.number).state == "en_instruction"


def test_an_unknown_id_is_a_top_level_not_found_naming_the_payload(server):
    body = run(server, "dossierAccepter", dossierId=gid("Dossier", 1), instructeurId=ME)
    assert body["data"] == {"dossierAccepter": None}
    assert body["errors"][0]["message"] == "DossierAccepterPayload not found"
    assert body["errors"][0]["extensions"] == {"code": "not_found"}


def test_taking_a_dossier_follows_it_and_ds_writes_to_the_usager(server, store):
    dossier = taken(store, "en_construction")
    changed = payload(server, "dossierPasserEnInstruction", dossierId=dossier.id, instructeurId=ME)["dossier"]
    assert changed["state"] == "en_instruction" and changed["instructeurs"] == [{"id": ME}]
    last = store.dossier(dossier.number).messages[-1]
    assert last.email == DS_CONTACT_EMAIL and f"nº {dossier.number} va être examiné" in last.body


def test_going_back_to_instruction_forgets_the_decision(server, store):
    dossier = taken(store, "en_instruction")
    payload(server, "dossierRefuser", dossierId=dossier.id, instructeurId=ME, motivation="Pièces manquantes.")
    payload(server, "dossierArchiver", dossierId=dossier.id, instructeurId=ME)
    back = payload(server, "dossierRepasserEnInstruction", dossierId=dossier.id, instructeurId=ME)["dossier"]
    assert back["state"] == "en_instruction" and back["archived"] is False
    assert store.dossier(dossier.number).motivation is None


def test_archiving_needs_a_decided_dossier_and_unarchiving_an_archived_one(server, store):
    dossier = taken(store, "en_instruction")
    assert errors(server, "dossierArchiver", dossierId=dossier.id, instructeurId=ME) == [
        "Un dossier ne peut être déplacé dans « à archiver » qu’une fois le traitement terminé"
    ]
    assert errors(server, "dossierDesarchiver", dossierId=dossier.id, instructeurId=ME) == [
        "Un dossier non archivé ne peut pas être désarchivé"
    ]


def test_a_correction_request_sends_the_dossier_back_and_stays_pending(server, store):
    dossier = taken(store, "en_instruction")
    selection = "{ message { id correction { reason dateResolution } } errors { message } }"
    body = run(
        server,
        "dossierEnvoyerMessage",
        selection,
        dossierId=dossier.id,
        instructeurId=ME,
        body="Le contrat n'est pas signé.",
        correction="incomplete",
    )
    assert body["data"]["dossierEnvoyerMessage"]["message"]["correction"] == {
        "reason": "incomplete",
        "dateResolution": None,
    }
    state = post(
        server.url,
        "query q($n: Int!) { dossier(number: $n) { state dateDerniereCorrectionEnAttente } }",
        {"n": dossier.number},
    ).json()["data"]["dossier"]
    assert state["state"] == "en_construction" and state["dateDerniereCorrectionEnAttente"]


def test_only_ones_own_message_can_be_deleted(server, store):
    dossier = next(d for d in store.visible_dossiers(1) if any(m.email == d.usager_email for m in d.messages))
    usager_message = next(m for m in dossier.messages if m.email == dossier.usager_email)
    assert errors(
        server,
        "dossierSupprimerMessage",
        "{ message { id } errors { message } }",
        messageId=usager_message.id,
        instructeurId=ME,
    ) == ["Le message ne peut pas être supprimé"]


def test_a_justificatif_must_be_uploaded_and_intact(server, store):
    dossier = taken(store, "en_instruction")
    assert errors(server, "dossierAccepter", dossierId=dossier.id, instructeurId=ME, justificatif="forged") == [
        "L’identifiant du fichier téléversé est invalide"
    ]
    content = b"decision"
    checksum = base64.b64encode(hashlib.md5(content).digest()).decode()
    selection = "{ directUpload { url headers signedBlobId } }"
    upload = run(
        server,
        "createDirectUpload",
        selection,
        dossierId=dossier.id,
        filename="d.pdf",
        byteSize=len(content),
        checksum=checksum,
        contentType="application/pdf",
    )
    upload = upload["data"]["createDirectUpload"]["directUpload"]
    assert errors(
        server, "dossierAccepter", dossierId=dossier.id, instructeurId=ME, justificatif=upload["signedBlobId"]
    ) == ["Le fichier n’a pas été correctement téléversé sur le serveur de stockage"]
    headers = json.loads(upload["headers"])
    assert requests.put(upload["url"], data=b"tampered", headers=headers, timeout=10).status_code == 422
    assert requests.put(upload["url"], data=content, headers=headers, timeout=10).status_code == 204
    assert (
        errors(server, "dossierAccepter", dossierId=dossier.id, instructeurId=ME, justificatif=upload["signedBlobId"])
        == []
    )


def test_a_copy_of_a_demarche_is_a_brouillon_with_the_same_champ_ids_and_no_service(server, store):
    selection = (
        "{ demarche { id number title state revision { id datePublication champDescriptors { id } } } "
        "errors { message } }"
    )
    copy = run(server, "demarcheCloner", selection, demarche={"number": 1}, title="Copie")
    copy = copy["data"]["demarcheCloner"]["demarche"]
    assert copy["state"] == "brouillon" and copy["title"] == "Copie" and copy["revision"]["datePublication"] is None
    original = [d.id for d in store.demarches[1].active_revision.champs]
    assert [d["id"] for d in copy["revision"]["champDescriptors"]] == original
    assert store.demarches[copy["number"]].service is None and store.demarches[1].service is not None
    refused = run(server, "demarcheCloner", selection, demarche={"number": 999})["data"]["demarcheCloner"]
    assert refused == {"demarche": None, "errors": [{"message": 'La démarche "999" ne peut pas être clonée.'}]}


def test_a_follow_toggle_touches_the_dossier(server, store):
    dossier = taken(store, "en_construction")
    before = store.dossier(dossier.number).updated_at
    selection = "{ dossier { instructeurs { id } } instructeur { id } errors { message } }"
    result = run(server, "dossierBasculeSuivi", selection, dossierId=dossier.id, instructeurId=ME)
    assert result["data"]["dossierBasculeSuivi"]["dossier"]["instructeurs"] == [{"id": ME}]
    result = run(server, "dossierBasculeSuivi", selection, dossierId=dossier.id, instructeurId=ME, follow=False)
    assert result["data"]["dossierBasculeSuivi"]["dossier"]["instructeurs"] == []
    assert store.dossier(dossier.number).updated_at > before
