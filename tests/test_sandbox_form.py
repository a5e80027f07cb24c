"""The sandbox's own démarche: its form file, the stable ids it gives like DS, new revisions."""

from __future__ import annotations

import base64
from datetime import date

import pytest
import requests
import yaml

from mappings.procedure import PROCEDURE_FILE
from sandbox.form import FORM_FILE, different_form, load_form
from sandbox.generator import seeded_store
from sandbox.server import start_server
from tests.sandbox_requests import run_document

# The shared `store` and `server` fixtures (conftest).
SANDBOX = dict(n=60, seed=5, today=date(2026, 6, 1), groupe_labels=["Paris"])
SANDBOX_SERVER = dict(rate_limit=1_000_000)


def _descriptors(server, number=1):
    body = run_document(server.url, "getDemarcheDescriptor", demarcheNumber=number).json()
    return body["data"]["demarche"]


def _flat(descriptors):
    for d in descriptors:
        yield d
        yield from d.get("champDescriptors") or []


def test_stable_ids_are_large_ds_like_and_differ_per_seed():
    one, two = load_form(1), load_form(2)
    ids = one.stable_ids()
    assert all(1_000_000 <= i < 10_000_000 for i in ids.values())
    assert len(set(ids.values())) == len(ids)
    assert set(ids.values()).isdisjoint(two.stable_ids().values())
    assert load_form(1).stable_ids() == ids  # the same seed, the same ids
    # Created in form order, the champs a later revision added last.
    assert ids["civilite"] < ids["nom"] < ids["wif_service"] < ids["autres_emplois"] < ids["autre_employeur"]
    assert one.champ("nom").id == base64.b64encode(f"Champ-{ids['nom']}".encode()).decode()


def test_the_api_shows_the_sandbox_ids_and_nothing_of_the_connector(server, store):
    demarche = _descriptors(server)
    revision = demarche["activeRevision"]
    shown = {d["id"] for d in _flat(revision["champDescriptors"])} | {
        d["id"] for d in revision["annotationDescriptors"]
    }
    form = load_form(5)
    assert shown == {d.id for d in form.all_champs()}
    # None of the ids the connector's definition once carried (100, 101, …) is a sandbox id.
    assert all(int(base64.b64decode(i).decode().split("-")[1]) > 999_999 for i in shown)


def test_the_sandbox_form_has_every_champ_of_the_apt_form_with_its_label_and_type():
    """The two files are written apart (the sandbox imports nothing of the connector); they describe
    the same form: what binding by label and type relies on. Every champ of the sandbox form is one of
    the definition, and it has every champ binding requires; a pièce or champ the definition asks only
    in some cases may be missing, as on a démarche whose administrateur has not added it yet (a test of
    that pièce adds it, as an administrateur would)."""
    procedure = yaml.safe_load(PROCEDURE_FILE.read_text())
    sandbox = yaml.safe_load(FORM_FILE.read_text())

    def described(raws, required_only=False):
        out = {}
        for raw in raws:
            if required_only and not raw.get("required"):
                continue
            options = (option["label"] if isinstance(option, dict) else option for option in raw.get("options", ()))
            out[(raw["label"], raw["type"])] = tuple(options)
            for child in raw.get("champs", ()):
                out[(raw["label"], child["label"], child["type"])] = ()
        return out

    in_sandbox, defined = described(sandbox["champs"]), described(procedure["champs"])
    assert {key: defined.get(key) for key in in_sandbox} == in_sandbox
    assert described(procedure["champs"], required_only=True).items() <= in_sandbox.items()
    assert described(sandbox["annotations"]) == described(procedure["annotations"])
    assert {label["name"] for label in sandbox["labels"]} == {label["name"] for label in procedure["labels"]}


def test_the_generator_fills_only_champs_of_the_sandbox_form(store):
    names = {d.key for d in load_form(5).all_champs()}
    filled = set()
    for dossier in store.dossiers.values():
        filled |= set(dossier.values)
        for value in dossier.values.values():
            if isinstance(value, list):
                filled |= {key for _, row in value for key in row}
    assert filled and filled <= names


def test_some_decided_dossiers_keep_the_old_revision_which_differs(store):
    demarche = store.demarches[1]
    old, new = demarche.revisions
    on_old = [d for d in store.dossiers.values() if d.revision == 0]
    assert 0.015 <= len(on_old) / len(store.dossiers) <= 0.25
    assert "autres_emplois" not in {d.key for d in old.champs} and "autres_emplois" in {d.key for d in new.champs}
    worded = {d.key: d.label for d in old.champs}
    assert worded["emploi_intitule"] != demarche.champ("emploi_intitule").label


def test_publishing_a_revision_rewords_labels_and_old_dossiers_keep_theirs():
    store = seeded_store(20, seed=6, today=date(2026, 6, 1))
    demarche = store.demarches[1]
    before = demarche.active_revision
    stable = demarche.champ("nationalite").stable_id
    revision = store.publish_revision(1, labels={"nationalite": "Pays de nationalité"}, removed=("telephone_etudiant",))
    assert demarche.active_revision is revision and revision.id != before.id
    assert revision.published_at > before.published_at
    assert demarche.champ("nationalite").label == "Pays de nationalité"
    assert demarche.champ("nationalite").stable_id == stable  # DS keeps the stable id
    assert "telephone_etudiant" not in {d.key for d in revision.champs}
    assert all(d.revision in (0, 1) for d in store.dossiers.values())  # filed before: their revision stays
    with pytest.raises(KeyError):
        store.publish_revision(1, labels={"no_such_champ": "x"})


def test_an_administrateur_can_publish_a_revision_over_http():
    store = seeded_store(10, seed=7, today=date(2026, 6, 1))
    with start_server(store) as server:
        base = server.url.removesuffix("/api/v2/graphql")
        stable = store.demarches[1].champ("lieu_naissance").stable_id
        answer = requests.post(
            f"{base}/__sandbox/demarches/1/revisions", json={"labels": {str(stable): "Ville de naissance"}}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        revision = _descriptors(server)["activeRevision"]
        assert revision["id"] == answer.json()["revision"]["id"]
        labels = {d["id"]: d["label"] for d in revision["champDescriptors"]}
        assert labels[store.demarches[1].champ("lieu_naissance").id] == "Ville de naissance"
        refused = requests.post(f"{base}/__sandbox/demarches/1/revisions", json={"removed": ["123"]}, timeout=10)
        assert refused.status_code == 400


def test_a_different_form_reuses_ids_for_other_champs_and_rewords_some():
    like = load_form(3)
    other = different_form(like)
    assert other.champ("nationalite").stable_id != like.champ("nationalite").stable_id
    assert other.champ("nationalite").stable_id in like.stable_ids().values()  # the ids collide
    # Reading nationality by the first form's id finds another champ.
    by_id = {d.stable_id: d.key for d in other.all_champs()}
    assert by_id[like.champ("nationalite").stable_id] == "lieu_naissance"
    assert other.champ("nationalite").label != like.champ("nationalite").label
    with pytest.raises(KeyError):
        other.champ("pj_inscription")


def test_two_demarches_of_one_store_have_ids_of_their_own():
    store = seeded_store(5, seed=8, today=date(2026, 6, 1))
    second = store.add_demarche(groupe_labels=["Autre"])
    first_ids = {d.stable_id for r in store.demarches[1].revisions for d in r.champs}
    second_ids = {d.stable_id for r in second.revisions for d in r.champs}
    assert first_ids.isdisjoint(second_ids)
