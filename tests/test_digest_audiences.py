"""Who gets a digest: open services only; the fallback groupe's dossiers (no service, out of
scope, or a service not open yet) go to WIF_FALLBACK_EMAIL; a closed service gets nothing."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest
from notifications_factories import NOW, add_dossier, days_ago

from core.db import transaction
from core.settings import ConfigError, DSSettings, NotifySettings, Settings, load_settings
from core.snapshot import iter_snapshots
from mail.mailer import FolderMailer
from mappings.routing import load_routing_table
from notifications.digest import digest_contexts, run_digest, service_emails
from notifications.render import render

TABLE = load_routing_table()
CLOSED = next(s for s in TABLE.services if not s.open)
OPEN = next(s for s in TABLE.services if s.open)
FALLBACK = TABLE.fallback_groupe
ORIENTATION = "orientation@service.example"
SETTINGS = Settings(ds=DSSettings(web_url="https://ds.example"), notify=NotifySettings(fallback_email=ORIENTATION))
LATE = [("en_construction", days_ago(20))]


@pytest.fixture
def seeded(sessions):
    with transaction(sessions) as session:
        add_dossier(session, 21, history=LATE, service=OPEN.name)
        closed = add_dossier(session, 22, history=LATE, service=CLOSED.name)
        closed.routing_reason = (
            f"Le service « {CLOSED.name} » n'instruit pas encore sur cette démarche : orientation manuelle."
        )
        unrouted = add_dossier(session, 23, history=LATE, service=None)
        unrouted.routing_reason = "Aucun département n'a pu être déterminé : orientation manuelle."
    return sessions


def contexts(sessions):
    with sessions() as session:
        return digest_contexts(list(iter_snapshots(session)), NOW, SETTINGS)


def test_a_closed_service_has_no_digest_its_dossiers_go_to_the_fallback_groupe(seeded):
    found = contexts(seeded)
    assert set(found) == {OPEN.name, FALLBACK}
    assert [row.dossier_number for row in found[FALLBACK].waiting] == [22, 23]
    assert found[FALLBACK].to_orient and not found[OPEN.name].to_orient


def test_closed_services_have_no_address_and_the_fallback_has_the_configured_one():
    emails = service_emails({CLOSED.name: "ferme@service.example"}, ORIENTATION)
    assert CLOSED.name not in emails and emails[OPEN.name] == OPEN.email and emails[FALLBACK] == ORIENTATION
    assert FALLBACK not in service_emails()


def test_the_fallback_digest_reaches_the_configured_address(seeded, tmp_path):
    emails = service_emails(SETTINGS.notify.service_emails, SETTINGS.notify.fallback_email)
    report = run_digest(seeded, FolderMailer(tmp_path), NOW, SETTINGS, emails)
    assert report.delivery.sent == 2 and report.without_address == []
    messages = {
        m["To"]: m for m in (message_from_bytes(p.read_bytes(), policy=default) for p in tmp_path.glob("*.eml"))
    }
    assert set(messages) == {OPEN.email, ORIENTATION}
    text = messages[ORIENTATION].get_body(("plain",)).get_content()
    assert "à orienter" in messages[ORIENTATION]["Subject"]
    assert f"groupe « {FALLBACK} »" in text and "n° 22" in text and "n° 23" in text
    assert "n'instruit pas encore sur cette démarche" in text and "n° 21" not in text


def test_the_fallback_digest_renders_why_each_dossier_is_there(seeded):
    message = render("digest", contexts(seeded)[FALLBACK])
    assert "Pourquoi ce groupe" in message.html and "Aucun département n&#39;a pu être déterminé" in message.html
    assert "orientez-les vers le groupe instructeur compétent" in message.text
    open_message = render("digest", contexts(seeded)[OPEN.name])
    assert "Pourquoi ce groupe" not in open_message.html and "à traiter" in open_message.subject


def test_the_fallback_address_is_read_and_checked():
    assert load_settings({"WIF_FALLBACK_EMAIL": ORIENTATION}).notify.fallback_email == ORIENTATION
    with pytest.raises(ConfigError, match="WIF_FALLBACK_EMAIL"):
        load_settings({"WIF_FALLBACK_EMAIL": "pas une adresse"})
    assert ORIENTATION not in repr(load_settings({"WIF_FALLBACK_EMAIL": ORIENTATION}))
