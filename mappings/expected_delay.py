"""« Quand vais-je recevoir mon autorisation ? »: the expected decision delay, from the local history.

One estimate per service in charge, over a cohort: every dossier deposited in the window (rules.yaml
`expected_delay`), decided or not, deposit → decision; a dossier still waiting counts as « not decided after
this long » (censored at now), so a backlog lengthens the delay instead of vanishing from it. Kaplan–Meier
(lifelines). A share the estimate does not reach is told as such, never guessed. Why:
docs/apt-expected-delay.md. The e-mails, the agents' annotation and the stats page all read `expected_delays`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import pandas as pd

from core.clock import PARIS
from core.disclosure import SMALL_COUNT_THRESHOLD
from mappings.rules import default_rules

_SECTION = default_rules().section("expected_delay")
WINDOW_MONTHS: int = _SECTION["window_months"]
COUNTED_STATES = frozenset(_SECTION["decision_states"])
WAITING_STATES = frozenset({"en_construction", "en_instruction"})
DAY_SECONDS = 86400
HALF, NINE_IN_TEN = 0.5, 0.9
_EPSILON = 1e-9  # a product of KM factors lands on 0.5 give or take a rounding error


class DelayRecord(Protocol):
    # Read-only (properties): the records are frozen dataclasses.
    @property
    def service(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def deposited_at(self) -> datetime | None: ...
    @property
    def decided_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class ExpectedDelay:
    dossiers: int  # deposited in the window, decided or not
    waiting: int  # of them, still without a decision
    older_waiting: int  # deposited before the window and still without a decision
    half_within_days: int | None  # half are decided in fewer days than this; None when the estimate does not reach it
    nine_in_ten_within_days: int | None
    # How far the estimate reads: the longest time `min_dossiers` requests were still followed (decided or not
    # by then). A share not reached is told against it.
    longest_days: int
    waiting_share_at_longest: float  # the estimated share still without a decision after `longest_days`
    window_months: int = WINDOW_MONTHS
    min_dossiers: int = SMALL_COUNT_THRESHOLD

    @property
    def enough(self) -> bool:
        return self.dossiers >= self.min_dossiers


def window_start(now: datetime, window_months: int = WINDOW_MONTHS) -> datetime:
    """The earliest deposit the cohort counts (calendar months)."""
    return (pd.Timestamp(now) - pd.DateOffset(months=window_months)).to_pydatetime()


def within_days(times: np.ndarray, survival: np.ndarray, share: float) -> int | None:
    """The least whole number of days N such that the estimate has `share` of the requests decided in fewer
    than N days; None when it never gets there (too many still wait)."""
    reached = np.nonzero(survival <= 1 - share + _EPSILON)[0]
    return None if reached.size == 0 else math.floor(times[reached[0]]) + 1


def estimate(
    days: np.ndarray,
    decided: np.ndarray,
    waiting: int,
    older_waiting: int,
    window_months: int = WINDOW_MONTHS,
    min_dossiers: int = SMALL_COUNT_THRESHOLD,
) -> ExpectedDelay:
    """The estimate of one service: `days` from deposit to decision (or to now, or to the classement sans suite:
    `decided` false), one per dossier of the cohort; `waiting` of them still wait."""
    dossiers = len(days)
    if dossiers < min_dossiers:
        return ExpectedDelay(dossiers, waiting, older_waiting, None, None, 0, 1.0, window_months, min_dossiers)
    from lifelines import KaplanMeierFitter  # imported here: a second of start-up every other command is spared

    fitted = KaplanMeierFitter().fit(days, event_observed=decided)
    times = fitted.survival_function_.index.to_numpy()
    survival = fitted.survival_function_.iloc[:, 0].to_numpy()
    # A share not reached is told as far as `min_dossiers` requests were still followed: past that the estimate
    # rests on one or two dossiers (and would publish a single dossier's wait).
    horizon = np.nonzero(fitted.event_table["at_risk"].to_numpy() >= min_dossiers)[0][-1]
    return ExpectedDelay(
        dossiers,
        waiting,
        older_waiting,
        within_days(times, survival, HALF),
        within_days(times, survival, NINE_IN_TEN),
        math.floor(times[horizon]),
        float(survival[horizon]),
        window_months,
        min_dossiers,
    )


def expected_delays(
    cohort: pd.DataFrame, now: datetime, window_months: int = WINDOW_MONTHS, min_dossiers: int = SMALL_COUNT_THRESHOLD
) -> dict[str, ExpectedDelay]:
    """The expected delay per group. `cohort`: one row per live deposited dossier, columns `group` (who handles
    it), `state`, `date_depot`, `date_traitement` (aware datetimes). Rows outside the cohort (deposited earlier)
    only count when still waiting."""
    # One estimate per day: counted at the start of today (Paris), so a text written at 9:00 and at 9:15 is the
    # same and push does not rewrite every annotation at each run.
    now_ts = pd.Timestamp(now).tz_convert(PARIS).normalize().tz_convert("UTC")
    since = pd.Timestamp(window_start(now_ts.to_pydatetime(), window_months))
    frame = cohort.dropna(subset=["group", "date_depot"])
    waiting = frame["state"].isin(sorted(WAITING_STATES))
    older = frame["date_depot"] < since
    older_waiting = frame[older & waiting].groupby("group", observed=True).size()
    recent = frame[~older & (frame["date_depot"] <= pd.Timestamp(now))]
    decided = recent["state"].isin(sorted(COUNTED_STATES))
    still = recent["state"].isin(sorted(WAITING_STATES))
    # A dossier classé sans suite is followed until then, as one still waiting is until today (censored); one
    # deposited today has waited no time yet.
    # pandas-stubs 2.3 types `lower` as a number; a datetime column is clipped by a Timestamp all the same.
    deposited_or_today = recent["date_depot"].clip(lower=now_ts)  # type: ignore[call-overload]
    end = recent["date_traitement"].where(~still, deposited_or_today)
    recent = recent.assign(
        days=(end - recent["date_depot"]).dt.total_seconds() / DAY_SECONDS, decided=decided, waiting=still
    )
    # A decision dated before its deposit, or a decided dossier without its date, measures nothing.
    recent = recent[recent["days"].notna() & (recent["days"] >= 0)]
    delays: dict[str, ExpectedDelay] = {}
    for group, rows in recent.groupby("group", observed=True):
        delays[str(group)] = estimate(
            rows["days"].to_numpy(float),
            rows["decided"].to_numpy(bool),
            int(rows["waiting"].sum()),
            int(older_waiting.get(group, 0)),
            window_months,
            min_dossiers,
        )
    for older_group, count in older_waiting.items():
        if str(older_group) not in delays:
            delays[str(older_group)] = estimate(
                np.array([]), np.array([], bool), 0, int(count), window_months, min_dossiers
            )
    return delays


def per_service(
    records: Iterable[DelayRecord], now: datetime, in_charge: Callable[[str | None], str] | None = None
) -> dict[str, ExpectedDelay]:
    """The expected delay of each service in charge (`RoutingTable.in_charge`: a service not open yet has its
    dossiers handled by the fallback groupe) from plain records: what the e-mails and the annotation say."""
    in_charge = in_charge or _in_charge()
    rows = [(in_charge(r.service), r.state, r.deposited_at, r.decided_at) for r in records]
    cohort = pd.DataFrame(rows, columns=["group", "state", "date_depot", "date_traitement"])
    for column in ("date_depot", "date_traitement"):
        cohort[column] = pd.to_datetime(cohort[column], utc=True)
    return expected_delays(cohort, now)


def _in_charge() -> Callable[[str | None], str]:
    from mappings.routing import load_routing_table

    return load_routing_table().in_charge


def delay_of(
    delays: dict[str, ExpectedDelay], service: str | None, in_charge: Callable[[str | None], str] | None = None
) -> ExpectedDelay:
    """The estimate of the service that handles a dossier of `service`; none deposited there: an empty one."""
    group = (in_charge or _in_charge())(service)
    return delays.get(group) or ExpectedDelay(0, 0, 0, None, None, 0, 1.0)


def _days(count: int) -> str:
    return f"{count} jour" if count == 1 else f"{count} jours"


def delay_figures(delay: ExpectedDelay) -> str:
    """What the estimate says, without saying whose: « la moitié des demandes reçoivent … »."""
    longest = _days(delay.longest_days)
    if delay.half_within_days is None:
        return f"plus de la moitié des demandes attendent une décision plus de {longest}"
    half = f"la moitié des demandes reçoivent une décision en moins de {_days(delay.half_within_days)}"
    if delay.nine_in_ten_within_days is None:
        return f"{half}, mais plus d'une demande sur 10 attend plus de {longest}"
    return f"{half}, et 9 sur 10 en moins de {_days(delay.nine_in_ten_within_days)}"


def _count(count: int, delay: ExpectedDelay, public: bool) -> str:
    # A public page hides every count under the small-count threshold (core.disclosure).
    return f"moins de {delay.min_dossiers}" if public and 0 < count < delay.min_dossiers else str(count)


def basis(delay: ExpectedDelay, public: bool = False) -> str:
    """What the estimate rests on: its window, its dossiers, the backlog it counts and the one it does not."""
    text = (
        f"Estimation sur les {delay.dossiers} demandes déposées ces {delay.window_months} derniers mois, "
        f"décidées ou non (dont {_count(delay.waiting, delay, public)} encore en attente)"
    )
    if delay.older_waiting:
        plural = delay.older_waiting > 1 or public
        text += (
            f" ; {_count(delay.older_waiting, delay, public)} demande{'s' if plural else ''} "
            f"déposée{'s' if plural else ''} plus tôt attend{'ent' if plural else ''} encore une décision"
        )
    return text


def too_few(delay: ExpectedDelay) -> str:
    return (
        f"trop peu de demandes ont été déposées ces {delay.window_months} derniers mois "
        f"(moins de {delay.min_dossiers}) pour estimer un délai"
    )


def applicant_sentence(delay: ExpectedDelay) -> str:
    """What the applicant and the employer read in the « dossier complet » e-mail."""
    if not delay.enough:
        return f"Auprès du service qui instruit la demande, {too_few(delay)}."
    return f"Auprès du service qui instruit la demande, {delay_figures(delay)}. {basis(delay)}."


def agent_text(delay: ExpectedDelay) -> str:
    """The agents' annotation: the same estimate, for the service."""
    if not delay.enough:
        return f"Délai non estimé : {too_few(delay)} au service."
    return f"Dans le service, {delay_figures(delay)}. {basis(delay)} (méthode de Kaplan-Meier)."


def public_sentence(delay: ExpectedDelay) -> str:
    """The stats page's cell: the same estimate, the service named by its row."""
    if not delay.enough:
        return f"Non estimé : {too_few(delay)}."
    figures = delay_figures(delay)
    return f"{figures[0].upper()}{figures[1:]}. {basis(delay, public=True)}."
