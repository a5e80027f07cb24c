"""The full generator: a démarche with a champ of every type DS offers, served only when asked, whose
dossiers carry realistic values of each type; file URLs that expire like DS's."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from sandbox.descriptors import DESCRIPTOR_TYPES
from sandbox.every_champ import add_every_champ_demarche
from sandbox.files import Refused, verify
from sandbox.generator import seeded_store
from sandbox.server import start_server
from tests.sandbox_requests import post

TODAY = date(2026, 1, 1)
CHAMPS = """query q($n: Int!) { demarche(number: $n) {
  activeRevision { champDescriptors { __typename } annotationDescriptors { __typename } }
  dossiers { nodes { number champs { ...C ... on RepetitionChamp { rows { champs { ...C } } } } annotations { ...C } } }
} }
fragment C on Champ {
  __typename stringValue
  ... on AddressChamp { address { postalCode departmentCode regionName } }
  ... on CommuneChamp { commune { code postalCode } }
  ... on DepartementChamp { departement { code } }
  ... on RegionChamp { region { code name } }
  ... on PaysChamp { pays { code } }
  ... on EpciChamp { epci { code name } }
  ... on YesNoChamp { yesNo: value }
  ... on DatetimeChamp { datetime }
  ... on MultipleDropDownListChamp { values }
  ... on LinkedDropDownListChamp { primaryValue secondaryValue }
  ... on RNAChamp { rna { id title } }
  ... on RNFChamp { rnf { id } }
  ... on CarteChamp { geoAreas { source geometry { type coordinates } ... on ParcelleCadastrale { section numero } } }
  ... on DossierLinkChamp { dossier { number } }
  ... on TitreIdentiteChamp { filled grantType }
  ... on PieceJustificativeChamp { files { filename url } }
  ... on HeaderSectionChamp { level }
  ... on EngagementJuridiqueChamp { engagementJuridique { montantEngage } }
  ... on DropDownListChamp { value }
  ... on ExplicationChamp { __typename }
}"""


@pytest.fixture(scope="module")
def store():
    store = seeded_store(5, seed=1, today=TODAY)
    add_every_champ_demarche(store, 40, seed=4, today=TODAY)
    return store


@pytest.fixture(scope="module")
def served(store):
    with start_server(store) as server:
        body = post(server.url, CHAMPS, {"n": 2}).json()
        assert "errors" not in body, body["errors"][:3]
        yield server, body["data"]["demarche"]


def test_only_asked_for(store):
    assert seeded_store(5, seed=1, today=TODAY).demarches.keys() == {1}
    assert store.demarches[2].title == "Demande de subvention pour un projet associatif"


def test_every_descriptor_type(served):
    _, demarche = served
    revision = demarche["activeRevision"]
    served_types = {d["__typename"] for d in revision["champDescriptors"] + revision["annotationDescriptors"]}
    assert served_types == {name + "ChampDescriptor" for name in DESCRIPTOR_TYPES.values()}


def test_every_champ_type_with_values(served):
    _, demarche = served
    champs = [c for n in demarche["dossiers"]["nodes"] for c in n["champs"] + n["annotations"]]
    champs += [child for c in champs for row in c.get("rows") or () for child in row["champs"]]
    by_type = {}
    for champ in champs:
        by_type.setdefault(champ["__typename"], []).append(champ)
    assert len(by_type) == 28  # every Champ implementation of DS's schema
    first = {
        name: next(
            (
                c
                for c in found
                if any(v not in (None, "", [], False) for k, v in c.items() if k not in ("__typename", "stringValue"))
            ),
            found[0],
        )
        for name, found in by_type.items()
    }
    assert re.fullmatch(r"\d{5}", first["AddressChamp"]["address"]["postalCode"])
    assert first["RegionChamp"]["region"]["name"] and first["EpciChamp"]["epci"]["code"]
    assert first["CarteChamp"]["geoAreas"][0]["geometry"]["type"] == "Polygon"
    assert first["DossierLinkChamp"]["dossier"]["number"] > 200_000
    assert first["TitreIdentiteChamp"] == {
        "__typename": "TitreIdentiteChamp",
        "stringValue": None,
        "filled": True,
        "grantType": "piece_justificative",
    }
    assert re.fullmatch(
        r"[A-Z]{3}-\d{4}",
        next(c["stringValue"] for c in by_type["TextChamp"] if re.fullmatch(r"[A-Z]{3}-\d{4}", c["stringValue"] or "")),
    )
    iban = next(
        c["stringValue"]
        for c in by_type["TextChamp"]
        if (c["stringValue"] or "").startswith("FR") and len(c["stringValue"]) == 27
    )
    assert int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1  # a valid IBAN
    assert re.fullmatch(r"\d{2} \w+ \d{4}", next(c["stringValue"] for c in by_type["DateChamp"] if c["stringValue"]))
    assert first["YesNoChamp"]["stringValue"] in ("true", "false")


def test_file_urls_expire_after_an_hour(served):
    server, demarche = served
    url = next(
        c["files"][0]["url"]
        for n in demarche["dossiers"]["nodes"]
        for c in n["champs"]
        if c["__typename"] == "PieceJustificativeChamp" and c["files"]
    )
    assert requests.get(url, timeout=10).status_code == 200
    token = url.split("/files/")[1].split("/")[0]
    with pytest.raises(Refused, match="expired"):
        verify("file", token, now=datetime.now(UTC) + timedelta(hours=1, minutes=1))
    forged = url.replace("/files/", "/files/x")
    assert requests.get(forged, timeout=10).status_code == 404


def test_the_pdf_needs_no_token_but_a_signed_id(served):
    server, _ = served
    pdf = post(
        server.url, "query q($n: Int!) { dossier(number: $n) { pdf { url byteSizeBigInt } } }", {"n": 200_001}
    ).json()["data"]["dossier"]["pdf"]
    assert pdf["byteSizeBigInt"] == "0"
    assert requests.get(pdf["url"], timeout=10).status_code == 200
    assert requests.get(pdf["url"][:-3] + "xyz", timeout=10).status_code == 401
