"""Issue #22 item 2, the cursus: the form asks the establishment, the diploma prepared and the year of study (the
ANEF procedure's first step: « identité, cursus, adresse de contact »), and agents see them where the job's link
with the course is judged (docs/apt-hours.md#the-cursus). Each test refiles a sandbox dossier as the case, runs
`wif sync` and `wif push`, and reads what DS now shows: the label and the annotations."""

from __future__ import annotations

import pytest

from tests.push_helpers import CONNECTOR_MESSAGE
from tests.rows_helpers import Desk, lines, pdf

CURSUS = "wif_cursus"
ALGERIAN_PERMIT = "Certificat de résidence algérien étudiant"
NO_CURSUS = dict(cursus_etablissement=None, cursus_diplome=None, cursus_annee=None)


@pytest.fixture(scope="module")
def desk(module_database_url):
    desk = Desk(module_database_url)
    yield desk
    desk.close()


def test_the_cursus_is_shown_where_the_course_link_is_judged(desk):
    """Full time for nine months on a CDD (1,375 h): above 964 h the job must belong to the course."""
    shown = desk.case(
        cursus_etablissement="Université de Lyon", cursus_diplome="Master informatique", cursus_annee="2e année"
    )
    assert shown.label == "Complet"
    [school, diploma, year, link] = lines(shown.annotations[CURSUS])
    assert (school, diploma, year) == (
        "Établissement : Université de Lyon",
        "Diplôme préparé : Master informatique",
        "Année d'études : 2e année",
    )
    assert link.startswith("Lien avec l'emploi : exigé : 13")
    assert link.endswith("h sur l'année du titre la plus chargée, au-delà du seuil de 964 h ; réponse du dossier : oui")


def test_the_applicants_answer_on_the_link_is_shown_with_the_cursus(desk):
    shown = desk.case(
        cursus_etablissement="Université de Lyon",
        cursus_diplome="Doctorat de chimie",
        cursus_annee="3e année",
        emploi_lien_formation=False,
    )
    assert shown.label == "Incomplet"
    assert lines(shown.annotations[CURSUS])[-1].endswith("réponse du dossier : non")


def test_a_dossier_without_cursus_that_needs_the_course_link_is_a_verifier_with_the_cursus_named(desk):
    """A dossier filed before the form asked the cursus, above 964 h: the agent cannot judge the link."""
    number = desk.file(**NO_CURSUS)
    sent_before = sum(CONNECTOR_MESSAGE in body for body in desk.shown(number).messages)
    desk.run()
    shown = desk.shown(number)
    assert (shown.label, shown.annotations["wif_statut"]) == ("À vérifier", "à vérifier")
    [anomaly] = [line for line in lines(shown.annotations["wif_anomalies"]) if "ursus" in line]
    assert anomaly.startswith(
        "Cursus non renseigné dans le dossier (établissement, diplôme préparé, année d'études) : avec 13"
    )
    assert anomaly.endswith(
        "au-delà du seuil de 964 h, le lien entre l'emploi et la formation ne peut pas être jugé sans lui."
    )
    assert lines(shown.annotations[CURSUS]) == [
        "Établissement : non renseigné",
        "Diplôme préparé : non renseigné",
        "Année d'études : non renseigné",
        lines(shown.annotations[CURSUS])[3],
        "Cursus incomplet : le lien entre l'emploi et la formation ne peut pas être jugé sans lui.",
    ]
    # A warning for the agent: the applicant is not asked (the form did not ask when the dossier was filed).
    assert sum(CONNECTOR_MESSAGE in body for body in shown.messages) == sent_before


def test_a_cursus_missing_its_year_names_the_year_only(desk):
    shown = desk.case(cursus_etablissement="IUT de Lille", cursus_diplome="BUT gestion", cursus_annee=None)
    assert shown.label == "À vérifier"
    assert any(
        line.startswith("Cursus non renseigné dans le dossier (année d'études) :")
        for line in lines(shown.annotations["wif_anomalies"])
    )


@pytest.mark.parametrize(
    "case, link",
    [
        # The 1968 accord: an APT from the first hour, no course link (15 h a week, under the cap).
        (dict(nationalite="DZ", titre_type=ALGERIAN_PERMIT, heures_nombre=15.0), "non exigé : accord franco-algérien"),
        # A CIFRE always needs an APT: no threshold is judged.
        (
            dict(contrat_type="Convention CIFRE", pj_contrat=(), pj_cifre=pdf("contrat_cifre")),
            "non jugé : aucun seuil retenu (contrat exempté ou nationalité inconnue)",
        ),
    ],
)
def test_a_missing_cursus_where_the_link_is_no_condition_is_no_anomaly(desk, case, link):
    shown = desk.case(**NO_CURSUS, **case)
    assert shown.label == "Complet"
    assert not any("ursus" in line for line in lines(shown.annotations["wif_anomalies"]))
    assert lines(shown.annotations[CURSUS])[3] == f"Lien avec l'emploi : {link}"
