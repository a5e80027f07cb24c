"""« Quand vais-je recevoir mon autorisation ? » on the stats page: the expected decision delay per
département, computed by the one function the e-mails and the agents' annotation use
(mappings.expected_delay), with its small-count suppression."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.snapshot import DecisionFact
from mappings.expected_delay import COUNTED_STATES, expected_delays, window_start
from mappings.routing import load_routing_table

NOT_AVAILABLE = "n.d."


@dataclass(frozen=True)
class DelayRow:
    departement: str  # "75 – Paris"
    nine_in_ten: str  # "moins de 10 jours", or n.d. when too few decisions
    half: str


def _within(days: int | None) -> str:
    if days is None:
        return NOT_AVAILABLE
    return f"moins de {days} jour" + ("" if days == 1 else "s")


def departement_delays(frame: pd.DataFrame, as_of: datetime) -> list[DelayRow]:
    """One row per département with a decision in the window, in code order."""
    if frame.empty:
        return []
    since = pd.Timestamp(window_start(as_of))
    recent = frame[frame["state"].isin(sorted(COUNTED_STATES)) & (frame["date_traitement"] > since)]
    recent = recent[["departement", "state", "date_depot", "date_traitement"]].dropna()
    # Plain records for the one computation; converted column-wise (a million dossiers hold ~100,000 of them).
    decisions = list(map(DecisionFact, [None] * len(recent), recent["departement"].astype(str), recent["state"].astype(str),
                         recent["date_depot"].dt.to_pydatetime(), recent["date_traitement"].dt.to_pydatetime()))
    delays = expected_delays(decisions, as_of, lambda decision: decision.departement)
    names = {code: info.name for code, info in load_routing_table().departements.items()}
    return [DelayRow(f"{code} – {names[code]}" if code in names else code, _within(delay.nine_in_ten_within_days),
                     _within(delay.half_within_days))
            for code, delay in sorted(delays.items())]
