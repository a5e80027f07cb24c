"""A mail server that refuses every message is not a batch of bad addresses (issue #21, items 8 and 10):
the same refusal for several recipients in a row stops the batch, keeps the messages due and alerts the team;
a refusal of one recipient stays final for that one; a 421 stops the batch without charging anyone an attempt.
Through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from notifications_factories import NOW
from sqlalchemy import select

from core.models import FAILED, PENDING, SENT, Notification
from core.settings import MailSettings, NotifySettings, Settings
from mail.mailer import SmtpMailer, parse_smtp_url
from notifications.notify import run_notify
from tests.smtp_helpers import RecordingHandler, free_port
from tests.test_notifications_smtp import EXPECTED, seed

TEAM = "equipe-wif@example.org"
SPAM = "550 5.7.1 Message rejected as spam"


class RefusingHandler(RecordingHandler):
    """Also answers DATA with `data_reply` (e.g. a spam block), except for the addresses in `let_through`."""

    def __init__(self):
        super().__init__()
        self.data_reply: str | None = None
        self.let_through: set[str] = set()
        self.data_calls = 0
        self.team_messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.data_reply and not set(envelope.rcpt_tos) & self.let_through:
            return self.data_reply
        if TEAM in envelope.rcpt_tos:
            self.team_messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 Message accepted"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp():
    handler = RefusingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


def notify(sessions, url, now=NOW, team_email=TEAM):
    mailer = SmtpMailer(parse_smtp_url(url))
    try:
        mail = MailSettings(retry_base_seconds=600, max_attempts=3, team_email=team_email)
        return run_notify(sessions, mailer, now, Settings(mail=mail, notify=NotifySettings()))
    finally:
        mailer.close()


def rows(sessions) -> list[tuple[str, int]]:
    with sessions() as session:
        return [
            (r.status, r.attempts)
            for r in session.scalars(
                select(Notification).where(Notification.scope.startswith("dossier:")).order_by(Notification.id)
            )
        ]


def test_a_server_refusing_every_message_stops_the_batch_keeps_them_due_and_alerts_the_team(sessions, smtp):
    handler, url = smtp
    seed(sessions)
    handler.data_reply, handler.let_through = SPAM, {TEAM}  # the block is on the notifications, not on the alert

    report = notify(sessions, url)

    assert report.delivery.refused_by_server == "SMTP 550: 5.7.1 Message rejected as spam"
    assert report.delivery.sent == report.delivery.failed == 0
    assert "smtp=refusing every message" in report.delivery.summary()
    # Three different recipients refused alike, then it stopped: the rest was not even tried.
    assert handler.data_calls - len(handler.team_messages) <= 4
    assert rows(sessions) == [(PENDING, 0)] * 6  # kept due, no attempt charged
    [alert] = handler.team_messages
    assert alert["Subject"] == "Courriels : le serveur refuse tous les messages"
    text = alert.get_body(preferencelist=("plain",)).get_content()
    assert "« SMTP 550: 5.7.1 Message rejected as spam »" in text and "6 message(s) attendent" in text
    assert "@" not in text.replace(TEAM, "")

    notify(sessions, url, now=NOW + timedelta(minutes=15))  # still refusing: stopped again, one alert a day
    assert rows(sessions) == [(PENDING, 0)] * 6 and len(handler.team_messages) == 1

    handler.data_reply = None  # unblocked: every message once, no alert again
    later = notify(sessions, url, now=NOW + timedelta(minutes=30))
    assert later.delivery.sent == 6 and rows(sessions) == [(SENT, 1)] * 6
    assert Counter(handler.received) == EXPECTED and len(handler.team_messages) == 1


def test_refusals_of_unknown_recipients_in_a_row_are_final_for_each_and_the_batch_goes_on(sessions, smtp):
    handler, url = smtp
    seed(sessions)
    handler.permanent |= {"rh1@entreprise.example", "rh2@entreprise.example", "etudiant2@example.org"}

    report = notify(sessions, url)

    assert report.delivery.refused_by_server is None
    assert report.delivery.failed == 4 and report.delivery.sent == 2  # rh2 had two messages
    assert sorted(rows(sessions)) == [(FAILED, 1)] * 4 + [(SENT, 1)] * 2
    assert handler.team_messages == []


def test_one_message_refused_by_policy_is_retried_later_not_failed_for_good(sessions, smtp):
    handler, url = smtp
    seed(sessions)
    handler.data_reply = SPAM
    handler.let_through = {
        "rh1@entreprise.example",
        "rh2@entreprise.example",
        "rh3@entreprise.example",
        "etudiant2@example.org",
        TEAM,
    }  # only etudiant3's message is refused

    report = notify(sessions, url)

    assert report.delivery.refused_by_server is None and report.delivery.sent == 5
    with sessions() as session:
        row = session.scalars(select(Notification).where(Notification.template == "apt_dates_invalid")).one()
        assert (row.status, row.attempts, row.next_attempt_at) == (PENDING, 1, NOW + timedelta(seconds=600))
    assert handler.team_messages == []


def test_a_server_answering_421_at_data_stops_the_batch_and_charges_no_attempt(sessions, smtp):
    handler, url = smtp
    seed(sessions)
    handler.data_reply = "421 4.3.2 Service shutting down, closing transmission channel"

    report = notify(sessions, url)

    assert report.delivery.unavailable and handler.data_calls == 1
    assert rows(sessions) == [(PENDING, 0)] * 6
    with sessions() as session:
        assert {r.next_attempt_at for r in session.scalars(select(Notification))} <= {NOW, NOW + timedelta(seconds=600)}
