"""The published figures, as pure functions over the DataFrame of `stats.load`.

Definitions (the page says the same in French):
- a dossier counts from its deposit (`date_depot`), by the Paris month;
- a decision is a dossier in a final state (accepté, refusé, classé sans
  suite), counted in the Paris month of `date_traitement`;
- in progress: en construction or en instruction today;
- acceptance rate: accepted / (accepted + refused); closed without
  follow-up are mostly withdrawals, not an answer on the merits;
- processing time: deposit → decision, in days; median and 90th percentile.

No "deposit → complete" delay: DS keeps no history of a dossier's content,
only its current values and the date of the last edit, so the moment a
dossier became complete is not in DS's data (see README, "Statistics").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from core.clock import PARIS

import numpy as np
import pandas as pd

from stats.suppression import THRESHOLD, suppress

OUTCOME_BY_STATE = {
    "accepte": "accepted",
    "refuse": "refused",
    "sans_suite": "closed",
    "en_construction": "in_progress",
    "en_instruction": "in_progress",
}
DECISIONS = ("accepted", "refused", "closed")
COUNTS = ("deposited", *DECISIONS, "in_progress")
RATE = "acceptance_rate"
DELAYS = ("decision_days_median", "decision_days_p90")
MEASURES = (*COUNTS, RATE, *DELAYS)
# Base counts of the delays: needed to suppress them, never published.
BASES = {"decision_days": "decision_base"}
NOT_GIVEN = ""  # key of the dossiers whose département / service / type is unknown
TOTAL = "total"
MARGIN = object()  # key of the national totals closing a table's columns
TREND_MONTHS = 12
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Table:
    """A published table: `values` has NaN where `hidden` is True."""

    key: str
    values: pd.DataFrame
    hidden: pd.DataFrame


@dataclass(frozen=True)
class Figures:
    as_of: datetime
    totals: Table
    by_month: Table
    trend: Table
    by_departement: Table
    by_service: Table
    by_contract_type: Table

    def tables(self) -> dict[str, Table]:
        return {
            "totals": self.totals,
            "by_month": self.by_month,
            "by_departement": self.by_departement,
            "by_service": self.by_service,
            "by_contract_type": self.by_contract_type,
        }


def paris_month(moments: pd.Series) -> pd.Series:
    return moments.dt.tz_convert(PARIS).dt.tz_localize(None).dt.to_period("M")


def month_of(moment: datetime) -> pd.Period:
    return pd.Period(moment.astimezone(PARIS).replace(tzinfo=None), freq="M")


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Outcome, Paris months and delays of each dossier; unknown states are left out."""
    outcome = frame["state"].map(OUTCOME_BY_STATE).astype("category")
    prepared = frame.assign(outcome=outcome)
    prepared = prepared[prepared["outcome"].notna()]
    decided = prepared["outcome"].isin(DECISIONS) & prepared["date_traitement"].notna()
    decision_at = prepared["date_traitement"].where(decided)
    return prepared.assign(
        deposit_month=paris_month(prepared["date_depot"]),
        decision_month=paris_month(decision_at),
        decision_days=(decision_at - prepared["date_depot"]) / DAY,
    )


def group_keys(prepared: pd.DataFrame, column: str) -> pd.Series:
    keys = prepared[column]
    if NOT_GIVEN not in keys.cat.categories:
        keys = keys.cat.add_categories([NOT_GIVEN])
    return keys.fillna(NOT_GIVEN)


def outcome_counts(keys: pd.Series, outcomes: pd.Series, measures=(*DECISIONS, "in_progress")) -> pd.DataFrame:
    counts = outcomes.groupby(keys, observed=True).value_counts().unstack(fill_value=0)
    return counts.reindex(columns=list(measures), fill_value=0)


def delay_stats(days: pd.Series, keys: pd.Series, prefix: str) -> pd.DataFrame:
    present = days.notna()
    grouped = days[present].groupby(keys[present], observed=True)
    return pd.DataFrame(
        {
            f"{prefix}_median": grouped.median(),
            f"{prefix}_p90": grouped.quantile(0.9),
            BASES[prefix]: grouped.size(),
        }
    )


def raw_breakdown(prepared: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Counts by current state and delays per group, before suppression."""
    counts = outcome_counts(keys, prepared["outcome"])
    counts.insert(0, "deposited", counts.sum(axis=1))
    table = counts.join(delay_stats(prepared["decision_days"], keys, "decision_days"), how="left")
    table.index = table.index.astype(str)
    return table.fillna({base: 0 for base in BASES.values()})


def raw_totals(prepared: pd.DataFrame) -> pd.DataFrame:
    keys = pd.Series(TOTAL, index=prepared.index, dtype="category")
    return raw_breakdown(prepared, keys).reindex([TOTAL]).fillna({m: 0 for m in COUNTS})


def month_range(prepared: pd.DataFrame, as_of_month: pd.Period) -> pd.PeriodIndex:
    if prepared.empty:
        return pd.period_range(as_of_month, as_of_month, freq="M")
    first = min(prepared["deposit_month"].min(), as_of_month)
    return pd.period_range(first, as_of_month, freq="M")


def raw_by_month(prepared: pd.DataFrame, as_of_month: pd.Period) -> pd.DataFrame:
    """Deposits by deposit month, decisions and delays by decision month."""
    months = month_range(prepared, as_of_month)
    deposited = prepared.groupby("deposit_month").size().rename("deposited")
    decided = prepared[prepared["decision_month"].notna()]
    decisions = outcome_counts(decided["decision_month"], decided["outcome"], DECISIONS)
    pending = prepared[prepared["outcome"] == "in_progress"]
    in_progress = pending.groupby("deposit_month").size().rename("in_progress")
    table = pd.concat(
        [
            deposited,
            decisions,
            in_progress,
            delay_stats(prepared["decision_days"], prepared["decision_month"], "decision_days"),
        ],
        axis=1,
    ).reindex(months)
    table = table.fillna({m: 0 for m in (*COUNTS, *BASES.values())})
    table.index = table.index.astype(str)
    return table


def publish(raw: pd.DataFrame, key: str, margin: Table | None, row_relations: bool) -> Table:
    """Suppress the cells of `raw`, its additive relations closed by the published `margin` totals."""
    counts = {(row, m): int(raw.at[row, m]) for row in raw.index for m in COUNTS}
    relations, fixed_hidden = [], set()
    if margin is not None:
        margin_row = margin.values.index[0]
        for m in COUNTS:
            relations.append([(row, m) for row in raw.index] + [(MARGIN, m)])
            if margin.hidden.at[margin_row, m]:
                fixed_hidden.add((MARGIN, m))
            else:
                counts[(MARGIN, m)] = int(margin.values.at[margin_row, m])
    if row_relations:
        relations += [[(row, m) for m in COUNTS] for row in raw.index]
    margin_cells = frozenset((MARGIN, m) for m in COUNTS)
    hidden_cells = suppress(counts, relations, fixed_hidden=fixed_hidden, fixed=margin_cells)
    hidden = pd.DataFrame(False, index=raw.index, columns=list(MEASURES))
    for row, m in hidden_cells - margin_cells:
        hidden.at[row, m] = True
    values = raw.reindex(columns=list(MEASURES)).astype("float64")
    values[RATE] = acceptance_rate(raw)
    hidden[RATE] = hidden["accepted"] | hidden["refused"] | values[RATE].isna()
    for prefix, base in BASES.items():
        too_few = raw[base] < THRESHOLD
        for stat in ("median", "p90"):
            hidden[f"{prefix}_{stat}"] = too_few | values[f"{prefix}_{stat}"].isna()
    values = values.mask(hidden)
    values[RATE] = values[RATE].round(1)
    values[list(DELAYS)] = values[list(DELAYS)].round(1)
    return Table(key=key, values=values, hidden=hidden)


def acceptance_rate(raw: pd.DataFrame) -> pd.Series:
    answered = raw["accepted"] + raw["refused"]
    return (100 * raw["accepted"] / answered.replace(0, np.nan)).astype("float64")


def last_months(table: Table, as_of_month: pd.Period, count: int = TREND_MONTHS) -> Table:
    wanted = [str(month) for month in pd.period_range(end=as_of_month, periods=count, freq="M")]
    present = [month for month in wanted if month in table.values.index]
    return Table(key=table.key, values=table.values.loc[present], hidden=table.hidden.loc[present])


def build_figures(frame: pd.DataFrame, as_of: datetime) -> Figures:
    """Every published table, suppression applied, from the `stats.load` frame."""
    prepared = prepare(frame)
    as_of_month = month_of(as_of)
    totals = publish(raw_totals(prepared), "total", margin=None, row_relations=True)
    by_month = publish(raw_by_month(prepared, as_of_month), "month", totals, row_relations=False)

    def breakdown(column: str) -> Table:
        return publish(raw_breakdown(prepared, group_keys(prepared, column)), column, totals, row_relations=True)

    return Figures(
        as_of=as_of,
        totals=totals,
        by_month=by_month,
        trend=last_months(by_month, as_of_month),
        by_departement=breakdown("departement"),
        by_service=breakdown("service"),
        by_contract_type=breakdown("contract_type"),
    )
