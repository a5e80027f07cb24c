"""Daily digest per service: waiting dossiers, alerts, once a day."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from email import message_from_bytes

import pytest
from notifications_factories import NOW, add_dossier, days_ago

from core.db import transaction
from core.settings import DSSettings, NotifySettings, Settings
from core.snapshot import iter_snapshots
from mail.mailer import FolderMailer
from notifications.digest import alert_reasons, digest_contexts, run_digest, service_emails, waiting_too_long

CONFIG = Settings(
    ds=DSSettings(web_url="https://ds.example"), notify=NotifySettings(days_en_construction=7, days_en_instruction=15)
)
EMAILS = {"MOE Paris": "moe75@service.example", "MOE Lyon": "moe69@service.example"}


@pytest.fixture
def seeded(sessions):
    with transaction(sessions) as session:
        add_dossier(session, 10, history=[("en_construction", days_ago(9))])
        add_dossier(session, 11, history=[("en_construction", days_ago(20))])
        add_dossier(session, 12, history=[("en_construction", days_ago(5))])
        add_dossier(
            session,
            13,
            state="en_instruction",
            history=[("en_construction", days_ago(40)), ("en_instruction", days_ago(16))],
        )
        add_dossier(
            session,
            14,
            state="en_instruction",
            service="MOE Lyon",
            history=[("en_construction", days_ago(40)), ("en_instruction", days_ago(3))],
        )
        decided = [("en_construction", days_ago(10)), ("en_instruction", days_ago(5)), ("accepte", days_ago(2))]
        add_dossier(session, 15, state="accepte", history=decided, apt_start=None, apt_end=None)
        add_dossier(
            session,
            16,
            state="accepte",
            history=decided,
            service="MOE Lyon",
            apt_start=date(2026, 3, 1),
            apt_end=date(2026, 8, 31),
            messages=[
                {"id": "m1", "email": "etudiant16@example.org", "createdAt": "2026-03-09T10:00:00+01:00", "body": "?"},
                {"id": "m0", "email": "etudiant16@example.org", "createdAt": "2026-03-01T10:00:00Z", "body": "avant"},
                {"id": "m2", "email": "agent@service.example", "createdAt": "2026-03-09T12:00:00Z", "body": "réponse"},
            ],
        )
        old = [("en_construction", days_ago(100)), ("en_instruction", days_ago(95)), ("accepte", days_ago(90))]
        add_dossier(session, 17, state="accepte", history=old, apt_start=None, apt_end=None)
    return sessions


def all_facts(sessions):
    with sessions() as session:
        return list(iter_snapshots(session))


def test_waiting_beyond_threshold_oldest_first(seeded):
    waiting = waiting_too_long(all_facts(seeded), NOW, CONFIG.notify.waiting_days)
    assert [(w.facts.number, w.days) for w in waiting] == [(11, 20), (13, 16), (10, 9)]


def test_alerts_for_recent_decisions_only(seeded):
    reasons = {f.number: alert_reasons(f, NOW, CONFIG.notify.alert_days) for f in all_facts(seeded)}
    assert reasons[15] == ["dossier accepté : les dates de début et de fin de l'autorisation ne sont pas renseignées"]
    assert reasons[16] == ["1 message(s) du demandeur reçu(s) après la décision"]
    assert reasons[17] == [] and reasons[10] == []


def test_contexts_per_service_with_agent_links(seeded):
    contexts = digest_contexts(all_facts(seeded), NOW, CONFIG)
    assert set(contexts) == {"MOE Paris", "MOE Lyon"}
    paris = contexts["MOE Paris"]
    assert [row.dossier_number for row in paris.waiting] == [11, 13, 10]
    assert paris.waiting[0].url == "https://ds.example/procedures/1/dossiers/11"
    assert [alert.dossier_number for alert in paris.alerts] == [15]
    assert contexts["MOE Lyon"].waiting == () and [a.dossier_number for a in contexts["MOE Lyon"].alerts] == [16]


def test_one_digest_per_service_and_day(seeded, tmp_path):
    folder = tmp_path / "outbox"
    report = run_digest(seeded, FolderMailer(folder), NOW, CONFIG, EMAILS)
    assert report.delivery.sent == 2 and report.without_address == []
    recipients = Counter(message_from_bytes(p.read_bytes())["To"] for p in folder.glob("*.eml"))
    assert recipients == Counter({"moe75@service.example": 1, "moe69@service.example": 1})
    assert run_digest(seeded, FolderMailer(folder), NOW + timedelta(hours=2), CONFIG, EMAILS).delivery.sent == 0
    assert run_digest(seeded, FolderMailer(folder), NOW + timedelta(days=1), CONFIG, EMAILS).delivery.sent == 2


def test_service_without_address_is_reported_not_sent(seeded, tmp_path):
    report = run_digest(seeded, FolderMailer(tmp_path), NOW, CONFIG, {"MOE Paris": "moe75@service.example"})
    assert report.delivery.sent == 1 and report.without_address == ["MOE Lyon"]


def test_service_emails_come_from_the_routing_table_with_overrides():
    from mappings.routing import load_routing_table

    service = next(s for s in load_routing_table().services if s.email and s.open)
    assert service_emails()[service.name] == service.email
    assert service_emails({service.name: "autre@service.example"})[service.name] == "autre@service.example"
