"""Synthetic dossiers for the stats tests, inserted with the ORM (no personal data)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from core.models import Contract, Dossier, Student

UTC = UTC


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def dossier(
    number: int,
    state: str,
    depot: datetime,
    traitement: datetime | None = None,
    *,
    service: str | None = "Paris",
    departement: str | None = "75",
    contract_type: str | None = "cdd",
    nationality: tuple[str, str] = ("DZ", "Algérie"),
    completed_at: datetime | None = None,
    apt: tuple[date, date] | None = None,
    deleted: bool = False,
    hidden: bool = False,
    demarche: int = 1,
) -> Dossier:
    return Dossier(
        number=number,
        ds_id=f"RG9zc2llci0{number}",
        demarche_number=demarche,
        state=state,
        date_depot=depot,
        date_traitement=traitement,
        date_derniere_modification=traitement or depot,
        service=service,
        departement=departement,
        completed_at=completed_at,
        apt_start=apt[0] if apt else None,
        apt_end=apt[1] if apt else None,
        deleted_at=depot + timedelta(days=40) if deleted else None,
        hidden_at=depot + timedelta(days=40) if hidden else None,
        raw={},
        synced_at=depot,
        contract=Contract(contract_type=contract_type),
        student=Student(
            nationality_code=nationality[0],
            nationality_name=nationality[1],
            last_name=f"Nomtest{number}",
            first_name="Prénomtest",
            email=f"etudiant{number}@example.test",
        ),
    )


def small_fixture() -> list[Dossier]:
    """Eight dossiers whose figures are computed by hand in test_stats_figures."""
    return [
        # Deposited 28 Feb 23:30 UTC = 1 March Paris; decided 31 March 22:30 UTC = 1 April Paris.
        dossier(
            1, "accepte", utc("2026-02-28T23:30"), utc("2026-03-31T22:30"), apt=(date(2026, 4, 1), date(2026, 6, 30))
        ),
        dossier(2, "refuse", utc("2026-03-05T10:00"), utc("2026-03-15T10:00"), completed_at=utc("2026-03-06T10:00")),
        dossier(3, "en_instruction", utc("2026-03-20T10:00")),
        dossier(
            4,
            "sans_suite",
            utc("2026-03-01T10:00"),
            utc("2026-03-03T10:00"),
            service="Lyon",
            departement="69",
            contract_type="cdi",
            nationality=("MA", "Maroc"),
        ),
        dossier(5, "accepte", utc("2026-03-02T10:00"), utc("2026-03-06T10:00"), deleted=True),
        dossier(6, "accepte", utc("2026-03-02T10:00"), utc("2026-03-06T10:00"), hidden=True),
        dossier(7, "en_construction", utc("2026-04-02T08:00"), service=None, departement=None, contract_type=None),
        dossier(
            8, "accepte", utc("2026-03-25T10:00"), utc("2026-04-10T10:00"), apt=(date(2026, 4, 15), date(2026, 7, 15))
        ),
    ]


SERVICES = {"75": "Paris", "93": "Seine-Saint-Denis", "69": "Rhône", "13": "Bouches-du-Rhône", "2A": "Corse-du-Sud"}
STATES = ("accepte", "accepte", "accepte", "accepte", "refuse", "sans_suite", "en_construction", "en_instruction")
CONTRACTS = ("cdd", "cdd", "cdi", "apprentissage", "doctoral", "ater")
NATIONALITIES = (("DZ", "Algérie"), ("MA", "Maroc"), ("TN", "Tunisie"), ("CN", "Chine"), ("SN", "Sénégal"))


SYNTHETIC_START = utc("2025-06-01T00:00")


def synthetic(count: int, seed: int = 7, start: datetime = SYNTHETIC_START, days: int = 540) -> list[Dossier]:
    """Many varied dossiers over `days` days from `start`, some départements rare on purpose."""
    rng = random.Random(seed)
    dossiers = []
    for number in range(1, count + 1):
        departement = rng.choices(list(SERVICES), weights=(50, 25, 15, 9, 1))[0]
        depot = start + timedelta(seconds=rng.randrange(days * 86400))
        state = rng.choice(STATES)
        decided = state in ("accepte", "refuse", "sans_suite")
        traitement = depot + timedelta(hours=rng.randrange(2, 24 * 30)) if decided else None
        apt_start = (traitement or depot).date()
        dossiers.append(
            dossier(
                number,
                state,
                depot,
                traitement,
                service=SERVICES[departement],
                departement=departement,
                contract_type=rng.choice(CONTRACTS),
                nationality=rng.choice(NATIONALITIES),
                completed_at=depot + timedelta(hours=rng.randrange(1, 72)) if rng.random() < 0.8 else None,
                apt=(apt_start, apt_start + timedelta(days=rng.randrange(30, 365))) if state == "accepte" else None,
                deleted=rng.random() < 0.01,
            )
        )
    return dossiers


def insert(sessions, dossiers: list[Dossier]) -> None:
    with sessions() as session, session.begin():
        session.add_all(dossiers)
