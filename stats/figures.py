"""The published figures, as pure functions over the DataFrame of `stats.load`.

Definitions (the page says the same in French):
- a dossier counts from its deposit (`date_depot`), by the Paris month;
- a decision is a dossier in a final state (accepté, refusé, classé sans
  suite), counted in the Paris month of `date_traitement`;
- in progress: en construction or en instruction today;
- acceptance rate: accepted / (accepted + refused); closed without
  follow-up are mostly withdrawals, not an answer on the merits;
- département: an in-scope département of the routing table; a missing,
  unknown or out-of-scope one (987, 988…) counts under « Autre ou non
  renseigné », so no out-of-scope territory is shown as a figure;
- service: who handles the dossier, the fallback groupe when it has no
  service or its service is not open yet (`RoutingTable.in_charge`);
- backlog: dossiers in progress today, by state and by days since they
  entered it (the last passage, as DS dates it);
- decision delay, the one definition of the page: deposit → decision
  (accepted or refused; a « classé sans suite » is no answer), in whole
  days as the expected delay reads them: « la moitié en moins de N jours »
  is the least whole N with half of the delays under N days (likewise nine
  in ten), `mappings.expected_delay.within_days` over the decisions.
- a figure derived from counts (rate, delays) is hidden with any of them.

No "deposit → complete" delay: DS keeps no history of a dossier's content,
only its current values and the date of the last edit, so the moment a
dossier became complete is not in DS's data (see README, "Statistics").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import SupportsFloat, SupportsInt, cast

import numpy as np
import pandas as pd

from core.clock import PARIS
from mappings.expected_delay import HALF, NINE_IN_TEN, within_days
from stats.suppression import THRESHOLD, suppress

OUTCOME_BY_STATE = {
    "accepte": "accepted",
    "refuse": "refused",
    "sans_suite": "closed",
    "en_construction": "in_progress",
    "en_instruction": "in_progress",
}
DECISIONS = ("accepted", "refused", "closed")
ANSWERS = ("accepted", "refused")  # the decisions the rate and the delay count
COUNTS = ("deposited", *DECISIONS, "in_progress")
RATE = "acceptance_rate"
DELAY_SHARES = {"decision_days_half": HALF, "decision_days_nine_in_ten": NINE_IN_TEN}
DELAYS = tuple(DELAY_SHARES)
MEASURES = (*COUNTS, RATE, *DELAYS)
# The counts each derived figure is computed from: hidden with any of them (docs/stats-disclosure.md).
DERIVED_FROM = {RATE: ANSWERS, **{delay: ANSWERS for delay in DELAYS}}
DELAY_BASE = "decision_base"  # accepted + refused with their date: needed to suppress the delays, never published
# Which cell of a relation readers miss least, to hide it first when a complement is needed (lower: first).
MEASURE_COST = {"closed": 0, "in_progress": 1, "refused": 2, "accepted": 3, "deposited": 4}
NOT_GIVEN = ""  # key of the dossiers whose département / service / type is unknown
TOTAL = "total"
MARGIN = object()  # key of the national totals closing a table's columns
TREND_MONTHS = 12
DECISION_MONTHS = 6  # complete months of the decisions-per-service table
DAY = pd.Timedelta(days=1)
# A cell of tables suppressed together, (table key, row, measure), MARGIN as key and row of the national totals;
# a cell of a grid, (row, column).
TableCell = tuple[Hashable, Hashable, str]
GridCell = tuple[Hashable, Hashable]
BACKLOG_STATES = ("en_construction", "en_instruction")
# Days in the current state: [lower, upper) bounds, and the column id of each band.
AGE_BANDS = ((0, 15, "moins_15_jours"), (15, 60, "15_59_jours"), (60, None, "60_jours_et_plus"))
BACKLOG_COLUMNS = tuple(f"{state}_{band}" for state in BACKLOG_STATES for _, _, band in AGE_BANDS)


@dataclass(frozen=True)
class Table:
    """A published table: `values` has NaN where `hidden` is True."""

    key: str
    values: pd.DataFrame
    hidden: pd.DataFrame


@dataclass(frozen=True)
class Grid:
    """Counts of groups (rows) × columns, closed by a TOTAL column and a TOTAL row;
    `values` has NaN where `hidden` is True."""

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
    decisions_by_service: Grid
    backlog_by_service: Grid

    def tables(self) -> dict[str, Table]:
        return {
            "totals": self.totals,
            "by_month": self.by_month,
            "by_departement": self.by_departement,
            "by_service": self.by_service,
            "by_contract_type": self.by_contract_type,
        }

    def grids(self) -> dict[str, Grid]:
        return {"decisions_by_service": self.decisions_by_service, "backlog_by_service": self.backlog_by_service}


def paris_month(moments: pd.Series) -> pd.Series:
    return moments.dt.tz_convert(PARIS).dt.tz_localize(None).dt.to_period("M")


def month_of(moment: datetime) -> pd.Period:
    return pd.Period(moment.astimezone(PARIS).replace(tzinfo=None), freq="M")


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Outcome, Paris months and decision delay of each dossier; unknown states are left out."""
    outcome = frame["state"].map(OUTCOME_BY_STATE).astype("category")
    prepared = frame.assign(outcome=outcome)
    prepared = prepared[prepared["outcome"].notna()]
    decided = prepared["outcome"].isin(DECISIONS) & prepared["date_traitement"].notna()
    decision_at = prepared["date_traitement"].where(decided)
    answered = decision_at.where(prepared["outcome"].isin(ANSWERS))
    return prepared.assign(
        deposit_month=paris_month(prepared["date_depot"]),
        decision_month=paris_month(decision_at),
        decision_days=pd.to_timedelta(answered - prepared["date_depot"]) / DAY,
    )


def in_scope_departements(prepared: pd.DataFrame, in_scope: Callable[[str], bool]) -> pd.DataFrame:
    """The `departement` column with every code that is not an in-scope département of the routing table
    made unknown: those dossiers count under « Autre ou non renseigné »."""
    codes = prepared["departement"].astype("category")
    kept = [code for code in codes.cat.categories if in_scope(code)]
    return prepared.assign(departement=codes.cat.set_categories(kept))


def group_keys(prepared: pd.DataFrame, column: str) -> pd.Series:
    keys = prepared[column]
    if NOT_GIVEN not in keys.cat.categories:
        keys = keys.cat.add_categories([NOT_GIVEN])
    return keys.fillna(NOT_GIVEN)


def outcome_counts(keys: pd.Series, outcomes: pd.Series, measures=(*DECISIONS, "in_progress")) -> pd.DataFrame:
    counts = outcomes.groupby(keys, observed=True).value_counts().unstack(fill_value=0)
    return counts.reindex(columns=list(measures), fill_value=0)


def decided_within(days: pd.Series, share: float) -> int | None:
    """The least whole number of days N with `share` of these decisions taken in fewer than N days: the
    expected delay's reading (`within_days`) of a distribution where every dossier is decided."""
    times = np.sort(days.to_numpy(dtype=float))
    survival = 1 - np.arange(1, len(times) + 1) / len(times)
    return within_days(times, survival, share)


def delay_stats(days: pd.Series, keys: pd.Series) -> pd.DataFrame:
    present = days.notna()
    grouped = days[present].groupby(keys[present], observed=True)
    figures = {
        delay: grouped.agg(decided_within, share=share).astype("float64") for delay, share in DELAY_SHARES.items()
    }
    return pd.DataFrame({**figures, DELAY_BASE: grouped.size()})


def raw_breakdown(prepared: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Counts by current state and delays per group, before suppression."""
    counts = outcome_counts(keys, prepared["outcome"])
    counts.insert(0, "deposited", counts.sum(axis=1))
    table = counts.join(delay_stats(prepared["decision_days"], keys), how="left")
    table.index = table.index.astype(str)
    return table.fillna({DELAY_BASE: 0})


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
            delay_stats(prepared["decision_days"], prepared["decision_month"]),
        ],
        axis=1,
    ).reindex(months)
    table = table.fillna({m: 0 for m in (*COUNTS, DELAY_BASE)})
    table.index = table.index.astype(str)
    return table


@dataclass(frozen=True)
class Link:
    """A row of one table that is exactly the sum of rows of another (a service and the départements all of
    whose dossiers it handles): a reader can subtract across the two tables, so they are suppressed together."""

    total: tuple[str, str]  # (table key, row)
    parts: tuple[tuple[str, str], ...]


def publish(
    raw: pd.DataFrame,
    key: str,
    margin: Table | None,
    row_relations: bool,
    row_cost: Callable[[str], int] = lambda row: 1,
) -> Table:
    """Suppress the cells of `raw`, its additive relations closed by the published `margin` totals.
    `row_cost`: how much readers miss a row's cells (0: least), for the choice of complements."""
    return publish_together({key: raw}, margin, row_relations, {key: row_cost})[key]


def publish_together(
    raws: dict[str, pd.DataFrame],
    margin: Table | None,
    row_relations: bool,
    row_costs: dict[str, Callable[[str], int]],
    links: Sequence[Link] = (),
) -> dict[str, Table]:
    """Suppress several tables closed by the same `margin` totals at once, with the `links` between them."""
    counts: dict[TableCell, int] = {
        (key, row, m): _count(raw, row, m) for key, raw in raws.items() for row in raw.index for m in COUNTS
    }
    relations: list[list[TableCell]] = []
    fixed_hidden: set[TableCell] = set()
    margin_cells = frozenset((MARGIN, MARGIN, m) for m in COUNTS)
    if margin is not None:
        margin_row = margin.values.index[0]
        for m in COUNTS:
            if margin.hidden.at[margin_row, m]:
                fixed_hidden.add((MARGIN, MARGIN, m))
            else:
                counts[(MARGIN, MARGIN, m)] = _count(margin.values, margin_row, m)
            relations += [[(key, row, m) for row in raw.index] + [(MARGIN, MARGIN, m)] for key, raw in raws.items()]
    if row_relations:
        relations += [[(key, row, m) for m in COUNTS] for key, raw in raws.items() for row in raw.index]
    for link in links:
        relations += [[(*link.total, m), *((*part, m) for part in link.parts)] for m in COUNTS]

    def cost(cell) -> int:
        key, row, measure = cell
        return 10 * (2 if key is MARGIN else row_costs[key](row)) + MEASURE_COST[measure]

    hidden_cells = suppress(counts, relations, fixed_hidden=fixed_hidden, fixed=margin_cells, cost=cost)
    tables = {}
    for key, raw in raws.items():
        hidden = pd.DataFrame(False, index=raw.index, columns=list(MEASURES))
        for table, row, m in hidden_cells - margin_cells:
            if table == key:
                hidden.at[row, m] = True
        tables[key] = derive(raw, key, hidden)
    return tables


def derive(raw: pd.DataFrame, key: str, hidden: pd.DataFrame) -> Table:
    """The rate and the delays of each row, hidden with any count they are computed from."""
    values = raw.reindex(columns=list(MEASURES)).astype("float64")
    values[RATE] = acceptance_rate(raw)
    too_few = raw[DELAY_BASE] < THRESHOLD
    for derived, sources in DERIVED_FROM.items():
        hidden[derived] = hidden[list(sources)].any(axis=1) | values[derived].isna()
        if derived in DELAYS:
            hidden[derived] |= too_few
    values = values.mask(hidden)
    values[RATE] = values[RATE].round(1)
    return Table(key=key, values=values, hidden=hidden)


def exact_links(prepared: pd.DataFrame, total_column: str, part_column: str) -> list[Link]:
    """Each group of `total_column` whose dossiers are exactly those of some groups of `part_column`."""
    totals, parts = group_keys(prepared, total_column).astype(str), group_keys(prepared, part_column).astype(str)
    pairs = pd.crosstab(parts, totals)
    single = (pairs > 0).sum(axis=1) == 1  # a part whose dossiers all go to one total
    links = []
    for total in pairs.columns:
        members = pairs.index[pairs[total] > 0]
        if len(members) and single[members].all():
            links.append(Link((total_column, total), tuple((part_column, member) for member in members)))
    return links


def acceptance_rate(raw: pd.DataFrame) -> pd.Series:
    answered = raw["accepted"] + raw["refused"]
    return (100 * raw["accepted"] / answered.replace(0, np.nan)).astype("float64")


def last_months(table: Table, as_of_month: pd.Period, count: int = TREND_MONTHS) -> Table:
    wanted = [str(month) for month in pd.period_range(end=as_of_month, periods=count, freq="M")]
    present = [month for month in wanted if month in table.values.index]
    return Table(key=table.key, values=table.values.loc[present], hidden=table.hidden.loc[present])


def responsible_service(prepared: pd.DataFrame, in_charge: Callable[[str | None], str]) -> pd.Series:
    """The `service` column as who handles the dossier, mapped once per category (fast on 1M rows)."""
    service = prepared["service"].astype("category")
    names = [in_charge(name) for name in service.cat.categories]
    nobody = in_charge(None)
    mapped = np.array([*names, nobody], dtype=object)[np.where(service.cat.codes < 0, len(names), service.cat.codes)]
    return pd.Series(pd.Categorical(mapped), index=prepared.index)


def publish_grid(raw: pd.DataFrame, key: str, fixed: dict[GridCell, tuple[float, bool]]) -> Grid:
    """Suppress a grid of counts closed by its totals. `fixed` are margin cells already
    published elsewhere, (value, hidden): kept as they are there, and closing the relations."""
    rows, columns = list(raw.index), list(raw.columns)
    table = raw.astype("int64").copy()
    table.columns.name = None
    table.index.name = key
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    counts: dict[GridCell, int] = {(r, c): _count(table, r, c) for r in [*rows, TOTAL] for c in [*columns, TOTAL]}
    relations: list[list[GridCell]] = [[(r, c) for c in [*columns, TOTAL]] for r in [*rows, TOTAL]]
    relations += [[(r, c) for r in [*rows, TOTAL]] for c in [*columns, TOTAL]]
    fixed_hidden = {cell for cell, (_, hidden) in fixed.items() if hidden}

    def cost(cell) -> int:
        # A total (the « Ensemble » row, a service's total) last; of the others, the oldest month first.
        r, c = cell
        return 100 * (r == TOTAL or c == TOTAL) + (columns.index(c) if c != TOTAL else 0)

    hidden_cells = suppress(counts, relations, fixed_hidden=fixed_hidden, fixed=frozenset(fixed), cost=cost)
    hidden = pd.DataFrame(False, index=table.index, columns=table.columns)
    for r, c in hidden_cells:
        hidden.at[r, c] = True
    return Grid(key=key, values=table.astype("float64").mask(hidden), hidden=hidden)


def raw_backlog(prepared: pd.DataFrame, keys: pd.Series, as_of: datetime) -> pd.DataFrame:
    """Dossiers in progress per group, by state and by days since they entered it."""
    pending = prepared["state"].isin(BACKLOG_STATES)
    state = prepared.loc[pending, "state"].astype(str)
    entered = prepared.loc[pending, "date_passage_en_construction"].where(
        state == "en_construction", prepared.loc[pending, "date_passage_en_instruction"]
    )
    entered = entered.fillna(prepared.loc[pending, "date_depot"])
    days = (pd.to_timedelta(pd.Timestamp(as_of) - entered) / DAY).clip(lower=0)
    edges = [lower for lower, _, _ in AGE_BANDS] + [np.inf]
    band = pd.cut(days, edges, right=False, labels=[name for _, _, name in AGE_BANDS]).astype(str)
    return _counts(keys[pending], state + "_" + band, list(BACKLOG_COLUMNS))


def raw_decisions_by_month(prepared: pd.DataFrame, keys: pd.Series, months: list[str]) -> pd.DataFrame:
    decided = prepared["decision_month"].notna()
    return _counts(keys[decided], prepared.loc[decided, "decision_month"].astype(str), months)


def _counts(keys: pd.Series, columns: pd.Series, wanted: list[str]) -> pd.DataFrame:
    if keys.empty:
        return pd.DataFrame(0, index=pd.Index([], dtype=object), columns=wanted)
    return pd.crosstab(keys.astype(str), columns).reindex(columns=wanted, fill_value=0)


def backlog_grid(prepared: pd.DataFrame, keys: pd.Series, as_of: datetime, by_service: Table, totals: Table) -> Grid:
    raw = raw_backlog(prepared, keys, as_of).reindex(by_service.values.index, fill_value=0)
    # Its totals are the « en cours » of the service table and of the national figures.
    fixed: dict[GridCell, tuple[float, bool]] = {
        (row, TOTAL): (_value(by_service.values, row, "in_progress"), bool(by_service.hidden.at[row, "in_progress"]))
        for row in raw.index
    }
    fixed[(TOTAL, TOTAL)] = (float(totals.values.iloc[0]["in_progress"]), bool(totals.hidden.iloc[0]["in_progress"]))
    return publish_grid(raw, "service", fixed)


def decisions_grid(
    prepared: pd.DataFrame, keys: pd.Series, as_of_month: pd.Period, by_service: Table, by_month: Table
) -> Grid:
    # Complete months: the current one has only begun, and its few decisions would mask the national totals.
    months = [str(m) for m in pd.period_range(end=as_of_month - 1, periods=DECISION_MONTHS, freq="M")]
    raw = raw_decisions_by_month(prepared, keys, months).reindex(by_service.values.index, fill_value=0)
    # A month's national total is the sum of its published accepted, refused and closed: known
    # when all three are shown, never to be shown when one of them is hidden.
    decisions = list(DECISIONS)
    fixed: dict[GridCell, tuple[float, bool]] = {}
    for month in months:
        parts = by_month.hidden.loc[month][decisions] if month in by_month.hidden.index else None
        shown = parts is not None and not parts.any()
        fixed[(TOTAL, month)] = (float(by_month.values.loc[month][decisions].sum()) if shown else np.nan, not shown)
    if all(not hidden for _, hidden in fixed.values()):
        fixed[(TOTAL, TOTAL)] = (sum(value for value, _ in fixed.values()), False)
    return publish_grid(raw, "service", fixed)


def _count(frame: pd.DataFrame, row: Hashable, column: Hashable) -> int:
    """A cell of a frame of counts (pandas-stubs types a cell as any scalar)."""
    return int(cast(SupportsInt, frame.at[row, column]))


def _value(frame: pd.DataFrame, row: Hashable, column: Hashable) -> float:
    """A cell of a frame of figures (pandas-stubs types a cell as any scalar)."""
    return float(cast(SupportsFloat, frame.at[row, column]))


def _in_scope() -> Callable[[str], bool]:
    from mappings.routing import load_routing_table

    departements = load_routing_table().departements
    return lambda code: code in departements and departements[code].in_scope


def build_figures(
    frame: pd.DataFrame,
    as_of: datetime,
    in_charge: Callable[[str | None], str] | None = None,
    in_scope: Callable[[str], bool] | None = None,
) -> Figures:
    """Every published table, suppression applied, from the `stats.load` frame.

    `in_charge` names who handles a dossier of a service, `in_scope` tells a département of the procedure
    (default: the routing table's)."""
    if in_charge is None:
        from mappings.routing import load_routing_table

        in_charge = load_routing_table().in_charge
    prepared = prepare(frame)
    prepared["service"] = responsible_service(prepared, in_charge)
    prepared = in_scope_departements(prepared, in_scope or _in_scope())
    as_of_month = month_of(as_of)
    totals = publish(raw_totals(prepared), "total", margin=None, row_relations=True)
    trend_months = {str(m) for m in pd.period_range(end=as_of_month, periods=TREND_MONTHS, freq="M")}
    # A month the 12-month table does not show is missed least.
    by_month = publish(
        raw_by_month(prepared, as_of_month),
        "month",
        totals,
        row_relations=False,
        row_cost=lambda month: int(month in trend_months),
    )

    def raw(column: str) -> pd.DataFrame:
        return raw_breakdown(prepared, group_keys(prepared, column))

    def named(key: str) -> int:
        return int(key != NOT_GIVEN)

    # A service handling exactly the dossiers of some départements repeats their sum: suppressed together.
    linked = publish_together(
        {"service": raw("service"), "departement": raw("departement")},
        totals,
        True,
        {"service": named, "departement": named},
        exact_links(prepared, "service", "departement"),
    )
    by_service = linked["service"]
    service_keys = group_keys(prepared, "service")
    return Figures(
        as_of=as_of,
        totals=totals,
        by_month=by_month,
        trend=last_months(by_month, as_of_month),
        by_departement=linked["departement"],
        by_service=by_service,
        by_contract_type=publish(raw("contract_type"), "contract_type", totals, True, named),
        decisions_by_service=decisions_grid(prepared, service_keys, as_of_month, by_service, by_month),
        backlog_by_service=backlog_grid(prepared, service_keys, as_of, by_service, totals),
    )
