"""Delivery through a real SMTP server (aiosmtpd on localhost) and the outbox."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import date, timedelta
from email import message_from_bytes

import pytest
from notifications_factories import NOW, add_dossier, days_ago
from sqlalchemy import select

from core.db import transaction
from core.models import FAILED, PENDING, SENDING, SENT, Notification
from core.settings import MailSettings, NotifySettings, Settings
from jobs.verbs import notify as notify_command
from mail.mailer import FolderMailer, SmtpMailer, parse_smtp_url
from mail.outbox import backlog
from notifications.notify import run_notify
from tests.smtp_helpers import free_port


def seed(sessions):
    history = [("en_construction", days_ago(3)), ("en_instruction", days_ago(2))]
    with transaction(sessions) as session:
        add_dossier(session, 1, history=[("en_construction", days_ago(1))])
        add_dossier(
            session,
            2,
            completeness_status="incomplet",
            blocking=["Passeport"],
            history=[("en_construction", days_ago(1))],
        )
        add_dossier(
            session,
            3,
            state="accepte",
            history=history + [("accepte", days_ago(1))],
            apt_start=date(2026, 4, 1),
            apt_end=date(2026, 2, 1),
        )
        add_dossier(session, 4, state="refuse", history=[("en_construction", days_ago(60)), ("refuse", days_ago(30))])
        trashed = add_dossier(session, 5, history=[("en_construction", days_ago(1))])
        trashed.hidden_at = days_ago(0.5)
        add_dossier(session, 6, state="en_instruction", history=history, employer_email=None)
    return sessions


@pytest.fixture
def seeded(sessions):
    return seed(sessions)


EXPECTED = Counter(
    {
        ("rh1@entreprise.example", "depot:employer"): 1,
        ("rh2@entreprise.example", "depot:employer"): 1,
        ("etudiant2@example.org", "incomplet:applicant"): 1,
        ("rh2@entreprise.example", "incomplet:employer"): 1,
        ("rh3@entreprise.example", "accepte:employer"): 1,
        ("etudiant3@example.org", "apt_dates_invalid:applicant"): 1,
    }
)


def smtp_mailer(url: str) -> SmtpMailer:
    return SmtpMailer(parse_smtp_url(url))


def notify(sessions, url, now=NOW, **overrides):
    mailer = smtp_mailer(url)
    try:
        mail = {k: overrides.pop(k) for k in list(overrides) if k in ("retry_base_seconds", "max_attempts")}
        return run_notify(
            sessions, mailer, now, Settings(mail=MailSettings(**mail), notify=NotifySettings(**overrides))
        )
    finally:
        mailer.close()


def test_exact_messages_then_a_rerun_sends_none(seeded, smtp_server):
    handler, url = smtp_server
    report = notify(seeded, url)
    assert Counter(handler.received) == EXPECTED
    assert report.delivery.sent == 6 and report.created == 6
    again = notify(seeded, url, now=NOW + timedelta(minutes=15))
    assert again.created == 0 and again.delivery.sent == 0
    assert Counter(handler.received) == EXPECTED
    with seeded() as session:
        assert {row.status for row in session.scalars(select(Notification))} == {SENT}
        assert backlog(session).pending == 0


def test_enabling_ds_duplicates_adds_applicant_messages(seeded, smtp_server):
    handler, url = smtp_server
    notify(seeded, url, templates="all")
    extra = Counter(handler.received) - EXPECTED
    assert extra == Counter(
        {
            ("etudiant1@example.org", "depot:applicant"): 1,
            ("etudiant2@example.org", "depot:applicant"): 1,
            ("etudiant3@example.org", "accepte:applicant"): 1,
            ("etudiant6@example.org", "en_instruction:applicant"): 1,
        }
    )


def test_a_4xx_is_retried_later(seeded, smtp_server):
    handler, url = smtp_server
    handler.transient["rh1@entreprise.example"] = 1
    first = notify(seeded, url, retry_base_seconds=600)
    assert first.delivery.retried == 1 and first.delivery.sent == 5
    with seeded() as session:
        row = session.scalars(select(Notification).where(Notification.dossier_number == 1)).one()
        assert (row.status, row.attempts) == (PENDING, 1)
        assert row.next_attempt_at == NOW + timedelta(seconds=600)
        assert "451" in row.last_error and "@" not in row.last_error
    too_early = notify(seeded, url, now=NOW + timedelta(seconds=300), retry_base_seconds=600)
    assert too_early.delivery.sent == 0
    later = notify(seeded, url, now=NOW + timedelta(seconds=601), retry_base_seconds=600)
    assert later.delivery.sent == 1
    assert Counter(handler.received) == EXPECTED


def test_a_4xx_gives_up_after_max_attempts(seeded, smtp_server):
    handler, url = smtp_server
    handler.transient["rh1@entreprise.example"] = 99
    for minutes in (0, 20, 60):
        notify(seeded, url, now=NOW + timedelta(minutes=minutes), retry_base_seconds=60, max_attempts=3)
    with seeded() as session:
        row = session.scalars(select(Notification).where(Notification.dossier_number == 1)).one()
        assert (row.status, row.attempts) == (FAILED, 3)


def test_a_5xx_is_recorded_and_never_retried(seeded, smtp_server):
    handler, url = smtp_server
    handler.permanent.add("etudiant3@example.org")
    report = notify(seeded, url)
    assert report.delivery.failed == 1 and report.delivery.sent == 5
    with seeded() as session:
        row = session.scalars(select(Notification).where(Notification.template == "apt_dates_invalid")).one()
        assert row.status == FAILED and row.last_error.startswith("SMTP 550")
        assert "etudiant3" not in row.last_error
        assert backlog(session).failed == 1
    handler.permanent.clear()
    assert notify(seeded, url, now=NOW + timedelta(days=1)).delivery.sent == 0


def test_server_down_keeps_everything_pending(seeded):
    url = f"smtp://127.0.0.1:{free_port()}"
    report = notify(seeded, url)
    assert report.delivery.unavailable and report.delivery.sent == 0
    with seeded() as session:
        rows = session.scalars(select(Notification)).all()
        assert len(rows) == 6 and {(r.status, r.attempts) for r in rows} == {(PENDING, 0)}


def test_a_crash_after_claiming_is_retried_after_the_stale_delay(seeded, smtp_server):
    handler, url = smtp_server
    with transaction(seeded) as session:
        add_dossier(session, 7, history=[("en_construction", days_ago(1))], usager_email=None)
    notify(seeded, url)
    with transaction(seeded) as session:
        # As if the process died between the SMTP acceptance and recording it.
        row = session.scalars(select(Notification).where(Notification.dossier_number == 7)).one()
        row.status, row.claimed_at, row.sent_at = SENDING, NOW, None
    assert notify(seeded, url, now=NOW + timedelta(minutes=5)).delivery.sent == 0
    assert notify(seeded, url, now=NOW + timedelta(minutes=16)).delivery.sent == 1


def test_a_message_that_no_longer_applies_is_cancelled(seeded, smtp_server):
    handler, url = smtp_server
    from mail.outbox import enqueue
    from notifications.notify import outbox_entry, plan

    with transaction(seeded) as session:
        enqueue(session, map(outbox_entry, plan(session, NOW, Settings())), NOW)
        from core.models import Dossier

        session.get(Dossier, 2).completeness_status = "complet"
    report = notify(seeded, url)
    assert report.delivery.cancelled == 2  # the two "incomplet" messages
    assert ("etudiant2@example.org", "incomplet:applicant") not in handler.received


def test_folder_mailer_writes_eml_files(seeded, tmp_path):
    report = run_notify(seeded, FolderMailer(tmp_path / "outbox"), NOW, Settings())
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert report.delivery.sent == len(files) == 6
    parsed = message_from_bytes(files[0].read_bytes())
    assert parsed["Subject"].startswith("Demande d'autorisation provisoire de travail")
    assert parsed.is_multipart()


def test_notify_command_dry_run_then_send(database_url, tmp_path, monkeypatch, capsys):
    from core.db import Database

    settings = Settings(database_url=database_url, mail=MailSettings(outbox_dir=tmp_path / "outbox"))
    database = Database(database_url)  # the command's own path: migrations, not create_all
    seed(database.sessions)
    monkeypatch.setattr(notify_command, "utc_now", lambda: NOW)
    out = "\n".join(notify_command.run(argparse.Namespace(dry_run=True), settings, database).lines)
    assert "6 due, 6 not sent yet" in out and "@" not in out
    assert not (tmp_path / "outbox").exists()
    assert notify_command.run(argparse.Namespace(dry_run=False), settings, database).exit_code == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 6
    assert "6 due, 0 not sent yet" in notify_command.run(argparse.Namespace(dry_run=True), settings, database).lines[-1]
    database.dispose()


def test_parse_smtp_url():
    plain = parse_smtp_url("smtp://user%40x:p%3Ass@mail.example:2525?starttls=1")
    assert (plain.host, plain.port, plain.username, plain.password, plain.starttls, plain.use_tls) == (
        "mail.example",
        2525,
        "user@x",
        "p:ss",
        True,
        False,
    )
    tls = parse_smtp_url("smtps://mail.example")
    assert (tls.port, tls.use_tls, tls.starttls) == (465, True, False)
    from core.settings import ConfigError

    with pytest.raises(ConfigError):
        parse_smtp_url("http://mail.example")
