"""What the applicant and the agents are told about a dossier's findings (issue 19, items 3, 7 and 8), judged on
what DS received (the sandbox's journal of mutations, the messages and annotations it shows) and on the e-mails:
a condition of the APT is not a correction, the DS message and the « dossier incomplet » e-mail say the same
thing, and the labels and annotations tell agents the truth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

import pytest

from core.settings import DSSettings, NotifySettings, Settings
from jobs.cli import main
from jobs.status import collect_status, format_status
from mail.mailer import FolderMailer
from notifications.notify import run_notify
from sandbox.champs import StoredFile
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from tests.rows_helpers import Desk, deposit_of, lines

FILE_OVER_THE_LIMIT = (StoredFile("contrat.pdf", "application/pdf", 10_485_761),)
TEAM = "equipe-wif@example.gouv.fr"
INVALID_SIRET = "12345678900016"  # 14 digits, wrong key


@pytest.fixture(scope="module")
def desk(module_database_url):
    desk = Desk(module_database_url)
    yield desk
    desk.close()


def sent_messages(desk: Desk, number: int, since: int) -> list[dict]:
    """The dossierEnvoyerMessage inputs DS received for the dossier since a point of its journal."""
    ds_id = desk.store.dossier(number).id
    return [
        payload
        for name, payload in desk.store.mutation_log[since:]
        if name == "dossierEnvoyerMessage" and payload.get("dossierId") == ds_id
    ]


def refiled(desk: Desk, **values) -> tuple[int, list[dict]]:
    """A dossier refiled as the base request with `values`, synced and pushed: its number and the messages DS got."""
    before = len(desk.store.mutation_log)
    number = desk.file(**values)
    desk.run()
    return number, sent_messages(desk, number, before)


def wrong_siret(desk: Desk, number: int):
    """The dossier's établissement with a SIRET whose key is wrong."""
    return desk.store.dossier(number).values["employeur_siret"]._replace(siret=INVALID_SIRET)


def contract_start(desk: Desk, number: int) -> date:
    return date.fromisoformat(str(desk.store.dossier(number).values["contrat_date_debut"]))


# --- item 3: a condition of the APT is not a correction ---


def test_a_job_outside_the_course_is_told_as_a_condition_without_the_correction_flag(desk):
    """Above 964 h the job must belong to the course (docs/apt-hours.md): a truthful « non » is not a typo."""
    number, [message] = refiled(desk, emploi_lien_formation=False)
    assert desk.shown(number).label == "Incomplet"
    assert "correction" not in message or message["correction"] is None
    body = message["body"]
    assert "Conditions de l'autorisation non remplies :" in body
    assert "apprécié par le service qui instruit la demande" in body
    assert "Ce ne sont pas des erreurs à corriger" in body
    assert "corriger les réponses" not in body and "Merci de compléter ou de corriger" not in body


def test_a_titre_expiring_before_the_contract_says_which_document_to_add_without_the_correction_flag(desk):
    number = desk.take()
    expiry = contract_start(desk, number) - timedelta(days=10)
    number, [message] = refiled(desk, titre_date_expiration=expiry.isoformat())
    assert message.get("correction") is None
    body = message["body"]
    assert "Le titre de séjour expire avant le début du contrat." in body
    assert "récépissé" in body and "nouveau titre" in body
    assert desk.store.dossier(number).state == "en_construction"


def test_what_the_applicant_can_fix_keeps_the_correction_flag(desk):
    number = desk.take()
    _, [siret] = refiled(desk, number=number, employeur_siret=wrong_siret(desk, number))
    assert siret["correction"] == "incorrect"
    assert "Réponses à corriger dans le formulaire :" in siret["body"]
    _, [mixed] = refiled(desk, emploi_lien_formation=False, pj_passeport=())
    assert mixed["correction"] == "incomplete"
    assert "Pièces à ajouter :" in mixed["body"] and "Conditions de l'autorisation non remplies :" in mixed["body"]


# --- item 8: one wording for the DS message and the e-mail ---


def test_the_ds_message_and_the_incomplete_email_tell_the_same_groups_and_instructions(desk, tmp_path):
    number = desk.take()
    number, [message] = refiled(
        desk,
        number=number,
        pj_passeport=(),
        pj_contrat=FILE_OVER_THE_LIMIT,
        employeur_siret=wrong_siret(desk, number),
        emploi_lien_formation=False,
    )
    body = message["body"]
    headings = [
        "Pièces à ajouter :",
        "Pièces à remplacer (le fichier envoyé ne peut pas être accepté) :",
        "Réponses à corriger dans le formulaire :",
        "Conditions de l'autorisation non remplies :",
    ]
    positions = [body.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert "compressez le PDF" in body  # what to do with a file over the limit
    assert "Merci de compléter ou de corriger" not in body

    settings = Settings(ds=DSSettings(web_url="https://ds.example"), notify=NotifySettings(templates="all"))
    run_notify(desk.sessions, FolderMailer(tmp_path), datetime.now(UTC), settings)
    mails = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(tmp_path.glob("*.eml"))]
    [mail] = [m for m in mails if m["X-WIF-Message"] == "incomplet:applicant" and f"n° {number} " in m["Subject"]]
    text = mail.get_body(("plain",)).get_content()
    blocks = [block for block in body.split("\n\n") if block.startswith(tuple(headings))]
    assert len(blocks) == 4
    for block in blocks:  # each group, its items and its instructions, word for word
        assert block in text
    assert mail["Subject"].endswith("pièces manquantes")


# --- item 7: labels and annotations that tell agents the truth ---


def test_a_champ_unknown_to_the_procedure_is_the_operators_alert_not_the_dossiers_status(desk):
    number = desk.take()
    desk.store.dossier(number).anomaly = ("extra_champ",)  # DS sends a champ the procedure does not define
    number, messages = refiled(desk, number=number)
    shown = desk.shown(number)
    assert shown.label == "Complet" and shown.annotations["wif_statut"] == "complet"
    assert shown.annotations["wif_anomalies"] == "Aucune" and messages == []
    with desk.sessions() as session:
        status = format_status(collect_status(session, (1,)))
    [line] = [line for line in status.splitlines() if "Champ ajouté hors procédure" in line]
    assert f"{number}" in line and "unknown to mappings/procedure.yaml" in line
    desk.store.dossier(number).anomaly = None


def test_an_unacceptable_file_is_a_piece_to_replace_not_a_missing_one(desk):
    number, _ = refiled(desk, pj_contrat=FILE_OVER_THE_LIMIT, pj_passeport=())
    assert lines(desk.shown(number).annotations["wif_pieces_manquantes"]) == [
        "Pièce manquante : passeport (pages d'identité)",
        "À remplacer (fichier envoyé qui ne peut pas être accepté) :",
        "Le fichier « contrat.pdf » (contrat de travail ou promesse d'embauche) dépasse 10 Mo.",
    ]
    number, _ = refiled(desk, pj_contrat=FILE_OVER_THE_LIMIT)
    assert desk.shown(number).annotations["wif_pieces_manquantes"].splitlines()[0] == "Aucune pièce manquante"


def test_an_incomplete_dossier_names_what_blocks_it(desk):
    """A wrong SIRET and a warning: agents read the blocking one first, under its heading."""
    number = desk.take()
    started = deposit_of(desk, number) - timedelta(days=76)  # the base contract starts 14 days after the deposit
    number, _ = refiled(
        desk, number=number, employeur_siret=wrong_siret(desk, number), contrat_date_debut=started.isoformat()
    )
    shown = desk.shown(number)
    assert shown.label == "Incomplet" and shown.annotations["wif_pieces_manquantes"] == "Aucune"
    anomalies = shown.annotations["wif_anomalies"].splitlines()
    assert anomalies[:2] == [
        "Bloque la demande :",
        "- Le numéro SIRET de l'employeur n'est pas valide (14 chiffres, clé de contrôle).",
    ]
    assert "Autres points :" in anomalies and any("a commencé le" in line for line in anomalies)


def test_a_dossier_read_without_its_objects_claims_no_piece_missing_and_asks_the_applicant_nothing(desk):
    number = desk.take()
    desk.server.faults.set_node_error(number, "File.byteSizeBigInt")
    try:
        number, messages = refiled(desk, number=number)
    finally:
        desk.server.faults.set_node_error(number, None)
    shown = desk.shown(number)
    assert shown.label == "À vérifier" and messages == []
    assert shown.annotations["wif_pieces_manquantes"].startswith("Non vérifiable : ")
    assert "Pièce manquante" not in shown.annotations["wif_anomalies"]


def test_annotations_speak_to_agents(desk):
    """The job title names a regulated profession the applicant said it is not (a warning for agents)."""
    number, _ = refiled(desk, emploi_intitule="Expert-comptable stagiaire", profession_reglementee=False)
    anomalies = desk.shown(number).annotations["wif_anomalies"]
    assert "profession réglementée" in anomalies
    assert "répondez" not in anomalies and "joignez" not in anomalies


def test_wif_procedure_check_wif_status_and_the_team_name_the_champs_unknown_to_the_procedure(
    make_sandbox, monkeypatch, tmp_path, capsys
):
    server = make_sandbox(dossiers=30, seed=5)
    for record in server.store.visible_dossiers(1)[:2]:
        record.anomaly = ("extra_champ",)  # a champ an administrateur added to the form on DS
    carrying = [r.number for r in server.store.visible_dossiers(1) if r.anomaly == ("extra_champ",)]
    for name, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'wif.db'}",
        "DS_API_URL": server.url,
        "DS_API_TOKEN": server.token,
        "DS_DEMARCHE_NUMBER": "1",
        "DS_INSTRUCTEUR_ID": CONNECTOR_INSTRUCTEUR_ID,
        "WIF_NOTIFY_RECENT_DAYS": "0",
        "WIF_TEAM_EMAIL": TEAM,
        "WIF_OUTBOX_DIR": str(tmp_path / "outbox"),
    }.items():
        monkeypatch.setenv(name, value)

    def wif(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(argv))
        return code, capsys.readouterr().out

    assert wif("procedure", "bind", "--yes")[0] == 0
    assert wif("sync", "--no-push")[0] == 0
    for argv, code in ((("procedure", "check"), 0), (("status",), 0)):
        exit_code, out = wif(*argv)
        assert exit_code == code, out
        [line] = [line for line in out.splitlines() if "« Champ ajouté hors procédure »" in line]
        assert f"on {len(carrying)} dossier(s)" in line and str(carrying[0]) in line, line

    # The team is told once a day, by the notify job the scheduler runs after each sync.
    for _ in range(2):
        assert wif("notify")[0] == 0
    to_team = [
        m
        for m in (
            message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((tmp_path / "outbox").glob("*.eml"))
        )
        if m["To"] == TEAM
    ]
    assert len(to_team) == 1
    text = to_team[0].get_body(("plain",)).get_content()
    assert f"- démarche 1 : « Champ ajouté hors procédure », sur {len(carrying)} dossier(s)" in text
