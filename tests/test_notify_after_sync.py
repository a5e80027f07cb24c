"""Sync of a seeded sandbox, then `wif notify` through a real SMTP server.

The expected e-mails are derived here from what the sync stored (states,
state history, completeness, addresses) and the rules of the issue, written
independently of notifications/events.py: one template per step, the
"recent days" window, the per-message switches, one role or both.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import Database
from core.models import Dossier
from core.settings import MailSettings, NotifySettings, Settings
from jobs.verbs import notify as notify_command
from tests.sync_helpers import make_syncer

RECENT_DAYS = 60
# Every message, DS's duplicates included, but one switched off: the switches must be obeyed.
TEMPLATE_SWITCHES = "all,-complet:employer"
SWITCHED_OFF = "complet:employer"
DECIDED = ("accepte", "refuse", "sans_suite")


@dataclass(frozen=True)
class Expected:
    dossier_number: int
    message: str  # template:role
    address: str


def _latest(*moments):
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def _champs_modified_at(raw: dict) -> datetime | None:
    value = (raw or {}).get("dateDerniereModificationChamps")
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _apt_dates_wrong(start: date | None, end: date | None, permit_expiry: date | None) -> bool:
    """The agents' APT period of an accepted dossier is wrong: missing, inverted, longer
    than 12 months (the last valid day is the day before the same date a year later;
    28 February for a 29 February start) or ending after the titre de séjour."""
    if start is None or end is None or end < start:
        return True
    same_day_next_year = date(start.year + 1, start.month, 28 if (start.month, start.day) == (2, 29) else start.day)
    return end >= same_day_next_year or (permit_expiry is not None and end > permit_expiry)


def _steps(dossier: Dossier) -> list[tuple[str, datetime | None, tuple[str, ...]]]:
    """(template, when it happened, roles) of the steps the dossier stands at now."""
    entered: dict[str, list[datetime]] = {}
    for change in dossier.history:
        entered.setdefault(change.to_state, []).append(change.occurred_at)
    both = ("applicant", "employer")
    applicant_acted = _latest(
        dossier.date_depot, max(entered.get("en_construction", []), default=None), _champs_modified_at(dossier.raw)
    )
    steps = []
    if dossier.state == "en_construction" and dossier.completeness_status == "hors_perimetre":
        # Out of scope: told as such (with the reason), not « bien reçue … vérifie qu'elle est complète ».
        steps.append(("hors_perimetre", applicant_acted or dossier.date_derniere_modification, both))
    elif dossier.state == "en_construction":
        steps.append(("depot", min(entered.get("en_construction", []), default=dossier.date_depot), both))
        if dossier.completeness_status == "incomplet":
            steps.append(("incomplet", applicant_acted or dossier.date_derniere_modification, both))
    if dossier.completeness_status == "complet" and dossier.completed_at and dossier.state not in DECIDED:
        steps.append(("complet", min(dossier.completed_at, applicant_acted or dossier.completed_at), both))
    if dossier.state == "en_instruction" and entered.get("en_instruction"):
        steps.append(("en_instruction", max(entered["en_instruction"]), both))
    if dossier.state in DECIDED:
        decided_at = max(entered.get(dossier.state, []), default=dossier.date_traitement)
        steps.append((dossier.state, decided_at, both))
        permit_expiry = dossier.student.permit_expiry if dossier.student else None
        if dossier.state == "accepte" and _apt_dates_wrong(dossier.apt_start, dossier.apt_end, permit_expiry):
            steps.append(("apt_dates_invalid", decided_at, ("applicant",)))
    return steps


def _address(dossier: Dossier, role: str) -> str | None:
    if role == "applicant":
        return dossier.usager_email
    employer = dossier.employer.email if dossier.employer else None
    if employer and dossier.usager_email and employer.lower() == dossier.usager_email.lower():
        return None  # the same person: one message is enough
    return employer


def expected_messages(sessions, now: datetime) -> set[Expected]:
    since = now - timedelta(days=RECENT_DAYS)
    expected = set()
    with sessions() as session:
        dossiers = session.scalars(
            select(Dossier)
            .where(Dossier.hidden_at.is_(None), Dossier.deleted_at.is_(None))
            .options(selectinload(Dossier.history), selectinload(Dossier.employer), selectinload(Dossier.student))
        ).all()
        for dossier in dossiers:
            for template, happened_at, roles in _steps(dossier):
                if happened_at is None or happened_at < since:
                    continue
                for role in roles:
                    address = _address(dossier, role)
                    if address and f"{template}:{role}" != SWITCHED_OFF:
                        expected.add(Expected(dossier.number, f"{template}:{role}", address))
    return expected


def by_recipient(expected: set[Expected]) -> Counter:
    return Counter((item.address, item.message) for item in expected)


@pytest.fixture
def database(database_url, smtp_server):
    """The commands' own path: the schema from the migrations."""
    settings = Settings(
        database_url=database_url,
        mail=MailSettings(smtp_url=smtp_server[1]),
        notify=NotifySettings(templates=TEMPLATE_SWITCHES, recent_days=RECENT_DAYS),
    )
    with Database(database_url) as database:
        yield settings, database


def wif_notify(settings: Settings, database: Database, monkeypatch, now: datetime) -> str:
    """`wif notify` at `now`: its one line (it must succeed)."""
    monkeypatch.setattr(notify_command, "utc_now", lambda: now)
    result = notify_command.run(argparse.Namespace(dry_run=False), settings, database)
    assert result.exit_code == 0
    return result.summary


def test_sync_then_notify_sends_exactly_what_is_due_once(
    make_sandbox, ds_client_for, database, smtp_server, monkeypatch, capsys
):
    settings, database = database
    sessions = database.sessions
    handler, smtp_url = smtp_server
    server = make_sandbox(dossiers=400, seed=5)
    syncer = make_syncer(ds_client_for(server), sessions)
    syncer.sync(1)

    now = datetime.now(UTC)
    first = expected_messages(sessions, now)
    assert len(first) > 0
    assert len({item.message.split(":")[0] for item in first}) >= 3  # the seeded data reaches several steps
    said = wif_notify(settings, database, monkeypatch, now)
    assert Counter(handler.received) == by_recipient(first)
    assert f"sent={len(first)} " in said

    # Nothing changed: nothing more to send.
    wif_notify(settings, database, monkeypatch, now + timedelta(minutes=15))
    assert Counter(handler.received) == by_recipient(first)

    # A decision on DS: the next sync and notify send exactly the new messages.
    in_instruction = next(d.number for d in server.store.visible_dossiers(1) if d.state == "en_instruction")
    server.store.set_state(in_instruction, "accepte")
    assert syncer.sync(1).updated == 1
    later = datetime.now(UTC)
    new = expected_messages(sessions, later) - first
    assert {item.dossier_number for item in new} == {in_instruction}
    assert any(item.message.startswith("accepte:") for item in new)
    received_before = len(handler.received)
    wif_notify(settings, database, monkeypatch, later)
    assert Counter(handler.received[received_before:]) == by_recipient(new)
