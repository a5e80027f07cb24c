"""The expected decision delay where people read it: the « dossier complet » e-mail to applicant and
employer, the agents' annotation written by push, computed from decision times known in advance."""
from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

from core.db import transaction
from core.settings import NotifySettings, Settings
from mail.mailer import FolderMailer
from notifications.notify import run_notify
from notifications_factories import NOW, add_dossier, days_ago


def seed_decisions(session, service="MOE Paris", first_number=100, demarche_number=1, now=NOW):
    """Ten decisions of the service in the last 90 days, taken 1 to 10 days (and 6 hours) after the deposit:
    half within 5.25 days (fewer than 6 days), nine in ten within 9.25 days (fewer than 10 days)."""
    for index, days in enumerate(range(1, 11)):
        decided, state = days_ago(5 + index, now), "refuse" if index % 4 == 0 else "accepte"
        add_dossier(session, first_number + index, state=state, service=service, demarche_number=demarche_number,
                    history=[("en_construction", decided - timedelta(days=days, hours=6)), (state, decided)])


def complet_messages(folder) -> dict[str, str]:
    messages = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in folder.glob("*.eml")]
    return {m["X-WIF-Message"]: m.get_body(("plain",)).get_content() for m in messages
            if m["X-WIF-Message"].startswith("complet:")}


def test_the_dossier_complet_email_tells_the_expected_delay(sessions, tmp_path):
    with transaction(sessions) as session:
        seed_decisions(session)
        # Not counted: a decision older than 90 days, one classée sans suite, and another service's.
        add_dossier(session, 200, state="accepte", history=[("en_construction", days_ago(160)), ("accepte", days_ago(120))])
        add_dossier(session, 201, state="sans_suite", history=[("en_construction", days_ago(80)), ("sans_suite", days_ago(2))])
        add_dossier(session, 202, state="accepte", service="MOE Lyon",
                    history=[("en_construction", days_ago(70)), ("accepte", days_ago(3))])
        add_dossier(session, 1, completeness_status="complet", completed_at=days_ago(0.5),
                    history=[("en_construction", days_ago(1))])
    run_notify(sessions, FolderMailer(tmp_path), NOW, Settings(notify=NotifySettings(templates="default")))

    bodies = complet_messages(tmp_path)
    assert set(bodies) == {"complet:applicant", "complet:employer"}
    for body in bodies.values():
        assert ("Dans votre département, 9 demandes sur 10 reçoivent une décision en moins de 10 jours "
                "(la moitié en moins de 6 jours), d'après les décisions des 90 derniers jours.") in " ".join(body.split())


def test_with_too_few_decisions_the_email_says_so_rather_than_guess(sessions, tmp_path):
    with transaction(sessions) as session:
        seed_decisions(session, service="MOE Lyon")  # the applicant's service (MOE Paris) decided nothing lately
        add_dossier(session, 1, completeness_status="complet", completed_at=days_ago(0.5),
                    history=[("en_construction", days_ago(1))])
    run_notify(sessions, FolderMailer(tmp_path), NOW, Settings(notify=NotifySettings(templates="default")))
    body = " ".join(complet_messages(tmp_path)["complet:applicant"].split())
    assert "trop peu de demandes ont reçu une décision ces 90 derniers jours pour estimer un délai" in body
    assert "9 demandes sur 10" not in body


PARIS = "Service de la main-d'œuvre étrangère de Paris"


def bind_sandbox_of(settings) -> None:
    """`wif procedure bind --yes`, the step a deployment takes before its first sync."""
    from jobs.runtime import make_client, open_database
    from tests.sync_helpers import bind_sandbox

    engine, sessions = open_database(settings)
    try:
        with make_client(settings) as client:
            bind_sandbox(client, sessions)
    finally:
        engine.dispose()


def test_push_writes_each_services_expected_delay_for_agents(make_sandbox, database_url):
    from sqlalchemy import select

    from core.clock import utcnow
    from core.models import Dossier
    from core.settings import DSSettings
    from jobs.pipeline import run_sync, service_delays
    from jobs.runtime import open_database
    from mappings.expected_delay import agent_text, delay_of
    from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID

    server = make_sandbox(dossiers=60, seed=5)
    settings = Settings(database_url=database_url, ds=DSSettings(api_url=server.url, api_token=server.token,
                                                                  instructeur_id=CONNECTOR_INSTRUCTEUR_ID))
    bind_sandbox_of(settings)
    run_sync(settings)
    engine, sessions = open_database(settings)
    try:
        with transaction(sessions) as session:
            # Known decision times for one service, on another démarche (push writes to démarche 1 only).
            seed_decisions(session, service=PARIS, first_number=900_001, demarche_number=2, now=utcnow())
        delays = service_delays(sessions)
        with sessions() as session:
            services = dict(session.execute(select(Dossier.number, Dossier.service)).all())
    finally:
        engine.dispose()
    assert delays[PARIS].nine_in_ten_within_days is not None
    # The push ran before the known decisions were added: push again, for every dossier.
    from jobs.pipeline import run_push

    run_push(settings, everything=True)
    written = {d.number: d.annotations.get("wif_delai_attendu") for d in server.store.visible_dossiers(1)}
    assert written and all(text == agent_text(delay_of(delays, services[number])) for number, text in written.items())
    assert any(text.startswith("9 demandes sur 10 décidées en moins de") for text in written.values())
