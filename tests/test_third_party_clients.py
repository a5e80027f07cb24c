"""A client the project did not write, installed from PyPI (demarches-simpy 0.0.18, a test extra),
runs unchanged against `wif sandbox`: it reads a démarche's dossiers, their champs and annotations,
and sends each of its mutations. The library has DS's production URL built in; its Profile is the
one place it reads it from, so the test gives it the sandbox's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

simpy = pytest.importorskip("demarches_simpy")
from demarches_simpy import (  # noqa: E402  # noqa: E402
    AnnotationModifier,
    Demarche,
    Dossier,
    DossierState,
    FileUploader,
    MessageSender,
    Profile,
    StateModifier,
)
from demarches_simpy.connection import RequestBuilder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SUCCESS = 0  # demarches-simpy's IAction.SUCCESS


class SandboxProfile(Profile):
    def __init__(self, url: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sandbox_url = url

    def get_url(self) -> str:
        return self._sandbox_url


@pytest.fixture(scope="module")
def sandbox():
    """`wif sandbox` as a user starts it; its first lines say where it listens and which ids to use."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DS_", "WIF_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "sandbox", "--port", "0", "--dossiers", "40", "--seed", "8"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("export "):
            break
    printed = "".join(lines)
    url = re.search(r"DS_API_URL=(\S+)", printed).group(1)
    token = re.search(r"DS_API_TOKEN=(\S+)", printed).group(1)
    instructeur = re.search(r"DS_INSTRUCTEUR_ID=(\S+)", printed).group(1)
    yield url, token, instructeur
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def profile(sandbox):
    url, token, instructeur = sandbox
    return SandboxProfile(url, token, instructeur)


def ask(sandbox, query: str, **variables) -> dict:
    """The sandbox read directly, to judge what the client did."""
    url, token, _ = sandbox
    return requests.post(
        url, json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()["data"]


def numbers_in(sandbox, state: str) -> list[int]:
    data = ask(
        sandbox,
        "query q($s: DossierState) { demarche(number: 1) { dossiers(state: $s) { nodes { number } } } }",
        s=state,
    )
    return [n["number"] for n in data["demarche"]["dossiers"]["nodes"]]


def state_of(sandbox, number: int) -> dict:
    return ask(sandbox, "query q($n: Int!) { dossier(number: $n) { state archived } }", n=number)["dossier"]


def test_reads_the_demarche_its_dossiers_champs_and_annotations(sandbox, profile):
    demarche = Demarche(1, profile)
    dossiers = demarche.get_dossiers(limit=100)
    assert sorted(d.get_number() for d in dossiers) == sorted(
        n
        for state in ("en_construction", "en_instruction", "accepte", "refuse", "sans_suite")
        for n in numbers_in(sandbox, state)
    )
    assert "Nationalité" in demarche.get_fields() and demarche.get_annotations()
    assert demarche.get_instructeurs_info()
    dossier = dossiers[0]
    fields = dossier.get_fields()
    assert len(fields) > 40 and all(f.id and f.label for f in fields)
    texts = [f for f in fields if f.type == "TextChamp" and f.stringValue]
    assert texts[0].value == texts[0].stringValue  # a second request per champ, by its id
    assert dossier.get_pdf_url().startswith(sandbox[0].rsplit("/api/", 1)[0])
    assert dossier.get_annotations() and dossier.get_attached_demarche().get_number() == 1


def test_sends_each_of_its_mutations(sandbox, profile, tmp_path):
    number = numbers_in(sandbox, "en_construction")[0]
    dossier = Dossier(number, profile)
    steps = (
        (DossierState.INSTRUCTION, "en_instruction"),
        (DossierState.CONSTRUCTION, "en_construction"),
        (DossierState.INSTRUCTION, "en_instruction"),
        (DossierState.ACCEPTE, "accepte"),
        (DossierState.INSTRUCTION, "en_instruction"),
        (DossierState.REFUSE, "refuse"),
        (DossierState.INSTRUCTION, "en_instruction"),
        (DossierState.SANS_SUITE, "sans_suite"),
    )
    for wanted, state in steps:
        dossier.force_fetch()  # the client picks "Passer" or "Repasser" from the state it last read
        assert StateModifier(profile, dossier).perform(wanted, "Décision de test.") == SUCCESS, wanted
        assert state_of(sandbox, number)["state"] == state

    archiver = RequestBuilder(profile, "./query/actions.graphql").add_variable(
        "input", {"dossierId": dossier.get_id(), "instructeurId": profile.get_instructeur_id()}
    )
    archived = archiver.send_request(
        {"query": archiver.get_query(), "operationName": "dossierArchiver", "variables": archiver.get_variables()}
    )
    assert archived.json()["data"]["dossierArchiver"]["errors"] is None and state_of(sandbox, number)["archived"]

    piece = tmp_path / "attestation.txt"
    piece.write_text("Attestation de test\n")
    uploader = FileUploader(profile, dossier)
    assert uploader.perform(str(piece), "attestation.txt", "text/plain") == SUCCESS
    sender = MessageSender(profile, dossier, instructeur_id=profile.get_instructeur_id())
    assert sender.perform("Bonjour, voici l'attestation.", uploader.get_last_file_uploaded()) == SUCCESS
    messages = ask(
        sandbox, "query q($n: Int!) { dossier(number: $n) { messages { body attachments { filename } } } }", n=number
    )["dossier"]["messages"]
    assert messages[-1] == {"body": "Bonjour, voici l'attestation.", "attachments": [{"filename": "attestation.txt"}]}

    text_annotation = dossier.get_annotations()["Cadre réservé à l'administration"]  # a textarea
    assert AnnotationModifier(profile, dossier).perform(text_annotation, "Vu par le service") == SUCCESS
    shown = ask(sandbox, "query q($n: Int!) { dossier(number: $n) { annotations { id stringValue } } }", n=number)
    assert {"id": text_annotation["id"], "stringValue": "Vu par le service"} in shown["dossier"]["annotations"]
