"""Every operation of DS's stored queries, sent as DS's own clients send them:
`{queryId, operationName, variables}`, no query text. The APT démarche and the démarche of every
champ type (the full generator) answer each one without an error."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date

import pytest
import requests

from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.every_champ import add_every_champ_demarche
from sandbox.generator import seeded_store
from sandbox.server import start_server
from sandbox.store import SANDBOX_TOKEN

TODAY = date(2026, 1, 1)
ALL_INCLUDES = {
    name: True
    for name in (
        "includeGroupeInstructeurs",
        "includeDossiers",
        "includePendingDeletedDossiers",
        "includeDeletedDossiers",
        "includeRevision",
        "includeRevisions",
        "includeService",
        "includeChamps",
        "includeAnotations",
        "includeTraitements",
        "includeInstructeurs",
        "includeAvis",
        "includeMessages",
        "includeCorrections",
        "includeGeometry",
    )
}
# DS's 26 stored mutations (the operation for dossierModifierAnnotationDatetime is spelled …DateTime).
MUTATIONS = (
    "dossierArchiver",
    "dossierDesarchiver",
    "dossierPasserEnInstruction",
    "dossierRepasserEnConstruction",
    "dossierAccepter",
    "dossierBasculeSuivi",
    "dossierRefuser",
    "dossierClasserSansSuite",
    "dossierRepasserEnInstruction",
    "dossierEnvoyerMessage",
    "dossierSupprimerMessage",
    "dossierModifierAnnotationText",
    "dossierModifierAnnotationCheckbox",
    "dossierModifierAnnotationDate",
    "dossierModifierAnnotationDateTime",
    "dossierModifierAnnotationDropDownList",
    "dossierModifierAnnotationIntegerNumber",
    "dossierModifierAnnotationDecimalNumber",
    "dossierModifierAnnotationAjouterLigne",
    "dossierModifierAnnotations",
    "createDirectUpload",
    "groupeInstructeurModifier",
    "groupeInstructeurCreer",
    "groupeInstructeurAjouterInstructeurs",
    "groupeInstructeurSupprimerInstructeurs",
    "demarcheCloner",
)


@pytest.fixture(scope="module")
def store():
    store = seeded_store(30, seed=11, today=TODAY)
    add_every_champ_demarche(store, 30, seed=11, today=TODAY)
    return store


@pytest.fixture(scope="module")
def server(store):
    with start_server(store) as running:
        yield running


@pytest.fixture(scope="module")
def sent():
    """Every stored mutation sent once, by operation name."""
    return set()


def stored(server, query_id, operation, token=SANDBOX_TOKEN, **variables):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(
        server.url,
        json={"queryId": query_id, "operationName": operation, "variables": variables},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def query(server, operation, **variables):
    body = stored(server, "ds-query-v2", operation, **variables)
    assert "errors" not in body, body["errors"][:3]
    return body["data"]


def mutate(server, sent, operation, extra=None, **input_fields):
    body = stored(server, "ds-mutation-v2", operation, input=input_fields, **(extra or {}))
    assert "errors" not in body, body["errors"][:3]
    [payload] = body["data"].values()
    assert payload.get("errors") is None, payload["errors"]
    sent.add(operation)
    return payload


def every_champ(store):
    return next(d for d in store.demarches.values() if d.title.startswith("Demande de subvention"))


def a_dossier(store, demarche, state, archived=None):
    return next(
        d
        for d in store.visible_dossiers(demarche.number)
        if d.state == state and (archived is None or d.archived == archived)
    )


# --- ds-query-v2 ----------------------------------------------------------------------------------------


def test_get_demarche_with_everything_included(server, store):
    for demarche in (store.demarches[1], every_champ(store)):
        data = query(server, "getDemarche", demarcheNumber=demarche.number, first=100, **ALL_INCLUDES)["demarche"]
        assert data["number"] == demarche.number and data["service"]["nom"]
        assert len(data["dossiers"]["nodes"]) == len(store.visible_dossiers(demarche.number))
        assert data["revisions"][-1]["datePublication"] is None  # the draft DS keeps next to the published one


def test_the_stored_query_types_every_champ_of_the_full_generator(server, store):
    demarche = every_champ(store)
    nodes = query(server, "getDemarche", demarcheNumber=demarche.number, **ALL_INCLUDES)["demarche"]["dossiers"][
        "nodes"
    ]
    served = {c["__typename"] for n in nodes for c in n["champs"] + n["annotations"]}
    # Every Champ implementation of DS's schema but TitreIdentiteChamp's twin types, none as a fallback.
    assert {
        "AddressChamp",
        "YesNoChamp",
        "DatetimeChamp",
        "RegionChamp",
        "EpciChamp",
        "CarteChamp",
        "DossierLinkChamp",
        "HeaderSectionChamp",
        "ExplicationChamp",
        "RNAChamp",
        "RNFChamp",
        "EngagementJuridiqueChamp",
        "LinkedDropDownListChamp",
        "MultipleDropDownListChamp",
        "TitreIdentiteChamp",
    } <= served
    columns = {col["__typename"]: col["value"] for n in nodes for c in n["champs"] for col in c["columns"]}
    assert isinstance(columns["BooleanColumn"], bool) and isinstance(columns["EnumsColumn"], list)
    assert isinstance(columns["DecimalColumn"], float) and isinstance(columns["AttachmentsColumn"][0]["url"], str)


def test_get_groupe_instructeur_pages_its_own_dossiers(server, store):
    groupe = store.demarches[1].groupes[0]
    data = query(
        server,
        "getGroupeInstructeur",
        groupeInstructeurNumber=groupe.number,
        first=100,
        includeDossiers=True,
        includePendingDeletedDossiers=True,
        includeDeletedDossiers=True,
    )
    numbers = {n["number"] for n in data["groupeInstructeur"]["dossiers"]["nodes"]}
    assert numbers == {d.number for d in store.visible_dossiers(1) if d.groupe == groupe.number}


def test_get_dossier_with_avis_messages_and_its_demarche(server, store):
    demarche = every_champ(store)
    record = next(d for d in store.visible_dossiers(demarche.number) if d.avis and d.state == "accepte")
    dossier = query(
        server,
        "getDossier",
        dossierNumber=record.number,
        includeRevision=True,
        includeService=True,
        includeAvis=True,
        includeMessages=True,
        includeCorrections=True,
        includeGeometry=True,
    )["dossier"]
    assert dossier["avis"][0]["question"] and dossier["avis"][0]["expert"]["email"]
    assert dossier["attestation"]["url"] and dossier["pdf"]["url"].startswith(server.base_url + "/api/v2/dossiers/pdf/")
    assert dossier["demarche"]["revision"]["champDescriptors"] and dossier["demarche"]["service"]["nom"]
    assert dossier["demandeur"]["__typename"] == "PersonnePhysique"


def test_get_demarche_descriptor_with_and_without_a_token(server, store):
    for token in (SANDBOX_TOKEN, None):
        body = stored(
            server,
            "ds-query-v2",
            "getDemarcheDescriptor",
            token=token,
            demarche={"number": 1},
            includeRevision=True,
            includeService=True,
        )
        assert body["data"]["demarcheDescriptor"]["number"] == 1  # an open-data démarche: readable by anyone
    hidden = stored(server, "ds-query-v2", "getDemarche", token=None, demarcheNumber=1)
    assert hidden["errors"][0]["extensions"]["code"] == "unauthorized"


# --- ds-mutation-v2 -------------------------------------------------------------------------------------


def test_state_changes(server, store, sent):
    apt = store.demarches[1]
    me = {"instructeurId": CONNECTOR_INSTRUCTEUR_ID}
    dossier = a_dossier(store, apt, "en_construction")
    assert (
        mutate(server, sent, "dossierPasserEnInstruction", dossierId=dossier.id, **me)["dossier"]["state"]
        == "en_instruction"
    )
    assert (
        mutate(server, sent, "dossierRepasserEnConstruction", dossierId=dossier.id, **me)["dossier"]["state"]
        == "en_construction"
    )
    for operation, state in (
        ("dossierAccepter", "accepte"),
        ("dossierRefuser", "refuse"),
        ("dossierClasserSansSuite", "sans_suite"),
    ):
        dossier = a_dossier(store, apt, "en_instruction")
        payload = mutate(server, sent, operation, dossierId=dossier.id, motivation="Vu le dossier.", **me)
        assert payload["dossier"]["state"] == state
    accepted = a_dossier(store, apt, "accepte", archived=False)
    mutate(server, sent, "dossierArchiver", dossierId=accepted.id, **me)
    assert mutate(server, sent, "dossierDesarchiver", dossierId=accepted.id, **me)["dossier"]["archived"] is False
    assert (
        mutate(server, sent, "dossierRepasserEnInstruction", dossierId=accepted.id, **me)["dossier"]["state"]
        == "en_instruction"
    )
    followed = mutate(server, sent, "dossierBasculeSuivi", dossierId=accepted.id, **me)
    assert CONNECTOR_INSTRUCTEUR_ID in {i["id"] for i in followed["dossier"]["instructeurs"]}


def test_messages(server, store, sent):
    dossier = a_dossier(store, store.demarches[1], "en_construction")
    message = mutate(
        server,
        sent,
        "dossierEnvoyerMessage",
        dossierId=dossier.id,
        instructeurId=CONNECTOR_INSTRUCTEUR_ID,
        body="Bonjour, merci de joindre le contrat signé.",
    )["message"]
    deleted = mutate(
        server, sent, "dossierSupprimerMessage", messageId=message["id"], instructeurId=CONNECTOR_INSTRUCTEUR_ID
    )["message"]
    assert deleted["discardedAt"]


def test_annotations_of_every_type(server, store, sent):
    demarche = every_champ(store)
    ids = {d.key: d.id for d in demarche.active_revision.annotations}
    base = {"dossierId": a_dossier(store, demarche, "en_instruction").id, "instructeurId": CONNECTOR_INSTRUCTEUR_ID}
    cases = (
        ("dossierModifierAnnotationText", "agent_referent", "Mme Martin"),
        ("dossierModifierAnnotationCheckbox", "visite_faite", True),
        ("dossierModifierAnnotationDate", "date_commission", "2026-02-03"),
        ("dossierModifierAnnotationDateTime", "visite_le", "2026-02-03T10:30:00+01:00"),
        ("dossierModifierAnnotationDropDownList", "priorite", "Haute"),
        ("dossierModifierAnnotationIntegerNumber", "rang", 3),
        ("dossierModifierAnnotationDecimalNumber", "montant_accorde", 1500.5),
    )
    for operation, key, value in cases:
        annotation = mutate(server, sent, operation, annotationId=ids[key], value=value, **base)["annotation"]
        assert annotation["id"] == ids[key] and annotation["value"] not in (None, "")
    mutate(server, sent, "dossierModifierAnnotationAjouterLigne", annotationId=ids["versements"], **base)
    saved = mutate(
        server,
        sent,
        "dossierModifierAnnotations",
        annotations=[
            {"id": ids["criteres"], "value": {"multipleDropDownList": ["Utilité sociale", "Partenariats"]}},
            {"id": ids["eligible"], "value": {"yesNo": False}},
            {"id": ids["contact_service"], "value": {"email": "service@example.gouv.fr"}},
        ],
        **base,
    )["annotations"]
    assert [a["id"] for a in saved] == [ids["criteres"], ids["eligible"], ids["contact_service"]]


def test_an_upload_joined_to_a_decision(server, store, sent):
    apt = store.demarches[1]
    dossier = a_dossier(store, apt, "en_instruction")
    content = b"%PDF-1.4 courrier de decision"
    checksum = base64.b64encode(hashlib.md5(content).digest()).decode()
    upload = mutate(
        server,
        sent,
        "createDirectUpload",
        dossierId=dossier.id,
        filename="decision.pdf",
        byteSize=len(content),
        checksum=checksum,
        contentType="application/pdf",
    )["directUpload"]
    headers = json.loads(upload["headers"])
    assert requests.put(upload["url"], data=content, headers=headers, timeout=10).status_code == 204
    accepted = mutate(
        server,
        sent,
        "dossierAccepter",
        dossierId=dossier.id,
        instructeurId=CONNECTOR_INSTRUCTEUR_ID,
        justificatif=upload["signedBlobId"],
    )
    assert accepted["dossier"]["attestation"]["url"]
    assert store.dossier(dossier.number).justificatif.filename == "decision.pdf"


def test_groupes_and_a_copy_of_the_demarche(server, store, sent):
    created = mutate(
        server,
        sent,
        "groupeInstructeurCreer",
        {"includeInstructeurs": True},
        demarche={"number": 1},
        groupeInstructeur={"label": "Rennes", "instructeurs": [{"email": "agent.rennes@example.gouv.fr"}]},
    )
    groupe_id = created["groupeInstructeur"]["id"]
    mutate(server, sent, "groupeInstructeurModifier", groupeInstructeurId=groupe_id, label="Rennes et Brest")
    mutate(
        server,
        sent,
        "groupeInstructeurAjouterInstructeurs",
        groupeInstructeurId=groupe_id,
        instructeurs=[{"email": "agent.brest@example.gouv.fr"}],
    )
    mutate(
        server,
        sent,
        "groupeInstructeurSupprimerInstructeurs",
        groupeInstructeurId=groupe_id,
        instructeurs=[{"email": "agent.rennes@example.gouv.fr"}],
    )
    emails = {
        i.email for i in store.find_groupe(int(base64.b64decode(groupe_id).decode().split("-")[1]))[1].instructeurs
    }
    assert "agent.brest@example.gouv.fr" in emails and "agent.rennes@example.gouv.fr" not in emails
    copy = mutate(server, sent, "demarcheCloner", demarche={"number": 1}, title="Copie de test")["demarche"]
    assert copy["number"] != 1 and store.demarches[copy["number"]].state == "brouillon"


def test_every_stored_mutation_was_sent(sent):
    assert sorted(set(MUTATIONS) - sent) == []


def test_without_a_token_a_stored_mutation_is_refused_in_its_payload(server, store):
    dossier = a_dossier(store, store.demarches[1], "en_construction")
    body = stored(
        server,
        "ds-mutation-v2",
        "dossierPasserEnInstruction",
        token=None,
        input={"dossierId": dossier.id, "instructeurId": CONNECTOR_INSTRUCTEUR_ID},
    )
    assert body["data"]["dossierPasserEnInstruction"]["errors"] == [
        {"message": "Le jeton utilisé est configuré seulement en lecture"}
    ]
    assert store.dossier(dossier.number).state == "en_construction"
