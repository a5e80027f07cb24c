"""« Quand vais-je recevoir mon autorisation ? »: the expected delay per service, from known decision times."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.disclosure import SMALL_COUNT_THRESHOLD
from core.snapshot import DecisionFact
from mappings.expected_delay import (
    agent_text,
    applicant_sentence,
    delay_of,
    expected_delays,
    within_days,
)
from stats.suppression import THRESHOLD

NOW = datetime(2026, 3, 10, 9, tzinfo=timezone.utc)
BY_SERVICE = lambda d: d.service  # noqa: E731


def decision(days: float, service="MOE 75", state="accepte", decided_days_ago: float = 1, departement="75"):
    decided = NOW - timedelta(days=decided_days_ago)
    return DecisionFact(service, departement, state, decided - timedelta(days=days), decided)


def test_the_threshold_is_the_stats_pages():
    assert SMALL_COUNT_THRESHOLD == THRESHOLD


def test_median_and_nine_in_ten_of_known_decision_times():
    # Ten decisions taken after 1, 2, … 10 days (and a few hours).
    decisions = [decision(day + 0.25) for day in range(1, 11)]
    delay = expected_delays(decisions, NOW, BY_SERVICE)["MOE 75"]
    # Nearest rank: half decided within 5.25 days (< 6 days), nine in ten within 9.25 days (< 10 days).
    assert (delay.decisions, delay.half_within_days, delay.nine_in_ten_within_days) == (10, 6, 10)
    assert applicant_sentence(delay) == ("Dans votre département, 9 demandes sur 10 reçoivent une décision en moins de "
                                         "10 jours (la moitié en moins de 6 jours), d'après les décisions des 90 "
                                         "derniers jours.")
    assert agent_text(delay).startswith("9 demandes sur 10 décidées en moins de 10 jours, la moitié en moins de 6 jours")


def test_only_the_last_90_days_decisions_on_the_merits_count_per_service():
    decisions = [decision(2) for _ in range(5)] + [
        decision(60, decided_days_ago=91),  # too old
        decision(60, state="sans_suite"),  # withdrawn: no answer to wait for
        decision(60, service="MOE 13"),  # another service
        decision(60, decided_days_ago=-1),  # after now: a clock skew, not a decision yet
    ]
    delays = expected_delays(decisions, NOW, BY_SERVICE)
    assert (delays["MOE 75"].decisions, delays["MOE 75"].nine_in_ten_within_days) == (5, 3)
    assert delays["MOE 13"].decisions == 1


def test_too_few_decisions_give_no_figure_and_say_so():
    delays = expected_delays([decision(3) for _ in range(SMALL_COUNT_THRESHOLD - 1)], NOW, BY_SERVICE)
    delay = delays["MOE 75"]
    assert not delay.known and delay.half_within_days is None and delay.nine_in_ten_within_days is None
    assert "trop peu de demandes ont reçu une décision ces 90 derniers jours" in applicant_sentence(delay)
    assert "moins de 5" in agent_text(delay) and "9 demandes" not in agent_text(delay)
    nobody = delay_of(delays, "MOE 13")
    assert (nobody.decisions, nobody.known) == (0, False)


def test_grouped_by_departement_for_the_stats_page():
    decisions = [decision(1, departement="92", service="MOE 92") for _ in range(6)]
    assert set(expected_delays(decisions, NOW, lambda d: d.departement)) == {"92"}


@pytest.mark.parametrize("delays, share, days", [([0.1], 0.9, 1), ([1.0, 2.0], 0.5, 2), ([3.0] * 9 + [30.0], 0.9, 4)])
def test_within_days_is_the_least_whole_day_count_above_the_share(delays, share, days):
    assert within_days(delays, share) == days
