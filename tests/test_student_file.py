"""The student's file across dossiers (issue 22, items 8 and 9; rules.yaml student_file), at the level of what DS
received: sandbox dossiers refiled as one student's requests, then `wif sync` and `wif push`; each test reads the
labels, the annotations and the messages the sandbox now shows. A student is the titre number and the birth date;
the other dossiers are named by number, with their hours, in the private annotations only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.rows_helpers import Desk, deposit_of, lines

ALGERIAN_PERMIT = "Certificat de résidence algérien étudiant"
FILE = "wif_dossier_etudiant"


@pytest.fixture(scope="module")
def desk(module_database_url):
    desk = Desk(module_database_url, dossiers=80, seed=17)
    yield desk
    desk.close()


def siret_of(desk: Desk, number: int) -> str:
    return desk.store.dossier(number).values["employeur_siret"].siret


def two_employers(desk: Desk) -> tuple[int, int]:
    """Two dossiers of the pool whose employers differ."""
    first = desk.take()
    second = desk.take()
    while siret_of(desk, second) == siret_of(desk, first):
        second = desk.take()
    return first, second


def five_hundred_hours(start: date, **values) -> dict:
    """25 h a week for 20 weeks: 500 h."""
    return dict(
        contrat_date_debut=start.isoformat(),
        contrat_date_fin=(start + timedelta(days=139)).isoformat(),
        heures_nombre=25.0,
        **values,
    )


def student(birth: str, permit_number: str, titre_start: date, **values) -> dict:
    return dict(
        date_naissance=birth,
        titre_numero=permit_number,
        titre_date_debut=titre_start.isoformat(),
        titre_date_expiration=(titre_start + timedelta(days=500)).isoformat(),
        **values,
    )


def one_student_two_jobs(desk: Desk, birth: str, **values) -> tuple[int, int, date]:
    """Two requests of one student, two employers, 500 h each in the same titre year; the titre number written
    differently in each (spaces, case)."""
    first, second = two_employers(desk)
    start = max(deposit_of(desk, first), deposit_of(desk, second)) + timedelta(days=14)
    titre_start = start - timedelta(days=30)
    desk.file(first, **student(birth, "AB12345678", titre_start, **values), **five_hundred_hours(start))
    desk.file(
        second,
        **student(birth, "ab 1234 5678", titre_start, **values),
        **five_hundred_hours(start + timedelta(days=140)),
    )
    return first, second, titre_start


@pytest.mark.parametrize(
    "values, alone, figure",
    [
        ({}, ("Hors périmètre", "hors périmètre"), "au-delà du seuil de 964 h"),
        ({"nationalite": "DZ", "titre_type": ALGERIAN_PERMIT}, ("Complet", "complet"), "au-delà du plafond de 804 h"),
    ],
    ids=["threshold", "algerian-cap"],
)
def test_two_jobs_of_one_student_are_summed_over_the_titre_year(desk, values, alone, figure):
    """ANEF: 964 h a year « sans avoir à solliciter une autorisation », and « jusqu'à 50 % de la durée annuelle »
    under the accord: the student's year, whatever the number of jobs (rules.yaml student_file.counted_hours)."""
    birth = "1999-03-14" if not values else "1998-07-02"
    first, second, titre_start = one_student_two_jobs(desk, birth, **values)
    desk.store.modify(second, titre_numero="ZZ99999999")  # another student's, at first
    desk.run()
    for number in (first, second):
        assert (desk.shown(number).label, desk.shown(number).annotations["wif_statut"]) == alone
    desk.store.modify(second, titre_numero="ab 1234 5678")
    desk.run()
    for number, other in ((second, first), (first, second)):
        shown = desk.shown(number)
        assert (shown.label, shown.annotations["wif_statut"]) == ("À vérifier", "à vérifier")
        [anomaly] = [
            line for line in lines(shown.annotations["wif_anomalies"]) if line.startswith("Heures de l'étudiant")
        ]
        assert f"n° {number} (500 h)" in anomaly and f"n° {other} (demande en attente, 500 h)" in anomaly
        assert f"1\u202f000 h au total, {figure}" in anomaly
        year_end = titre_start.replace(year=titre_start.year + 1) - timedelta(days=1)
        assert lines(shown.annotations[FILE]) == [
            f"Année du titre de séjour du {titre_start:%d/%m/%Y} au {year_end:%d/%m/%Y} : 1\u202f000 h au total, "
            f"{figure}",
            f"ce dossier (n° {number}) : 500 h",
            f"dossier n° {other} (demande en attente) : 500 h",
        ]


def test_a_namesake_with_another_titre_number_is_another_student(desk):
    """The match is the titre number and the birth date: same name and birth date, another titre, no match."""
    first, second, _ = one_student_two_jobs(desk, "2000-11-05")
    namesake = desk.take()
    record = desk.store.dossier(first).values
    desk.file(
        namesake,
        **{
            **desk.store.dossier(second).values,
            "titre_numero": "CD87654321",
            "nom": record["nom"],
            "prenom": record["prenom"],
        },
    )
    desk.run()
    shown = desk.shown(namesake)
    assert (shown.label, shown.annotations[FILE]) == (
        "Hors périmètre",
        (
            "Aucune autre demande de l'étudiant dans les dossiers reçus (même numéro de titre de séjour et même date "
            "de "
            "naissance)"
        ),
    )
    assert str(namesake) not in desk.shown(first).annotations[FILE]
    assert str(namesake) not in desk.shown(second).annotations["wif_anomalies"]


def test_the_applicant_is_told_nothing_of_the_other_dossier(desk):
    """Only the private annotations name the student's other dossiers: the message to the applicant lists what to
    fix in this dossier, never another request."""
    first, second, _ = one_student_two_jobs(desk, "1997-01-23", pj_passeport=())
    desk.run()
    shown = desk.shown(second)
    assert shown.label == "Incomplet"
    assert f"n° {first}" in shown.annotations[FILE]
    [message] = [body for body in shown.messages if "ne peut pas encore être instruite" in body]
    assert "Passeport" in message
    assert str(first) not in message and "autre" not in message and "Heures de l'étudiant" not in message


def test_a_duplicate_pending_request_names_the_other(desk):
    """An APT covers one employer (docs/apt-hours.md#the-students-other-requests): two pending requests of one
    student for one SIRET over common days (rules.yaml student_file.duplicate_request)."""
    first, second = desk.take(), desk.take()
    start = max(deposit_of(desk, first), deposit_of(desk, second)) + timedelta(days=14)
    same = student(
        "1996-05-30",
        "EF11223344",
        start - timedelta(days=30),
        contrat_date_debut=start.isoformat(),
        contrat_date_fin=(start + timedelta(days=200)).isoformat(),
        employeur_siret=desk.store.dossier(first).values["employeur_siret"],
    )
    desk.file(first, **same)
    desk.file(second, **same)
    desk.run()
    for number, other in ((first, second), (second, first)):
        shown = desk.shown(number)
        assert shown.label == "À vérifier"
        assert f"Demande en double : dossier n° {other} (même employeur, dates communes)" in lines(
            shown.annotations[FILE]
        )
        anomalies = lines(shown.annotations["wif_anomalies"])
        assert (
            f"Demande en double : le dossier n° {other}, en attente comme celui-ci, porte sur le même employeur "
            "et des dates communes : à vérifier."
        ) in anomalies
        # Each over the threshold on its own hours, its course link judged already: the sum adds no finding.
        assert not any(line.startswith("Heures de l'étudiant") for line in anomalies)


def test_a_renewal_names_the_changes_that_need_a_new_request(desk):
    """A new request is needed for a new employer, a new contract type or job, a later end, more hours or a lower
    salary (rules.yaml student_file.renewal, docs/apt-hours.md#the-students-other-requests): named for agents."""
    previous, renewal = two_employers(desk)
    start = max(deposit_of(desk, previous), deposit_of(desk, renewal)) - timedelta(days=200)
    titre_start = start - timedelta(days=30)
    desk.file(
        previous,
        **student("1995-09-09", "GH55667788", titre_start),
        contrat_date_debut=start.isoformat(),
        contrat_date_fin=(start + timedelta(days=180)).isoformat(),
        heures_nombre=20.0,
    )
    desk.store.set_state(previous, "en_instruction")
    desk.store.set_state(previous, "accepte")
    desk.store.set_annotations(
        previous, apt_date_debut=start.isoformat(), apt_date_fin=(start + timedelta(days=180)).isoformat()
    )
    later = start + timedelta(days=181)
    desk.file(
        renewal,
        **student("1995-09-09", "GH55667788", titre_start),
        demande_type="Renouvellement",
        contrat_date_debut=later.isoformat(),
        contrat_date_fin=(later + timedelta(days=180)).isoformat(),
        heures_nombre=20.0,
    )
    desk.run()
    assert f"Renouvellement de l'APT du dossier n° {previous} : employeur différent, fin plus tardive" in lines(
        desk.shown(renewal).annotations[FILE]
    )


def test_a_file_that_cannot_be_computed_stops_no_sync(make_sandbox, ds_client_for, sessions, monkeypatch):
    """The files follow each page; a failure there leaves them as they were and saves the page all the same."""
    from mappings import student_file
    from tests.sync_helpers import local_snapshot, make_syncer, sandbox_snapshot

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(student_file, "student_file", broken)
    server = make_sandbox(dossiers=30)
    make_syncer(ds_client_for(server), sessions).sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)
