"""The expected decision delay where people read it: the « dossier complet » e-mail to applicant and
employer, the agents' annotation written by push, computed from decision times known in advance."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from email import message_from_bytes, policy

from notifications_factories import NOW, add_dossier, days_ago

from core.db import Database, transaction
from core.settings import NotifySettings, Settings
from mail.mailer import FolderMailer
from notifications.notify import run_notify


def seed_decisions(session, service="MOE Paris", first_number=100, demarche_number=1, now=NOW):
    """Ten dossiers of the service deposited lately and all decided, 1 to 10 days (and 6 hours) after the deposit:
    half within 5.25 days (fewer than 6 days), nine in ten within 9.25 days (fewer than 10 days)."""
    for index, days in enumerate(range(1, 11)):
        decided, state = days_ago(5 + index, now), "refuse" if index % 4 == 0 else "accepte"
        add_dossier(
            session,
            first_number + index,
            state=state,
            service=service,
            demarche_number=demarche_number,
            history=[("en_construction", decided - timedelta(days=days, hours=6)), (state, decided)],
        )


def complet_messages(folder) -> dict[str, str]:
    messages = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in folder.glob("*.eml")]
    return {
        m["X-WIF-Message"]: m.get_body(("plain",)).get_content()
        for m in messages
        if m["X-WIF-Message"].startswith("complet:")
    }


def test_the_dossier_complet_email_tells_the_expected_delay(sessions, tmp_path):
    with transaction(sessions) as session:
        seed_decisions(session)
        # Not counted: a dossier deposited before the 12 months, another service's; the dossier complet itself
        # is deposited at 0.5 days: it waits less than any decision took, so the shares do not move.
        add_dossier(
            session, 200, state="accepte", history=[("en_construction", days_ago(400)), ("accepte", days_ago(300))]
        )
        add_dossier(
            session,
            202,
            state="accepte",
            service="MOE Lyon",
            history=[("en_construction", days_ago(70)), ("accepte", days_ago(3))],
        )
        add_dossier(
            session,
            1,
            completeness_status="complet",
            completed_at=days_ago(0.25),
            history=[("en_construction", days_ago(0.5))],
        )
    run_notify(sessions, FolderMailer(tmp_path), NOW, Settings(notify=NotifySettings(templates="default")))

    bodies = complet_messages(tmp_path)
    assert set(bodies) == {"complet:applicant", "complet:employer"}
    for body in bodies.values():
        assert (
            "Auprès du service qui instruit la demande, la moitié des demandes reçoivent une décision en moins de "
            "6 jours, et 9 sur 10 en moins de 10 jours. Estimation sur les 11 demandes déposées ces 12 derniers "
            "mois, décidées ou non (dont 1 encore en attente)."
        ) in " ".join(body.split())


def test_with_too_few_decisions_the_email_says_so_rather_than_guess(sessions, tmp_path):
    with transaction(sessions) as session:
        seed_decisions(session, service="MOE Lyon")  # the applicant's service (MOE Paris) decided nothing lately
        add_dossier(
            session,
            1,
            completeness_status="complet",
            completed_at=days_ago(0.5),
            history=[("en_construction", days_ago(1))],
        )
    run_notify(sessions, FolderMailer(tmp_path), NOW, Settings(notify=NotifySettings(templates="default")))
    body = " ".join(complet_messages(tmp_path)["complet:applicant"].split())
    assert "trop peu de demandes ont été déposées ces 12 derniers mois (moins de 5) pour estimer un délai" in body
    assert "9 sur 10" not in body


PARIS = "Service de la main-d'œuvre étrangère de Paris"


def bind_sandbox_of(settings) -> None:
    """`wif procedure bind --yes`, the step a deployment takes before its first sync."""
    from jobs.runtime import make_client
    from tests.sync_helpers import bind_sandbox

    with Database(settings.database_url) as database, make_client(settings) as client:
        bind_sandbox(client, database.sessions)


def test_push_writes_each_services_expected_delay_for_agents(make_sandbox, database_url):
    from sqlalchemy import select

    from core.clock import utcnow
    from core.models import Dossier
    from core.settings import DSSettings
    from jobs.pipeline import run_sync, service_delays
    from mappings.expected_delay import agent_text, delay_of
    from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID

    server = make_sandbox(dossiers=60, seed=5)
    settings = Settings(
        database_url=database_url,
        ds=DSSettings(api_url=server.url, api_token=server.token, instructeur_id=CONNECTOR_INSTRUCTEUR_ID),
    )
    bind_sandbox_of(settings)
    database = Database(database_url)
    sessions = database.sessions
    run_sync(settings, sessions)
    with transaction(sessions) as session:
        # Known decision times for one service, on another démarche (push writes to démarche 1 only).
        seed_decisions(session, service=PARIS, first_number=900_001, demarche_number=2, now=utcnow())
    delays = service_delays(sessions)
    with sessions() as session:
        services = dict(session.execute(select(Dossier.number, Dossier.service)).all())
    assert delays[PARIS].nine_in_ten_within_days is not None
    # The push ran before the known decisions were added: push again, for every dossier.
    from jobs.pipeline import run_push

    run_push(settings, sessions, everything=True)
    database.dispose()
    written = {
        d.number: d.annotations.get("wif_delai_attendu")
        for d in server.store.visible_dossiers(1)
        if d.state not in ("accepte", "refuse", "sans_suite")
    }  # a decided dossier is the agents
    assert written and all(text == agent_text(delay_of(delays, services[number])) for number, text in written.items())
    assert any(
        text.startswith("Dans le service, la moitié des demandes reçoivent une décision en moins de")
        for text in written.values()
    )


NINE_IN_TEN_CLAIM = re.compile(r"9 (demandes )?sur 10[^.]*en moins de \d+ jours?")


def test_half_decided_in_days_half_waiting_months_no_text_claims_nine_in_ten_within_days(sessions, engine, tmp_path):
    from core.snapshot import iter_snapshots
    from jobs.pipeline import service_delays
    from mappings.target import target_for
    from stats.site import generate

    with transaction(sessions) as session:
        for index in range(10):  # deposited 10 to 91 days ago, decided 2 to 4 days later
            deposit = days_ago(10 + 9 * index)
            add_dossier(
                session,
                300 + index,
                state="accepte",
                service=PARIS,
                history=[("en_construction", deposit), ("accepte", deposit + timedelta(days=2 + index % 3))],
            )
        for index in range(10):  # deposited 95 to 185 days ago, still waiting
            add_dossier(
                session,
                400 + index,
                state="en_instruction",
                service=PARIS,
                history=[("en_construction", days_ago(95 + 10 * index)), ("en_instruction", days_ago(90 + 10 * index))],
            )
        add_dossier(
            session,
            1,
            completeness_status="complet",
            completed_at=days_ago(0.25),
            service=PARIS,
            history=[("en_construction", days_ago(0.5))],
        )
    run_notify(sessions, FolderMailer(tmp_path / "mail"), NOW, Settings(notify=NotifySettings(templates="default")))
    emails = complet_messages(tmp_path / "mail")
    delays = service_delays(sessions, NOW)
    with sessions() as session:
        annotation = target_for(next(iter_snapshots(session, [1])), delays).annotations["wif_delai_attendu"]
    generate(engine, tmp_path / "stats", NOW)
    page = html.unescape((tmp_path / "stats" / "index.html").read_text(encoding="utf-8"))
    document = (tmp_path / "stats" / "stats.json").read_text(encoding="utf-8")

    assert set(emails) == {"complet:applicant", "complet:employer"}
    texts = {**emails, "annotation": annotation, "page": page, "json": document}
    for where, text in texts.items():
        text = " ".join(text.split())
        assert not NINE_IN_TEN_CLAIM.search(text), where
    for where in ("complet:applicant", "complet:employer", "annotation"):
        # Half decided within 4 days, and the rest waits: as far as five are followed, 145 days (145, 155, … 185),
        # counted at the start of the day (Paris, 10 hours before NOW): 144 whole days.
        text = " ".join(texts[where].split())
        assert (
            "la moitié des demandes reçoivent une décision en moins de 5 jours, mais plus d'une demande sur 10 "
            "attend plus de 144 jours" in text
        ), where
    # The page's row for Paris: half within 5 days, the tenth not reached: some wait more than 144 days.
    assert "75 – Paris</th><td>moins de 5 jours</td><td>plus de 144 jours</td>" in page
    assert "plus d'une demande sur 10 attend plus de 144 jours" in document
