"""One test per rule row of issue #22, at the level of what DS received: a sandbox dossier refiled as the case,
then `wif sync` and `wif push`; each test reads the label and the annotations the sandbox now shows. Each row
names its source (rules.yaml, procedure.yaml, docs/apt-*.md)."""

from __future__ import annotations

import pytest

from sandbox.champs import StoredFile
from tests.rows_helpers import GENERAL, Desk, lines, pdf

INTERNE, CIFRE = "Interne en médecine, pharmacie ou odontologie", "Convention CIFRE"
ALGERIAN_PERMIT = "Certificat de résidence algérien étudiant"


@pytest.fixture(scope="module")
def desk(module_database_url):
    desk = Desk(module_database_url)
    yield desk
    desk.close()


def test_the_base_case_is_complete(desk):
    shown = desk.case()
    assert (shown.label, shown.annotations["wif_statut"]) == ("Complet", "complet")


def test_an_internship_is_out_of_scope(desk):
    """ANEF: a student who « souhaite faire un stage, n'a pas à solliciter une autorisation de travail » (rules.yaml
    out_of_scope_contract_types)."""
    shown = desk.case(contrat_type="Convention de stage")
    assert (shown.label, shown.annotations["wif_statut"]) == ("Hors périmètre", "hors périmètre")
    assert (
        "Stage sous convention de stage : un étudiant étranger n'a pas à demander d'autorisation de travail pour "
        "un stage, demande hors périmètre."
    ) in lines(shown.annotations["wif_anomalies"])


@pytest.mark.parametrize(
    "nationality, name, permit",
    [
        ("DZ", "Algérie", "Carte de séjour étudiant"),
        ("MA", "Maroc", ALGERIAN_PERMIT),
    ],
)
def test_a_nationality_that_disagrees_with_the_titre_is_a_verifier_with_both_named(desk, nationality, name, permit):
    """ANEF: the accord's rule is for « étudiants algériens titulaires d'un certificat de résidence » (rules.yaml
    algerian_accord): the titre decides, a mismatch is named."""
    shown = desk.case(nationalite=nationality, titre_type=permit, heures_nombre=15.0)
    assert (shown.label, shown.annotations["wif_statut"]) == ("À vérifier", "à vérifier")
    [anomaly] = [line for line in lines(shown.annotations["wif_anomalies"]) if line.startswith("Nationalité")]
    assert anomaly.startswith(f"Nationalité « {name} » et titre « {permit} » :")
    # 15 h a week for nine months (589 h): under the threshold of a titre étudiant, yet not « Hors périmètre » while
    # the regime is disputed; the hours annotation says which figure the titre gave.
    figure = "plafond 804 h" if permit == ALGERIAN_PERMIT else "seuil 964 h"
    assert figure in shown.annotations["wif_heures_annuelles"]


@pytest.mark.parametrize(
    "contract, capped",
    [
        ("Contrat d'ATER", True),
        (CIFRE, False),
        ("Contrat doctoral", False),
        ("Contrat d'apprentissage", False),
        ("Contrat de professionnalisation", False),
        (INTERNE, False),
    ],
)
def test_the_algerian_cap_applies_to_every_contract_but_its_exceptions(desk, contract, capped):
    """ANEF: « jusqu'à 50 % de la durée annuelle de travail »; rules.yaml algerian_cap_exempt_contract_types, one
    row each (docs/apt-hours.md#the-algerian-cap-and-its-exceptions): no text exempts the ATER."""
    documents = {
        "Contrat d'ATER": {"pj_ater": pdf("arrete")},
        CIFRE: {"pj_cifre": pdf("contrat_cifre")},
        INTERNE: {
            key: pdf(key)
            for key in ("pj_interne_recrutement", "pj_interne_chef_service", "pj_interne_dfms", "pj_interne_identite")
        },
    }
    shown = desk.case(
        nationalite="DZ", titre_type=ALGERIAN_PERMIT, contrat_type=contract, **documents.get(contract, {})
    )
    if capped:
        assert (shown.label, shown.annotations["wif_statut"]) == ("À vérifier", "à vérifier")
        assert any("au-delà du plafond de 804 h" in line for line in lines(shown.annotations["wif_anomalies"]))
    else:
        assert (shown.label, shown.annotations["wif_statut"]) == ("Complet", "complet")
        assert "aucun seuil ni plafond retenu" in shown.annotations["wif_heures_annuelles"]


@pytest.mark.parametrize("size, accepted", [(10_485_760, True), (10_485_761, False), (10_000_001, True)])
def test_a_file_of_10_mo(desk, size, accepted):
    """ANEF: « sans dépasser 10 Mo par fichier », read as 10 × 1024 × 1024 bytes (rules.yaml files.max_bytes,
    docs/apt-documents.md#file-rules)."""
    shown = desk.case(pj_contrat=(StoredFile("contrat.pdf", "application/pdf", size),))
    if accepted:
        assert shown.label == "Complet"
    else:
        assert shown.label == "Incomplet"
        assert lines(shown.annotations["wif_pieces_manquantes"]) == [
            "Aucune pièce manquante",
            "À remplacer (fichier envoyé qui ne peut pas être accepté) :",
            "Le fichier « contrat.pdf » (contrat de travail ou promesse d'embauche) dépasse 10 Mo.",
        ]
        assert any("dépasse 10 Mo" in body for body in shown.messages)


def test_a_cifre_sends_a_copy_of_its_contract(desk):
    """FAQ: « vous devrez fournir une copie du contrat CIFRE » (procedure.yaml pj_cifre, "
    "docs/apt-documents.md#cifre)."""
    shown = desk.case(contrat_type=CIFRE, pj_contrat=())
    assert shown.label == "Incomplet"
    assert lines(shown.annotations["wif_pieces_manquantes"]) == ["Pièce manquante : copie du contrat CIFRE"]
    shown = desk.case(contrat_type=CIFRE, pj_contrat=(), pj_cifre=pdf("contrat_cifre"))
    assert shown.label == "Complet"


def test_an_interne_sends_the_four_documents_of_the_faq(desk):
    """FAQ, internes: attestation de recrutement, attestation du chef de service, DFMS or DFMSA certificate, « copie
    passeport … ou titre de séjour »; they stand for the general documents (docs/apt-documents.md#internes)."""
    four = {
        key: pdf(key)
        for key in ("pj_interne_recrutement", "pj_interne_chef_service", "pj_interne_dfms", "pj_interne_identite")
    }
    shown = desk.case(contrat_type=INTERNE, **four, **{key: () for key in GENERAL})
    assert (shown.label, shown.annotations["wif_pieces_manquantes"]) == ("Complet", "Aucune")
    shown = desk.case(contrat_type=INTERNE, **{**four, "pj_interne_identite": ()})
    assert shown.label == "Incomplet"
    assert lines(shown.annotations["wif_pieces_manquantes"]) == [
        "Pièce manquante : copie du passeport (nom et prénom) ou du titre de séjour"
    ]
