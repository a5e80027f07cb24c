"""Out of scope is told: an EU national, a non-Algerian student under the 964 h threshold… the applicant and the
employer read that the request does not belong to the démarche, why, and that the service will confirm, instead of
« bien reçue … le service vérifie qu'elle est complète » and then nothing. Read from the sandbox through the sync
and the real checks."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from core.models import Dossier, Employer, Finding
from core.settings import DSSettings, NotifySettings, Settings
from mail.mailer import FolderMailer
from notifications.notify import run_notify
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from tests.test_expected_delay_flow import bind_sandbox_of


@pytest.fixture(scope="module")
def mailed(tmp_path_factory, module_database_url):
    from core.clock import utcnow
    from core.db import Database
    from jobs.pipeline import run_sync
    from jobs.runtime import sandbox_store
    from sandbox.server import start_server

    # A seed whose out-of-scope dossiers (an EU national, a student under the threshold) still wait,
    # filed by the student.
    server = start_server(sandbox_store(120, 6), rate_limit=1_000_000, window_seconds=60)
    try:
        settings = Settings(
            database_url=module_database_url,
            ds=DSSettings(api_url=server.url, api_token=server.token, instructeur_id=CONNECTOR_INSTRUCTEUR_ID),
        )
        bind_sandbox_of(settings)
        database = Database(module_database_url)
        sessions = database.sessions
        run_sync(settings, sessions, push=False)
    finally:
        server.stop()
    folder = tmp_path_factory.mktemp("outbox")
    # Every step whatever its age, as if each had just happened.
    run_notify(sessions, FolderMailer(folder), utcnow(), Settings(notify=NotifySettings(recent_days=100_000)))
    with sessions() as session:
        out_of_scope: dict[int, set[str]] = {}
        for number, code in session.execute(
            select(Finding.dossier_number, Finding.code)
            .join(Dossier, Dossier.number == Finding.dossier_number)
            .where(Finding.code.like("out_of_scope%"), Dossier.state == "en_construction")
        ):
            out_of_scope.setdefault(number, set()).add(code)
        with_employer = set(
            session.scalars(
                select(Employer.dossier_number)
                .join(Dossier, Dossier.number == Employer.dossier_number)
                .where(Employer.email.is_not(None), func.lower(Employer.email) != func.lower(Dossier.usager_email))
            )
        )
    database.dispose()
    by_dossier: dict[int, dict[str, str]] = {}
    for path in folder.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        number = int(message["Subject"].split("n° ")[1].split(" ")[0])
        by_dossier.setdefault(number, {})[message["X-WIF-Message"]] = " ".join(
            message.get_body(("plain",)).get_content().split()
        )
    return out_of_scope, by_dossier, with_employer


@pytest.mark.parametrize(
    "code, reason",
    [
        ("out_of_scope_nationality", "n'ont pas besoin d'autorisation de travail"),
        (
            "out_of_scope_under_threshold",
            "un étudiant étranger peut travailler sans autorisation provisoire de travail",
        ),
    ],
)
def test_applicant_and_employer_are_told_it_is_out_of_scope_and_why(mailed, code, reason):
    out_of_scope, by_dossier, with_employer = mailed
    numbers = [number for number, found in out_of_scope.items() if code in found]
    assert numbers and set(numbers) & with_employer, f"the sandbox has no {code} dossier waiting with an employer"
    for number in numbers:
        messages = by_dossier[number]
        told = {"hors_perimetre:applicant"} | ({"hors_perimetre:employer"} if number in with_employer else set())
        assert told <= set(messages)
        for name in told:
            text = messages[name]
            assert "ne relève pas de cette démarche" in text and reason in text
            assert "va confirmer cette analyse" in text
        for text in messages.values():
            assert "vérifie qu'elle est complète" not in text
