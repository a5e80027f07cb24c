"""Figures checked against hand-computed values on a small fixture (Europe/Paris months)."""

from __future__ import annotations

import pandas as pd
import pytest

from stats.figures import (
    COUNTS,
    build_figures,
    group_keys,
    prepare,
    raw_breakdown,
    raw_by_month,
    raw_totals,
)
from stats.load import load_dossiers
from tests.stats_fixtures import insert, small_fixture, synthetic, utc

AS_OF = utc("2026-04-20T12:00")


@pytest.fixture
def prepared(sessions):
    insert(sessions, small_fixture())
    with sessions() as session:
        return prepare(load_dossiers(session))


def test_deleted_and_trashed_dossiers_are_left_out(prepared):
    assert sorted(prepared["number"]) == [1, 2, 3, 4, 7, 8]


def test_months_are_counted_in_paris_time(prepared):
    by_month = raw_by_month(prepared, pd.Period("2026-04", freq="M"))
    # Dossier 1: deposited 28 Feb 23:30 UTC (March in Paris), accepted 31 Mar 22:30 UTC (April in Paris).
    assert list(by_month.index) == ["2026-03", "2026-04"]
    assert by_month.loc["2026-03", list(COUNTS)].tolist() == [5, 0, 1, 1, 1]
    assert by_month.loc["2026-04", list(COUNTS)].tolist() == [1, 2, 0, 0, 1]


def test_decision_delays_by_decision_month_in_whole_days(prepared):
    by_month = raw_by_month(prepared, pd.Period("2026-04", freq="M"))
    # March: dossier 2 refused after exactly 10 days; dossier 4 « classé sans suite » is no answer, not counted.
    # Half (and 9 in 10) of one 10-day delay are under 11 days, not under 10.
    assert by_month.loc["2026-03", ["decision_days_half", "decision_days_nine_in_ten", "decision_base"]].tolist() == [
        11,
        11,
        1,
    ]
    # April: 16 days (dossier 8) and 30 d 23 h (dossier 1): half under 17 days, 9 in 10 under 31.
    assert by_month.loc["2026-04", ["decision_days_half", "decision_days_nine_in_ten"]].tolist() == [17, 31]
    assert not any(column.startswith("completion") for column in by_month.columns)


def test_breakdown_counts_current_states_and_unknown_groups(prepared):
    table = raw_breakdown(prepared, group_keys(prepared, "departement"))
    assert table.loc["75", list(COUNTS)].tolist() == [4, 2, 1, 0, 1]
    assert table.loc["69", list(COUNTS)].tolist() == [1, 0, 0, 1, 0]
    # Dossier 7 has no département: kept, so the column adds up to the national total.
    assert table.loc["", list(COUNTS)].tolist() == [1, 0, 0, 0, 1]
    totals = raw_totals(prepared)
    assert totals.loc["total", list(COUNTS)].tolist() == [6, 2, 1, 1, 2]
    assert table[list(COUNTS)].sum().tolist() == totals.loc["total", list(COUNTS)].tolist()


def test_dossiers_without_decision_have_no_decision_month(prepared):
    pending = prepared[prepared["number"].isin([3, 7])]
    assert pending["decision_month"].isna().all()
    assert pending["decision_days"].isna().all()


def test_small_fixture_is_entirely_suppressed(prepared, sessions):
    with sessions() as session:
        figures = build_figures(load_dossiers(session), AS_OF)
    # Six dossiers in all can be shown; every status has fewer than five.
    assert figures.totals.values.at["total", "deposited"] == 6
    assert figures.totals.hidden.loc["total", ["accepted", "refused", "closed", "in_progress"]].all()
    # April has 1 deposit, so March (5) is hidden too, or 6 - 1 would give it away.
    assert figures.by_month.values["deposited"].isna().all()
    # Rates and delays built on fewer than 5 dossiers are not shown either.
    assert figures.totals.values[["acceptance_rate", "decision_days_half"]].isna().all(axis=None)


def relation_hidden_counts(table, totals, row_relations: bool) -> list[int]:
    """Number of hidden count cells in each additive relation of a published table."""
    counts = []
    margin = totals.hidden.iloc[0]
    for measure in COUNTS:
        counts.append(int(table.hidden[measure].sum()) + int(margin[measure]))
    if row_relations:
        counts += table.hidden[list(COUNTS)].sum(axis=1).astype(int).tolist()
    return counts


def test_no_suppressed_cell_can_be_recovered_by_subtraction(sessions):
    insert(sessions, synthetic(400))
    with sessions() as session:
        figures = build_figures(load_dossiers(session), utc("2026-11-15T12:00"))
    checked = [
        (figures.by_departement, True),
        (figures.by_service, True),
        (figures.by_contract_type, True),
        (figures.by_month, False),
    ]
    for table, row_relations in checked:
        assert 1 not in relation_hidden_counts(table, figures.totals, row_relations), table.key
    # Corse-du-Sud has about 1 % of the dossiers: its small cells are hidden, never shown below 5.
    values = figures.by_departement.values[list(COUNTS)]
    assert ((values >= 5) | values.isna()).all(axis=None)
    assert figures.by_departement.hidden.loc["2A", "accepted"]


def test_acceptance_rate_is_hidden_with_its_components(sessions):
    insert(sessions, synthetic(400))
    with sessions() as session:
        figures = build_figures(load_dossiers(session), utc("2026-11-15T12:00"))
    for table in figures.tables().values():
        either = table.hidden["accepted"] | table.hidden["refused"]
        assert table.hidden.loc[either, "acceptance_rate"].all()
    row = figures.totals.values.iloc[0]
    assert row["acceptance_rate"] == pytest.approx(round(100 * row["accepted"] / (row["accepted"] + row["refused"]), 1))
