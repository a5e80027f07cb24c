"""Decisions and backlog per service: hand-computed counts, who handles a dossier, and the
small-count rule on every new cell, closed by the totals published elsewhere on the page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mappings.routing import load_routing_table
from stats.figures import BACKLOG_COLUMNS, TOTAL, build_figures
from stats.load import PAGE_COLUMNS, load_dossiers
from tests.stats_fixtures import dossier, insert, synthetic, utc

AS_OF = utc("2026-11-15T12:00")
TABLE = load_routing_table()
CLOSED = next(s.name for s in TABLE.services if not s.open)
FALLBACK = TABLE.fallback_groupe


def figures_of(sessions, dossiers, as_of=AS_OF):
    insert(sessions, dossiers)
    with sessions() as session:
        return build_figures(load_dossiers(session, PAGE_COLUMNS), as_of)


def in_state(number, state, entered_days_ago, service="Paris", depot_days_ago=None):
    depot = AS_OF - timedelta(days=depot_days_ago or entered_days_ago)
    record = dossier(number, state, depot, service=service)
    record.date_passage_en_construction = depot
    if state == "en_instruction":
        record.date_passage_en_instruction = AS_OF - timedelta(days=entered_days_ago)
    return record


def test_backlog_counts_each_state_by_days_since_it_was_entered(sessions):
    dossiers = [in_state(n, "en_construction", 3) for n in range(1, 6)]  # 5 under 15 days
    dossiers += [in_state(n, "en_construction", 20) for n in range(6, 12)]  # 6 from 15 to 59
    # In instruction for 70 days, deposited 100 days ago: the age is the time in instruction.
    dossiers += [in_state(n, "en_instruction", 70, depot_days_ago=100) for n in range(12, 19)]
    dossiers += [in_state(n, "en_instruction", 14.9, depot_days_ago=90) for n in range(19, 24)]
    figures = figures_of(sessions, dossiers)
    grid = figures.backlog_by_service
    paris = grid.values.loc["Paris"]
    shown = paris.dropna().to_dict()
    assert shown == {
        "en_construction_moins_15_jours": 5,
        "en_construction_15_59_jours": 6,
        "en_instruction_moins_15_jours": 5,
        "en_instruction_60_jours_et_plus": 7,
        "total": 23,
    }
    # The two empty bands: zero is under 5 too.
    assert grid.hidden.loc["Paris", ["en_construction_60_jours_et_plus", "en_instruction_15_59_jours"]].all()
    assert paris["total"] == figures.by_service.values.at["Paris", "in_progress"]


def test_decisions_per_service_by_month_of_decision(sessions):
    def decided(first, state, at, service):
        return [dossier(n, state, at - timedelta(days=5), at, service=service) for n in range(first, first + 5)]

    dossiers, number = [], 1
    for at in (utc("2026-09-10T10:00"), utc("2026-10-05T10:00")):
        for state, service in (("accepte", "Paris"), ("refuse", "Paris"), ("sans_suite", "Lyon")):
            dossiers += decided(number, state, at, service)
            number += 5
    # Decided in November, the month not over on the 15th: not in the table of complete months.
    for state, service in (("accepte", "Paris"), ("refuse", "Paris"), ("sans_suite", "Lyon")):
        dossiers += decided(number, state, utc("2026-11-05T10:00"), service)
        number += 5
    dossiers += [dossier(n, "en_instruction", utc("2026-11-05T10:00")) for n in range(number, number + 9)]
    grid = figures_of(sessions, dossiers).decisions_by_service
    assert list(grid.values.columns) == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", TOTAL]
    for month in ("2026-09", "2026-10"):
        values = (grid.values.at["Paris", month], grid.values.at["Lyon", month], grid.values.at[TOTAL, month])
        assert values == (10, 5, 15)
    assert (grid.values.at["Paris", TOTAL], grid.values.at["Lyon", TOTAL], grid.values.at[TOTAL, TOTAL]) == (20, 10, 30)
    assert grid.hidden.loc[["Paris", "Lyon"], ["2026-05", "2026-06", "2026-07", "2026-08"]].all(axis=None)


def test_a_dossier_of_a_closed_service_or_of_none_counts_for_the_fallback_groupe(sessions):
    dossiers = [dossier(n, "en_construction", AS_OF - timedelta(days=2), service=CLOSED) for n in range(1, 4)]
    dossiers += [dossier(n, "en_construction", AS_OF - timedelta(days=2), service=None) for n in range(4, 7)]
    figures = figures_of(sessions, dossiers)
    assert list(figures.by_service.values.index) == [FALLBACK]
    assert figures.by_service.values.at[FALLBACK, "in_progress"] == 6
    assert figures.backlog_by_service.values.at[FALLBACK, "en_construction_moins_15_jours"] == 6


def hidden_per_relation(grid) -> list[int]:
    hidden = grid.hidden
    return hidden.sum(axis=1).astype(int).tolist() + hidden.sum(axis=0).astype(int).tolist()


@pytest.fixture
def many(sessions):
    return figures_of(sessions, synthetic(600))


def test_no_new_cell_is_under_five_or_recoverable_by_subtraction(many):
    for grid in (many.decisions_by_service, many.backlog_by_service):
        shown = grid.values.stack().dropna()
        assert (shown >= 5).all(), grid.key
        assert grid.hidden.any(axis=None) and not grid.hidden.all(axis=None)
        assert 1 not in hidden_per_relation(grid), grid.key


def test_the_new_tables_agree_with_the_totals_published_elsewhere(many):
    backlog, by_service = many.backlog_by_service, many.by_service
    rows = by_service.values.index
    assert list(backlog.values.index) == [*rows, TOTAL]
    # The backlog's total column is the service table's « en cours »: same value, hidden alike.
    assert (backlog.hidden.loc[rows, TOTAL] == by_service.hidden["in_progress"]).all()
    shown = ~by_service.hidden["in_progress"]
    assert (backlog.values.loc[rows[shown], TOTAL] == by_service.values.loc[shown, "in_progress"]).all()
    assert backlog.values.at[TOTAL, TOTAL] == many.totals.values.iloc[0]["in_progress"]
    # A month's national decisions are shown only when accepted, refused and closed all are.
    decisions, by_month = many.decisions_by_service, many.by_month
    for month in decisions.values.columns.drop(TOTAL):
        parts = by_month.hidden.loc[month, ["accepted", "refused", "closed"]]
        assert decisions.hidden.at[TOTAL, month] == bool(parts.any())
        if not parts.any():
            assert (
                decisions.values.at[TOTAL, month] == by_month.values.loc[month, ["accepted", "refused", "closed"]].sum()
            )


def test_backlog_columns_are_the_six_state_and_age_bands(many):
    assert tuple(many.backlog_by_service.values.columns) == (*BACKLOG_COLUMNS, TOTAL)
