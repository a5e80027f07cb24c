"""Digests by routing: a service's digest lists the dossiers the routing gives it, whatever DS's groupe says before
the push, and says where DS still has them; the fallback groupe reaches the team by default, and with no address at
all `wif status` and `wif schedule` say how many dossiers reach no one."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from notifications_factories import NOW, add_dossier, days_ago

from core.db import make_engine, session_factory, transaction, upgrade
from core.settings import DSSettings, MailSettings, NotifySettings, PushSettings, Settings
from mail.mailer import FolderMailer
from mappings.routing import load_routing_table
from notifications.digest import recipients, run_digest

TABLE = load_routing_table()
PARIS, LYON = TABLE.service_for("75"), TABLE.service_for("69")
FALLBACK = TABLE.fallback_groupe
TEAM = "equipe-wif@example.gouv.fr"
LATE = [("en_construction", days_ago(20))]


def seed(session):
    # Routed to Paris; DS still has it in Lyon's groupe (the applicant's choice, before any push).
    paris = add_dossier(session, 41, service=PARIS.name, history=LATE)
    paris.groupe_instructeur_label, paris.target_groupe_label = LYON.groupe_label, PARIS.groupe_label
    # Routed to Lyon, already in Lyon's groupe.
    lyon = add_dossier(session, 42, service=LYON.name, history=LATE)
    lyon.groupe_instructeur_label, lyon.target_groupe_label = LYON.groupe_label, LYON.groupe_label
    # No département found: the fallback groupe.
    nobody = add_dossier(session, 43, service=None, history=LATE)
    nobody.groupe_instructeur_label, nobody.target_groupe_label = FALLBACK, FALLBACK
    nobody.routing_reason = "Aucun département n'a pu être déterminé : orientation manuelle."


def digests(sessions, tmp_path, settings) -> dict[str, str]:
    run_digest(sessions, FolderMailer(tmp_path), NOW, settings, recipients(settings))
    messages = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in tmp_path.glob("*.eml")]
    return {m["To"]: " ".join(m.get_body(("plain",)).get_content().split()) for m in messages}


@pytest.mark.parametrize(
    "push_enabled, what_moves_it",
    [
        (True, f"sur DS : le prochain envoi du connecteur le place dans « {PARIS.groupe_label} »"),
        (False, f"sur DS, l'envoi vers DS est désactivé : déplacez-le dans « {PARIS.groupe_label} »"),
    ],
)
def test_each_digest_lists_what_the_routing_gives_its_service(sessions, tmp_path, push_enabled, what_moves_it):
    with transaction(sessions) as session:
        seed(session)
    settings = Settings(ds=DSSettings(web_url="https://ds.example"), push=PushSettings(enabled=push_enabled))
    found = digests(sessions, tmp_path, settings)
    assert "n° 41" in found[PARIS.email] and "n° 42" not in found[PARIS.email]
    assert "n° 42" in found[LYON.email] and "n° 41" not in found[LYON.email]
    assert (
        f"n° 41, en construction depuis le 18/02/2026 (20 jours) encore dans le groupe « {LYON.groupe_label} » "
        f"{what_moves_it}" in found[PARIS.email]
    )
    assert "encore dans le groupe" not in found[LYON.email]


def test_the_fallback_groupe_reaches_the_team_when_no_one_orients_it(sessions, tmp_path):
    with transaction(sessions) as session:
        seed(session)
    settings = Settings(ds=DSSettings(web_url="https://ds.example"), mail=MailSettings(team_email=TEAM))
    found = digests(sessions, tmp_path, settings)
    assert "n° 43" in found[TEAM] and f"groupe « {FALLBACK} »" in found[TEAM]
    # WIF_FALLBACK_EMAIL, when set, wins.
    orient = Settings(mail=MailSettings(team_email=TEAM), notify=NotifySettings(fallback_email="o@example.gouv.fr"))
    assert recipients(orient)[FALLBACK] == "o@example.gouv.fr"


@pytest.fixture
def migrated(database_url, monkeypatch):
    engine = make_engine(database_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        seed(session)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", database_url)
    # A deployment's environment: without a DS URL, wif runs the embedded demo and refuses another database.
    monkeypatch.setenv("DS_API_URL", "https://ds.example.test/api/v2/graphql")
    monkeypatch.setenv("DS_API_TOKEN", "dG9rZW4")
    for name in ("WIF_FALLBACK_EMAIL", "WIF_TEAM_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    return database_url


def test_with_no_address_status_and_schedule_say_how_many_reach_no_one(migrated, monkeypatch, capsys):
    from jobs.cli import main

    line = (
        f"1 dossier(s) waiting in « {FALLBACK} » reach no one: no digest, no monthly report "
        "(set WIF_FALLBACK_EMAIL, or WIF_TEAM_EMAIL)"
    )
    assert main(["status"]) == 0
    assert line in capsys.readouterr().out
    assert main(["schedule", "--dry-run"]) == 0
    assert line in capsys.readouterr().out
    monkeypatch.setenv("WIF_TEAM_EMAIL", TEAM)
    assert main(["status"]) == 0
    assert "reach no one" not in capsys.readouterr().out
