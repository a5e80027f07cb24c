"""Which notifications are due: pure rules over dossier facts."""

from __future__ import annotations

from datetime import date

import pytest
from notifications_factories import NOW, add_dossier, days_ago

from core.settings import ConfigError, load_settings
from core.snapshot import snapshot_of
from notifications.apt_dates import apt_date_problems
from notifications.events import due_notifications, occurrences
from notifications.messages import ALL_MESSAGES, DEFAULT_MESSAGES, parse_message_switches


class _NoSession:
    def add(self, _):
        pass


def facts(number=1, **kwargs):
    return snapshot_of(add_dossier(_NoSession(), number, **kwargs))


def due(f, recent_days=3, enabled=ALL_MESSAGES):
    return sorted((d.occurrence.key, d.role) for d in due_notifications(f, NOW, recent_days, frozenset(enabled)))


def test_recent_depot_goes_to_applicant_and_employer():
    assert due(facts(history=[("en_construction", days_ago(1))])) == [("depot", "applicant"), ("depot", "employer")]


def test_old_events_are_not_sent():
    assert due(facts(history=[("en_construction", days_ago(30))])) == []
    accepted = facts(
        state="refuse",
        history=[("en_construction", days_ago(40)), ("en_instruction", days_ago(35)), ("refuse", days_ago(4))],
    )
    assert due(accepted) == []
    assert due(accepted, recent_days=5) == [("refuse", "applicant"), ("refuse", "employer")]


def test_incomplete_lists_blocking_findings_only_and_varies_with_them():
    one = facts(completeness_status="incomplet", blocking=["Passeport manquant"], warnings=["Contrat commence bientôt"])
    [incomplete] = [o for o in occurrences(one) if o.template == "incomplet"]
    assert [f.message for f in incomplete.findings] == ["Passeport manquant"]
    other = facts(completeness_status="incomplet", blocking=["Passeport manquant", "Contrat manquant"])
    [other_incomplete] = [o for o in occurrences(other) if o.template == "incomplet"]
    assert other_incomplete.key != incomplete.key
    assert incomplete.key.startswith("incomplet#")


def test_incomplete_is_not_sent_once_in_instruction():
    f = facts(
        state="en_instruction",
        completeness_status="incomplet",
        blocking=["Passeport"],
        history=[("en_construction", days_ago(2)), ("en_instruction", days_ago(1))],
    )
    assert [o.template for o in occurrences(f)] == ["en_instruction"]


def test_complete_is_dated_by_the_applicants_last_action():
    # First sync of an old dossier: our checks find it complete today, but nothing happened recently.
    old = facts(completeness_status="complet", completed_at=days_ago(0), history=[("en_construction", days_ago(40))])
    assert due(old) == []
    # The applicant added the missing document yesterday: now it is news.
    fixed = facts(
        completeness_status="complet",
        completed_at=days_ago(0.9),
        champs_modified_at=days_ago(1),
        history=[("en_construction", days_ago(40))],
    )
    assert due(fixed) == [("complet", "applicant"), ("complet", "employer")]


def test_incomplete_ignores_agent_activity():
    # Annotations and messages move dateDerniereModification, not the applicant's activity.
    f = facts(
        completeness_status="incomplet",
        blocking=["Passeport"],
        history=[("en_construction", days_ago(40))],
        last_modified=days_ago(0.1),
    )
    assert due(f) == []


def test_progress_messages_are_not_sent_after_the_decision():
    f = facts(
        state="accepte",
        apt_start=date(2026, 4, 1),
        apt_end=date(2026, 9, 30),
        history=[("en_construction", days_ago(2)), ("en_instruction", days_ago(1.5)), ("accepte", days_ago(1))],
    )
    assert due(f) == [("accepte", "applicant"), ("accepte", "employer")]


def test_wrong_apt_dates_tell_the_applicant_only_for_recent_decisions():
    history = [("en_construction", days_ago(3)), ("en_instruction", days_ago(2)), ("accepte", days_ago(1))]
    f = facts(state="accepte", apt_start=date(2026, 4, 1), apt_end=date(2026, 1, 1), history=history)
    assert ("apt_dates_invalid", "applicant") in due(f)
    assert ("apt_dates_invalid", "employer") not in due(f)
    old = [("en_construction", days_ago(60)), ("en_instruction", days_ago(50)), ("accepte", days_ago(40))]
    assert due(facts(state="accepte", apt_start=None, apt_end=None, history=old)) == []


def test_employer_with_the_applicant_address_gets_no_second_message():
    f = facts(usager_email="meme@example.org", employer_email="Meme@example.org")
    assert due(f) == [("depot", "applicant")]


def test_missing_addresses_and_switched_off_messages_are_skipped():
    assert due(facts(employer_email=None)) == [("depot", "applicant")]
    assert due(facts(), enabled=DEFAULT_MESSAGES) == [("depot", "employer")]


@pytest.mark.parametrize(
    ("start", "end", "expiry", "expected"),
    [
        (None, date(2026, 5, 1), None, ("missing",)),
        (date(2026, 1, 1), date(2026, 12, 31), None, ()),
        (date(2026, 1, 1), date(2027, 1, 1), None, ("too_long",)),
        (date(2026, 5, 1), date(2026, 4, 1), None, ("inverted",)),
        (date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 1), ("after_permit",)),
        (date(2026, 1, 1), date(2027, 6, 30), date(2026, 6, 1), ("too_long", "after_permit")),
    ],
)
def test_apt_date_problems(start, end, expiry, expected):
    assert apt_date_problems(start, end, expiry) == expected


def test_message_switches():
    assert parse_message_switches("") == DEFAULT_MESSAGES
    assert "depot:applicant" not in DEFAULT_MESSAGES
    switched = parse_message_switches("default,-complet,depot:applicant")
    assert "depot:applicant" in switched and "complet:employer" not in switched and "complet:applicant" not in switched
    assert parse_message_switches("none,refuse:employer") == {"refuse:employer"}
    with pytest.raises(ConfigError):
        parse_message_switches("bogus")


def test_settings_from_environment():
    settings = load_settings(
        {
            "WIF_NOTIFY_RECENT_DAYS": "5",
            "WIF_DIGEST_DAYS_EN_INSTRUCTION": "20",
            "WIF_SERVICE_EMAILS": "MOE Paris=moe75@example.gouv.fr",
            "WIF_DIGEST_AT": "8:05",
        }
    )
    assert settings.notify.recent_days == 5
    assert settings.notify.waiting_days["en_instruction"] == 20
    assert settings.notify.service_emails == {"MOE Paris": "moe75@example.gouv.fr"}
    assert settings.schedule.digest_at == "08:05"
    with pytest.raises(ConfigError, match="WIF_DIGEST_AT"):
        load_settings({"WIF_DIGEST_AT": "25:00"})
