"""The validity check's global lookup budget, shared by every worker through
the database; the team alerted once when misses spike; a miss runs the
statements of a hit."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from core.db import make_engine, session_factory, upgrade
from core.models import Notification, ValidityRecord
from core.settings import MailSettings, ValiditySettings
from mail.mailer import FolderMailer
from validity.alerts import SpikeAlerts
from validity.app import API_PATH, create_app
from validity.budget import LookupBudget
from validity.derive import birth_date_hash
from validity.ratelimit import TokenBucketLimiter

PEPPER = b"budget-test-pepper-" + b"q" * 32
TODAY = date(2026, 6, 1)
BIRTH = date(2001, 3, 21)
VALID, WITHDRAWN, UNKNOWN = 7770001, 7770002, 7779999
WINDOW = 300
TEAM = "equipe-wif@example.org"


@pytest.fixture
def clock(clock):
    clock.traveller.move_to(1_000_000_000.0, tick=False)  # 2001-09-09 01:46:40 UTC, inside a window begun at 01:45
    return clock


@pytest.fixture
def workers(database_url):
    """Two workers' session factories on one database, as two `wif serve` processes have."""
    engines = [make_engine(database_url) for _ in range(2)]
    upgrade(engines[0])
    with session_factory(engines[0])() as session, session.begin():
        for number, state in ((VALID, "valid"), (WITHDRAWN, "withdrawn")):
            session.add(
                ValidityRecord(
                    dossier_number=number,
                    birth_date_hash=birth_date_hash(PEPPER, number, BIRTH),
                    masked_name="Ka*** Be***",
                    siret="73282932000074",
                    apt_start=date(2026, 1, 5),
                    apt_end=date(2026, 12, 31),
                    state=state,
                    updated_at=datetime(2026, 5, 1, tzinfo=UTC),
                )
            )
    yield [session_factory(engine) for engine in engines], engines
    for engine in engines:
        engine.dispose()


def make_app(sessions, clock, *, limit=1000, miss_alert=1000, alerts=None):
    # A generous per-client limit: only the global budget may refuse here.
    limiter = TokenBucketLimiter(per_minute=10_000, burst=10_000)
    budget = LookupBudget(limit, WINDOW, miss_alert, clock=clock.time)
    app = create_app(
        sessions, ValiditySettings(pepper=PEPPER), today=lambda: TODAY, limiter=limiter, budget=budget, alerts=alerts
    )
    return app.test_client()


def api(client, number, birth="2001-03-21", address="192.0.2.1"):
    return client.post(
        API_PATH, data={"numero": str(number), "date_naissance": birth}, environ_base={"REMOTE_ADDR": address}
    )


def test_the_budget_is_shared_by_two_workers_and_every_address(workers, clock):
    (sessions_a, sessions_b), _ = workers
    a, b = make_app(sessions_a, clock, limit=3), make_app(sessions_b, clock, limit=3)
    assert api(a, VALID, address="192.0.2.1").status_code == 200
    assert api(b, UNKNOWN, address="192.0.2.2").status_code == 200
    assert api(a, VALID, "2001-03-22", address="192.0.2.3").status_code == 200

    refused = api(b, VALID, address="192.0.2.4")  # a fourth lookup, a fourth address, the other worker
    assert refused.status_code == 429
    assert refused.json == {
        "erreur": "service_sature",
        "message": "Le service de vérification reçoit trop de demandes en ce moment. Réessayez dans quelques minutes.",
    }
    assert int(refused.headers["Retry-After"]) == 200  # until the window that began at 01:45 ends
    page = a.post(
        "/", data={"numero": str(VALID), "date_naissance": "21/03/2001"}, environ_base={"REMOTE_ADDR": "192.0.2.5"}
    )
    assert page.status_code == 429
    text = page.get_data(as_text=True)
    assert "Service très sollicité" in text and "trop de demandes" in text and "Ka***" not in text

    clock.advance(seconds=200)  # the next window
    assert api(b, VALID).json["resultat"] == "valide"


def test_a_spike_of_misses_sends_the_team_one_email_per_window(workers, clock, tmp_path):
    (sessions_a, sessions_b), _ = workers
    folder = tmp_path / "outbox"

    def alerts(sessions):
        return SpikeAlerts(
            sessions,
            MailSettings(),
            TEAM,
            lambda: FolderMailer(folder),
            window_seconds=WINDOW,
            threshold=3,
            background=False,
        )

    a = make_app(sessions_a, clock, miss_alert=3, alerts=alerts(sessions_a))
    b = make_app(sessions_b, clock, miss_alert=3, alerts=alerts(sessions_b))
    for index in range(8):  # misses from both workers: unknown numbers, wrong dates, a withdrawn record
        client = (a, b)[index % 2]
        number, birth = ((UNKNOWN + index, "2001-03-21"), (VALID, "2001-03-22"), (WITHDRAWN, "2001-03-21"))[index % 3]
        assert api(client, number, birth).json["resultat"] == "aucune_correspondance"
    assert api(a, VALID).json["resultat"] == "valide"

    sent = sorted(folder.glob("*.eml"))
    assert len(sent) == 1
    message = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == TEAM and message["Subject"] == "Vérification des APT : pic de vérifications sans résultat"
    body = message.get_body(("plain",)).get_content()
    assert "3 vérification(s), dont 3 sans résultat" in body and "seuil d'alerte de 3" in body
    assert "entre 03:45 et 03:50 (heure de Paris)" in body
    assert str(VALID) not in body and "21/03/2001" not in body and "2001-03-2" not in body  # counts only
    with sessions_a() as session:
        assert session.scalars(
            select(Notification.status).where(Notification.template == "validity_miss_spike")
        ).all() == ["sent"]

    clock.advance(seconds=WINDOW)  # a new window: a new spike is a new e-mail
    for index in range(3):
        api((a, b)[index % 2], UNKNOWN)
    assert len(list(folder.glob("*.eml"))) == 2


def test_without_a_team_address_a_spike_is_logged(workers, clock, caplog):
    (sessions_a, _), _ = workers
    alerts = SpikeAlerts(
        sessions_a,
        MailSettings(),
        "",
        lambda: pytest.fail("no mailer without an address"),
        window_seconds=WINDOW,
        threshold=2,
        background=False,
    )
    client = make_app(sessions_a, clock, miss_alert=2, alerts=alerts)
    for _ in range(4):
        api(client, UNKNOWN)
    assert caplog.text.count("WIF_TEAM_EMAIL is not set") == 1


def test_a_miss_runs_the_statements_of_a_hit(workers, clock):
    (sessions_a, _), (engine_a, _) = workers
    client = make_app(sessions_a, clock)
    api(client, VALID)  # the window's first lookup also creates its row
    statements: list[str] = []
    event.listen(
        engine_a,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(" ".join(statement.split())),
    )
    shapes = {}
    for case, (number, birth) in {
        "hit": (VALID, "2001-03-21"),
        "wrong date": (VALID, "2001-03-22"),
        "unknown": (UNKNOWN, "2001-03-21"),
        "withdrawn": (WITHDRAWN, "2001-03-21"),
    }.items():
        statements.clear()
        assert api(client, number, birth).status_code == 200
        shapes[case] = tuple(statements)
    assert len(set(shapes.values())) == 1, shapes
    assert any("FROM validity_records" in s for s in shapes["hit"])


def test_settings_of_the_budget_and_the_team_address():
    from core.settings import ConfigError, load_settings

    settings = load_settings(
        {
            "WIF_VALIDITY_GLOBAL_LOOKUPS": "40",
            "WIF_VALIDITY_GLOBAL_WINDOW_MINUTES": "2",
            "WIF_VALIDITY_MISS_ALERT": "9",
            "WIF_TEAM_EMAIL": TEAM,
        }
    )
    assert (
        settings.validity.global_lookups,
        settings.validity.global_window_minutes,
        settings.validity.miss_alert,
    ) == (40, 2, 9)
    assert settings.mail.team_email == TEAM and TEAM not in repr(settings)
    with pytest.raises(ConfigError, match="WIF_TEAM_EMAIL"):
        load_settings({"WIF_TEAM_EMAIL": "pas une adresse"})


def test_an_alert_the_mail_server_refused_is_sent_when_the_next_window_opens(workers, clock, tmp_path):
    from mail.mailer import MailerUnavailable

    (sessions_a, _), _ = workers
    folder = tmp_path / "outbox"
    down = {"yes": True}

    class FlakyMailer(FolderMailer):
        def send(self, message):
            if down["yes"]:
                raise MailerUnavailable("connexion refusée")
            super().send(message)

    alerts = SpikeAlerts(
        sessions_a,
        MailSettings(retry_base_seconds=0),
        TEAM,
        lambda: FlakyMailer(folder),
        window_seconds=WINDOW,
        threshold=2,
        background=False,
    )
    client = make_app(sessions_a, clock, miss_alert=2, alerts=alerts)
    for _ in range(2):
        api(client, UNKNOWN)
    assert not folder.exists()
    with sessions_a() as session:
        assert session.scalars(select(Notification.status)).all() == ["pending"]
    down["yes"] = False
    clock.advance(seconds=WINDOW)
    assert api(client, VALID).json["resultat"] == "valide"  # the window's first lookup
    assert len(list(folder.glob("*.eml"))) == 1
