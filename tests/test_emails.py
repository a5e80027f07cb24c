"""The e-mails as their readers get them: French elision, neutral wording, signed by the service that handles the
dossier with its contact, a digest that leads with its count and a summary, lists a phone can show, a Date."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from notifications_factories import NOW, add_dossier, days_ago

from core.db import transaction
from core.settings import DSSettings, MailSettings, NotifySettings, Settings
from mail.mailer import FolderMailer
from mappings.routing import load_routing_table
from notifications.digest import run_digest, service_emails
from notifications.french import de
from notifications.notify import run_notify
from stats.report_mail import send_monthly_reports

TABLE = load_routing_table()
PARIS = TABLE.service_for("75")
TEAM = "equipe-wif@example.gouv.fr"
SETTINGS = Settings(
    ds=DSSettings(web_url="https://ds.example"),
    notify=NotifySettings(templates="all"),
    mail=MailSettings(team_email=TEAM),
)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Agence des Deux Rives", "de l'Agence des Deux Rives"),
        ("Hôtel Voltaire", "de l'Hôtel Voltaire"),
        ("Société Exemple", "de la Société Exemple"),
        ("Service de la main-d'œuvre étrangère de Paris", "du Service de la main-d'œuvre étrangère de Paris"),
        ("Restaurant Le Zinc", "du Restaurant Le Zinc"),
        ("Amazon France", "d'Amazon France"),
        ("Carrefour", "de Carrefour"),
        ("Le Bon Marché", "du Bon Marché"),
        ("Les Jardins de Cocagne", "des Jardins de Cocagne"),
        ("L'Oréal", "de L'Oréal"),
        ("ÉCOLE DU LOUVRE", "de l'ÉCOLE DU LOUVRE"),
    ],
)
def test_de_elides_and_restores_the_article(name, expected):
    assert de(name) == expected


def emails(folder) -> list:
    return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(folder.glob("*.eml"))]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return html.unescape(message.get_body(("html",)).get_content())


@pytest.fixture
def sent(sessions, tmp_path):
    """Every dossier e-mail at least once, for a dossier of Paris (a service with a contact) and one of the
    fallback groupe (no service yet: no contact)."""
    with transaction(sessions) as session:
        steps = [("en_construction", days_ago(2))]
        add_dossier(session, 1, company_name="Agence des Deux Rives", service=PARIS.name, history=steps)
        add_dossier(session, 2, company_name="Hôtel Voltaire", service=None, history=steps)
        add_dossier(
            session,
            3,
            company_name="Hôtel Voltaire",
            service=PARIS.name,
            completeness_status="incomplet",
            blocking=["Pièce manquante : contrat de travail"],
            history=steps,
        )
        add_dossier(
            session, 4, service=PARIS.name, completeness_status="complet", completed_at=days_ago(1), history=steps
        )
        add_dossier(
            session, 5, service=PARIS.name, state="en_instruction", history=steps + [("en_instruction", days_ago(1))]
        )
        for number, state in ((6, "accepte"), (7, "refuse"), (8, "sans_suite")):
            add_dossier(session, number, service=PARIS.name, state=state, history=steps + [(state, days_ago(1))])
    run_notify(sessions, FolderMailer(tmp_path), NOW, SETTINGS)
    return emails(tmp_path)


def test_every_dossier_email_is_dated_signed_by_its_service_with_its_contact(sent):
    names = {m["X-WIF-Message"].split(":")[0] for m in sent}
    assert names >= {"depot", "incomplet", "complet", "en_instruction", "accepte", "refuse", "sans_suite"}
    for message in sent:
        assert message["Date"], message["X-WIF-Message"]
        text = " ".join(text_of(message).split())
        paris = "n° 2 " not in message["Subject"]
        if paris:
            assert f"Cordialement, {PARIS.name} {PARIS.contact}" in text
            assert message["Reply-To"] == PARIS.contact
            assert f"Pour toute question, écrivez à {PARIS.contact}" in text
            assert "ne pas y répondre" not in text and "ne pas répondre" not in text
            assert PARIS.name in html_of(message) and f"mailto:{PARIS.contact}" in html_of(message)
        else:  # no service handles it yet: the way to write is the dossier's messagerie
            assert message["Reply-To"] is None
            assert "merci de ne pas y répondre : pour toute question" in text and "messagerie" in text
        assert "Le service de la main-d'œuvre étrangère" not in text


def test_employers_read_names_with_elision_and_a_neutral_wording(sent):
    employer = {
        m["X-WIF-Message"] + m["Subject"][-40:]: " ".join(text_of(m).split())
        for m in sent
        if m["X-WIF-Message"].endswith(":employer")
    }
    texts = " ".join(employer.values())
    assert "contact de l'Agence des Deux Rives dans la demande n° 1" in texts
    assert "contact de l'Hôtel Voltaire dans la demande n° 2" in texts
    for text in employer.values():
        assert "contact de Agence" not in text and "de Hôtel" not in text
    everything = " ".join(text_of(m) + html_of(m) for m in sent)
    assert "informé" not in everything and "demandeur" not in everything and "avec lui" not in everything


def test_no_email_has_a_table_a_phone_cannot_show(sent, sessions, tmp_path):
    with transaction(sessions) as session:
        for number in range(20, 26):
            add_dossier(session, number, service=PARIS.name, history=[("en_construction", days_ago(30))])
    run_digest(sessions, FolderMailer(tmp_path / "digest"), NOW, SETTINGS, service_emails())
    for message in sent + emails(tmp_path / "digest"):
        html = html_of(message)
        assert "<table" not in html
        assert 'name="viewport"' in html and "max-width: 640px" in html


@pytest.fixture
def digest(sessions, tmp_path):
    with transaction(sessions) as session:
        for number, days in ((31, 20), (32, 40), (33, 9)):
            add_dossier(session, number, service=PARIS.name, history=[("en_construction", days_ago(days))])
        add_dossier(
            session,
            34,
            service=PARIS.name,
            state="en_instruction",
            history=[("en_construction", days_ago(60)), ("en_instruction", days_ago(50))],
        )
        add_dossier(
            session,
            35,
            service=PARIS.name,
            state="accepte",
            permit_expiry=None,
            history=[("en_construction", days_ago(20)), ("accepte", days_ago(2))],
        )  # no APT dates: an alert
    report = run_digest(sessions, FolderMailer(tmp_path), NOW, SETTINGS, service_emails())
    assert report.delivery.sent == 1
    (message,) = emails(tmp_path)
    return message


def test_the_digest_subject_starts_with_its_count(digest):
    assert digest["Subject"] == f"5 dossiers à traiter – {PARIS.name}"
    assert digest["Date"]


def test_the_digest_body_starts_with_a_summary(digest):
    text = text_of(digest)
    first = text.split("\n\n")[1]
    assert first == (
        "En bref : 1 alerte ; 4 dossiers en attente au-delà des seuils (3 en construction depuis plus "
        "de 7 jours, 1 en instruction depuis plus de 15 jours), le plus ancien depuis 50 jours."
    )
    assert html_of(digest).split("<body", 1)[1].index("En bref") < html_of(digest).index("n° 31")
    assert f"Voici les dossiers du {PARIS.name}" in text and "du service Service" not in text
    for line in text.splitlines():
        assert line.count(" : ") <= 1, line
    assert TEAM in text  # whom to ask about the message itself


def test_the_monthly_report_mail_is_dated_and_names_its_service(sessions):
    class Collecting:
        sent: list = []

        def send(self, message):
            self.sent.append(message)

    now = datetime(2026, 4, 1, 6, tzinfo=UTC)
    send_monthly_reports(
        sessions,
        Collecting(),
        {PARIS.name: b"xlsx"},
        "2026-03",
        {PARIS.name: "r.xlsx"},
        {PARIS.name: PARIS.email},
        now,
        Settings(),
    )
    (message,) = Collecting.sent
    assert message["Date"]
    assert message["Subject"].endswith(f"mars 2026 – {PARIS.name}")
    assert f"rapport de mars 2026 du {PARIS.name}" in message.get_body(("plain",)).get_content()


def test_the_validity_alert_is_dated():
    from core.models import ValidityBudget
    from validity.alerts import spike_email

    row = ValidityBudget(window_start=int(NOW.timestamp()), lookups=300, misses=150)
    message = spike_email("wif@example.gouv.fr", TEAM, row, 300, 100, "<m@wif.local>")
    assert message["Date"] and re.search(r"\d{4}", message["Date"])
