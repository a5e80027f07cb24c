"""Mutations of the sandbox: errors as data, partial success, bumps, checks."""

from __future__ import annotations

from datetime import date

from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.form import load_form
from sandbox.ids import gid
from sandbox.mutations import NO_ACCESS, READ_ONLY
from tests.sandbox_requests import run_document

SEED = 9
# The ids the sandbox gives the annotations of the démarche it seeds with SEED.
ANNOTATION_IDS = {d.key: d.id for d in load_form(SEED).annotations}


# The shared `store` and `server` fixtures (conftest).
SANDBOX = dict(n=40, seed=SEED, today=date(2026, 1, 1), groupe_labels=["Paris", "Lyon"])


def mutate(server, name, token="sandbox-token", **input_fields):
    response = run_document(server.url, name, token=token, input={"clientMutationId": "m-1", **input_fields})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    payload = body["data"][name]
    assert payload["clientMutationId"] == "m-1"
    return payload


def messages(payload):
    return [e["message"] for e in payload["errors"] or []]


def a_dossier(store, state=None):
    return next(d for d in store.visible_dossiers(1) if state is None or d.state == state)


def annotation(key, **value):
    return {"id": ANNOTATION_IDS[key], "value": value}


def test_modifier_annotations_partial_success(server, store):
    dossier = a_dossier(store)
    before = dossier.updated_at
    payload = mutate(
        server,
        "dossierModifierAnnotations",
        dossierId=dossier.id,
        instructeurId=CONNECTOR_INSTRUCTEUR_ID,
        annotations=[
            annotation("wif_statut", dropDownList="complet"),
            annotation("wif_service", date="2026-01-01"),
            {"id": gid("Champ", 4242), "value": {"text": "x"}},
            annotation("wif_anomalies", textarea="Aucune anomalie"),
        ],
    )
    assert [a["stringValue"] for a in payload["annotations"]] == ["complet", "Aucune anomalie"]
    errors = messages(payload)
    assert len(errors) == 2
    assert "n’est pas de type attendu" in errors[0]
    # DS's wording, its opening quote included (U+2018 in dossierModifierAnnotations).
    assert errors[1] == f'L‘annotation "{gid("Champ", 4242)}" n’existe pas'
    assert dossier.annotations["wif_statut"] == "complet" and "wif_service" not in dossier.annotations
    assert dossier.updated_at > before
    assert store.mutation_log[-1][0] == "dossierModifierAnnotations"


def test_annotation_drop_down_must_be_an_option(server, store):
    dossier = a_dossier(store)
    payload = mutate(
        server,
        "dossierModifierAnnotations",
        dossierId=dossier.id,
        instructeurId=CONNECTOR_INSTRUCTEUR_ID,
        annotations=[annotation("wif_statut", dropDownList="peut-être")],
    )
    assert payload["annotations"] == [] and len(messages(payload)) == 1
    assert store.mutation_log == []


def test_instructeur_outside_the_dossier_groupe_is_refused(server, store):
    dossier = a_dossier(store)
    other_groupe = next(g for g in store.demarches[1].groupes if g.number != dossier.groupe)
    outsider = other_groupe.instructeurs[-1]
    payload = mutate(
        server,
        "dossierModifierAnnotations",
        dossierId=dossier.id,
        instructeurId=outsider.id,
        annotations=[annotation("wif_statut", dropDownList="complet")],
    )
    assert messages(payload) == [NO_ACCESS] and payload["annotations"] is None


def test_read_only_token_cannot_mutate(server, store):
    store.add_token("read-only", write=False)
    dossier = a_dossier(store)
    payload = mutate(
        server, "dossierAjouterLabel", token="read-only", dossierId=dossier.id, labelId=store.demarches[1].labels[0].id
    )
    assert messages(payload) == [READ_ONLY] and dossier.labels == []


def test_labels_do_not_bump_and_refuse_duplicates(server, store):
    dossier = a_dossier(store)
    label = store.demarches[1].labels[1]
    before = dossier.updated_at
    added = mutate(server, "dossierAjouterLabel", dossierId=dossier.id, labelId=label.id)
    assert added["label"] == {"id": label.id, "name": label.name} and added["errors"] is None
    again = mutate(server, "dossierAjouterLabel", dossierId=dossier.id, labelId=label.id)
    assert len(messages(again)) == 1 and again["label"] is None
    removed = mutate(server, "dossierSupprimerLabel", dossierId=dossier.id, labelId=label.id)
    assert removed["errors"] is None and dossier.labels == []
    assert len(messages(mutate(server, "dossierSupprimerLabel", dossierId=dossier.id, labelId=label.id))) == 1
    assert dossier.updated_at == before
    assert [name for name, _ in store.mutation_log] == ["dossierAjouterLabel", "dossierSupprimerLabel"]


def test_changer_groupe_bumps_and_refuses_same_groupe(server, store):
    dossier = a_dossier(store)
    current = store.demarches[1].groupe(dossier.groupe)
    other = next(g for g in store.demarches[1].groupes if g.number != dossier.groupe)
    assert (
        len(
            messages(
                mutate(server, "dossierChangerGroupeInstructeur", dossierId=dossier.id, groupeInstructeurId=current.id)
            )
        )
        == 1
    )
    before = dossier.updated_at
    payload = mutate(server, "dossierChangerGroupeInstructeur", dossierId=dossier.id, groupeInstructeurId=other.id)
    assert payload["dossier"]["groupeInstructeur"]["number"] == other.number
    assert dossier.groupe == other.number and dossier.updated_at > before


def test_message_with_correction_sends_back_to_construction(server, store):
    dossier = a_dossier(store, "en_instruction")
    before = dossier.updated_at
    payload = mutate(
        server,
        "dossierEnvoyerMessage",
        dossierId=dossier.id,
        instructeurId=CONNECTOR_INSTRUCTEUR_ID,
        body="Merci d'ajouter votre passeport.",
        correction="incomplete",
    )
    assert payload["errors"] is None and payload["message"]["id"]
    assert dossier.state == "en_construction" and dossier.traitements[-1].event == "repasse_en_construction"
    assert dossier.messages[-1].email == "wif-connecteur@example.gouv.fr"
    assert dossier.updated_at > before


def test_passer_en_instruction_only_from_construction(server, store):
    dossier = a_dossier(store, "en_construction")
    payload = mutate(server, "dossierPasserEnInstruction", dossierId=dossier.id, instructeurId=CONNECTOR_INSTRUCTEUR_ID)
    assert payload["dossier"]["state"] == "en_instruction" and dossier.en_instruction_at
    again = mutate(server, "dossierPasserEnInstruction", dossierId=dossier.id, instructeurId=CONNECTOR_INSTRUCTEUR_ID)
    assert messages(again) == ["Le dossier est déjà en instruction"]


def test_groupe_creer_adds_the_connector_and_refuses_duplicate_labels(server, store):
    payload = mutate(
        server,
        "groupeInstructeurCreer",
        demarche={"number": 1},
        groupeInstructeur={
            "label": "Marseille",
            "instructeurs": [{"email": "agent.13@example.gouv.fr"}, {"email": "pas-un-email"}],
        },
    )
    groupe = payload["groupeInstructeur"]
    assert groupe["label"] == "Marseille"
    assert {i["email"] for i in groupe["instructeurs"]} == {
        "wif-connecteur@example.gouv.fr",
        "agent.13@example.gouv.fr",
    }
    assert len(payload["warnings"]) == 1
    duplicate = mutate(server, "groupeInstructeurCreer", demarche={"number": 1}, groupeInstructeur={"label": "Paris"})
    assert len(messages(duplicate)) == 1 and duplicate["groupeInstructeur"] is None


def test_groupe_ajouter_instructeurs_by_id_or_email(server, store):
    groupe = store.demarches[1].groupes[0]
    known = store.demarches[1].groupes[1].instructeurs[-1]
    payload = mutate(
        server,
        "groupeInstructeurAjouterInstructeurs",
        groupeInstructeurId=groupe.id,
        instructeurs=[{"id": known.id}, {"email": "nouvel.agent@example.gouv.fr"}],
    )
    emails = {i["email"] for i in payload["groupeInstructeur"]["instructeurs"]}
    assert {known.email, "nouvel.agent@example.gouv.fr"} <= emails


def test_unknown_dossier_id_is_a_top_level_not_found(server):
    response = run_document(
        server.url, "dossierAjouterLabel", input={"dossierId": gid("Dossier", 1), "labelId": gid("Label", 1)}
    )
    body = response.json()
    assert body["data"] == {"dossierAjouterLabel": None}
    assert body["errors"][0]["extensions"]["code"] == "not_found"


def test_annotation_value_must_have_exactly_one_key(server, store):
    dossier = a_dossier(store)
    response = run_document(
        server.url,
        "dossierModifierAnnotations",
        input={
            "dossierId": dossier.id,
            "instructeurId": CONNECTOR_INSTRUCTEUR_ID,
            "annotations": [{"id": ANNOTATION_IDS["wif_service"], "value": {"text": "a", "textarea": "b"}}],
        },
    )
    body = response.json()
    # graphql-core 3.3 enforces @oneOf at coercion; older versions reach our own check.
    rejected = body.get("errors") or body["data"]["dossierModifierAnnotations"]["errors"]
    assert rejected and "wif_service" not in dossier.annotations
