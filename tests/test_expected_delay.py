"""« Quand vais-je recevoir mon autorisation ? »: the expected delay per service, over every dossier deposited
in the window, decided or not (Kaplan–Meier), against figures computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.clock import PARIS
from core.disclosure import SMALL_COUNT_THRESHOLD
from core.snapshot import DelayFact
from mappings.expected_delay import (
    WINDOW_MONTHS,
    agent_text,
    applicant_sentence,
    delay_of,
    per_service,
    public_sentence,
)
from stats.suppression import THRESHOLD

NOW = datetime(2026, 3, 10, tzinfo=PARIS)  # the start of a day, when the estimate is counted
SERVICE = "MOE 75"


def decided(days: float, deposited_days_ago: float = 30, state="accepte", service=SERVICE):
    deposit = NOW - timedelta(days=deposited_days_ago)
    return DelayFact(service, state, deposit, deposit + timedelta(days=days))


def waiting(days: float, state="en_instruction", service=SERVICE):
    return DelayFact(service, state, NOW - timedelta(days=days), None)


def by_itself(name):
    return name or "fallback"


def delay(facts):
    return delay_of(per_service(facts, NOW, by_itself), SERVICE, by_itself)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_threshold_is_the_stats_pages_and_the_window_is_a_year():
    assert SMALL_COUNT_THRESHOLD == THRESHOLD
    assert WINDOW_MONTHS == 12


def test_with_every_dossier_decided_the_estimate_is_the_share_of_known_decision_times():
    # Ten decisions taken after 1, 2, … 10 days (and 6 hours): half within 5.25 days, nine in ten within 9.25.
    estimate = delay([decided(day + 0.25) for day in range(1, 11)])
    assert (estimate.dossiers, estimate.waiting, estimate.half_within_days, estimate.nine_in_ten_within_days) == (
        10,
        0,
        6,
        10,
    )
    assert applicant_sentence(estimate) == (
        "Auprès du service qui instruit la demande, la moitié des demandes reçoivent une décision en moins de 6 jours, "
        "et 9 sur 10 en moins de 10 jours. Estimation sur les 10 demandes déposées ces 12 derniers mois, décidées ou "
        "non (dont 0 encore en attente)."
    )


def test_a_dossier_still_waiting_counts_as_not_decided_so_far():
    # By hand (Kaplan–Meier), five dossiers of each: decisions after 1, 2, 4 and 5 days; classés sans suite after
    # 3 days and still waiting after 6 days, followed until then. Survival 25/30 = 5/6 after day 1, × 20/25 after
    # day 2 = 2/3, × 10/15 after day 4 = 4/9 (< 1/2: half decided within 4 days), × 5/10 after day 5 = 2/9, which
    # stays above 1/10 until day 6, when the last 5 were still followed.
    facts = 5 * [
        decided(1),
        decided(2),
        decided(4),
        decided(5, state="refuse"),
        decided(3, state="sans_suite"),
        waiting(6),
    ]
    estimate = delay(facts)
    assert (estimate.dossiers, estimate.waiting, estimate.half_within_days, estimate.nine_in_ten_within_days) == (
        30,
        5,
        5,
        None,
    )
    assert (estimate.longest_days, estimate.waiting_share_at_longest) == (6, pytest.approx(2 / 9))
    text = flat(applicant_sentence(estimate))
    assert (
        "la moitié des demandes reçoivent une décision en moins de 5 jours, mais plus d'une demande sur 10 attend "
        "plus de 6 jours" in text
    )
    assert "9 sur 10" not in text


def test_a_share_not_reached_is_told_as_far_as_five_dossiers_were_followed():
    # One dossier has waited 300 days; the other nine were decided within 10 days or wait for 40 to 60 days.
    facts = [decided(2 + i) for i in range(5)] + [waiting(40 + 5 * i) for i in range(4)] + [waiting(300)]
    estimate = delay(facts)
    # At day 40 the four waiting since 40–55 days and the one of 300 days are the last five followed.
    assert estimate.longest_days == 40
    assert "plus d'une demande sur 10 attend plus de 40 jours" in applicant_sentence(estimate)
    assert "300" not in applicant_sentence(estimate) + agent_text(estimate) + public_sentence(estimate)


def test_half_decided_in_days_and_half_waiting_for_months_says_that_some_wait_months():
    facts = [decided(3, deposited_days_ago=100 + i) for i in range(10)] + [waiting(90 + 5 * i) for i in range(10)]
    estimate = delay(facts)
    # Followed as far as the five longest waits: 115, 120, … 135 days.
    assert (estimate.half_within_days, estimate.nine_in_ten_within_days, estimate.longest_days) == (4, None, 115)
    for text in (applicant_sentence(estimate), agent_text(estimate), public_sentence(estimate)):
        assert "9 sur 10" not in text and "9 demandes sur 10" not in text
        assert "plus d'une demande sur 10 attend plus de 115 jours" in text
        assert "dont 10 encore en attente" in text


def test_when_most_wait_the_estimate_gives_no_median():
    estimate = delay([decided(3)] * 2 + [waiting(40 + i) for i in range(8)])
    assert estimate.half_within_days is None
    assert "plus de la moitié des demandes attendent une décision plus de 43 jours" in applicant_sentence(estimate)


def test_the_cohort_is_the_window_s_deposits_and_the_older_backlog_is_told():
    facts = [decided(2) for _ in range(5)] + [
        decided(2, deposited_days_ago=400),  # deposited before the window, decided: not in the cohort
        waiting(500),
        waiting(380),  # deposited before the window, still waiting: counted and told
        decided(60, service="MOE 13"),  # another service
    ]
    estimate = delay(facts)
    assert (estimate.dossiers, estimate.older_waiting) == (5, 2)
    assert "2 demandes déposées plus tôt attendent encore une décision" in applicant_sentence(estimate)
    assert "moins de 5 demandes déposées plus tôt attendent encore une décision" in public_sentence(estimate)
    assert per_service(facts, NOW, by_itself)["MOE 13"].dossiers == 1


def test_too_few_dossiers_give_no_figure_and_say_so():
    estimate = delay([decided(3) for _ in range(SMALL_COUNT_THRESHOLD - 1)])
    assert not estimate.enough and estimate.half_within_days is None and estimate.nine_in_ten_within_days is None
    assert (
        "trop peu de demandes ont été déposées ces 12 derniers mois (moins de 5) pour estimer un délai"
        in applicant_sentence(estimate)
    )
    assert "moitié" not in agent_text(estimate)
    nobody = delay_of({}, "MOE 13", by_itself)
    assert (nobody.dossiers, nobody.enough) == (0, False)


def test_a_service_not_open_yet_counts_for_the_groupe_that_handles_its_dossiers():
    def in_charge(name):
        return "À orienter manuellement" if name in (None, "MOE 01") else name

    facts = [decided(2, service="MOE 01") for _ in range(3)] + [decided(4, service=None) for _ in range(3)]
    delays = per_service(facts, NOW, in_charge)
    assert set(delays) == {"À orienter manuellement"}
    assert delay_of(delays, "MOE 01", in_charge).dossiers == 6


def test_employers_read_about_the_service_that_handles_the_request():
    text = applicant_sentence(delay([decided(2) for _ in range(6)]))
    assert "service qui instruit la demande" in text and "département" not in text


def test_one_estimate_per_day_whatever_the_hour_it_is_asked():
    facts = [decided(2)] * 5 + [waiting(30.3), waiting(40.6), waiting(50.2), waiting(60.9), waiting(70.5)]
    texts = {
        agent_text(delay_of(per_service(facts, NOW + timedelta(hours=hours), by_itself), SERVICE, by_itself))
        for hours in (0, 9, 9.25, 23.9)
    }
    assert len(texts) == 1, texts
