"""« Quand vais-je recevoir mon autorisation ? » on the stats page: for every département, the expected delay
of the service that handles its requests, computed by the one function the e-mails and the agents' annotation
use (mappings.expected_delay.expected_delays)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from mappings.expected_delay import ExpectedDelay, expected_delays, public_sentence
from mappings.routing import RoutingTable, load_routing_table


@dataclass(frozen=True)
class DelayRow:
    departement: str  # "75 – Paris"
    service: str  # who handles its requests: the service, or the fallback groupe
    delay: ExpectedDelay
    text: str  # the estimate in one sentence, with its window and its dossiers


def service_delays(frame: pd.DataFrame, as_of: datetime, table: RoutingTable | None = None) -> dict[str, ExpectedDelay]:
    """The estimate of each service in charge, from the stats page's frame (state, service, dates)."""
    table = table or load_routing_table()
    if frame.empty:
        return {}
    services = frame["service"].astype(object)
    cohort = pd.DataFrame({
        "group": [table.in_charge(s if isinstance(s, str) else None) for s in services],
        "state": frame["state"].astype(str).to_numpy(),
        "date_depot": frame["date_depot"].to_numpy(),
        "date_traitement": frame["date_traitement"].to_numpy(),
    })
    for column in ("date_depot", "date_traitement"):
        cohort[column] = pd.to_datetime(cohort[column], utc=True)
    return expected_delays(cohort, as_of)


def departement_delays(frame: pd.DataFrame, as_of: datetime, table: RoutingTable | None = None) -> list[DelayRow]:
    """One row per département of the procedure, in code order, even where the estimate has too few dossiers."""
    table = table or load_routing_table()
    delays = service_delays(frame, as_of, table)
    empty = ExpectedDelay(0, 0, 0, None, None, 0, 1.0)
    rows = []
    for code, info in sorted(table.departements.items()):
        if not info.in_scope:
            continue
        service = table.service_for(code)
        group = table.in_charge(service.name if service else None)
        delay = delays.get(group, empty)
        rows.append(DelayRow(f"{code} – {info.name}", group, delay, public_sentence(delay)))
    return rows
