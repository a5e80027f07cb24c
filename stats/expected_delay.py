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
    cohort = pd.DataFrame(
        {
            "group": [table.in_charge(s if isinstance(s, str) else None) for s in services],
            "state": frame["state"].astype(str).to_numpy(),
            "date_depot": frame["date_depot"].to_numpy(),
            "date_traitement": frame["date_traitement"].to_numpy(),
        }
    )
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


@dataclass(frozen=True)
class DelayCells:
    """A département's row of « Quand vais-je recevoir mon autorisation ? », as the page shows it."""

    departement: str
    service: str
    half: str  # « moins de 12 jours », « plus de 90 jours » when the estimate does not reach half
    nine_in_ten: str
    basis: str  # « 120 demandes, dont 30 en attente »
    estimated: bool  # False: too few requests, `half` says so and the row has no figure


@dataclass(frozen=True)
class DelayGroup:
    """Départements by their code's tens (« 01 à 09 »), so that a reader opens one short list."""

    id: str
    title: str
    rows: list[DelayCells]


def _requests(count: int, delay: ExpectedDelay) -> str:
    # A count under the small-count threshold reads « moins de 5 » (core.disclosure), zero aside.
    text = f"moins de {delay.min_dossiers}" if 0 < count < delay.min_dossiers else str(count)
    return text


def delay_cells(row: DelayRow) -> DelayCells:
    delay = row.delay
    basis = f"{_requests(delay.dossiers, delay)} demande{'s' if delay.dossiers != 1 else ''}"
    if delay.waiting:
        basis += f", dont {_requests(delay.waiting, delay)} en attente"
    if not delay.enough:
        return DelayCells(
            row.departement,
            row.service,
            f"Pas assez de demandes ces {delay.window_months} derniers mois pour estimer un délai",
            "",
            basis,
            False,
        )
    beyond = f"plus de {delay.longest_days} jours"
    half = f"moins de {delay.half_within_days} jours" if delay.half_within_days else beyond
    nine = f"moins de {delay.nine_in_ten_within_days} jours" if delay.nine_in_ten_within_days else beyond
    return DelayCells(row.departement, row.service, half, nine, basis, True)


def _tens(label: str) -> str:
    code = label.split(" – ")[0]
    return "outre-mer" if len(code) == 3 else code[0]


def delay_groups(rows: list[DelayRow]) -> list[DelayGroup]:
    """The rows in groups of the same first digit of the code (Corsica with the 20s), overseas last."""
    groups: dict[str, list[DelayCells]] = {}
    # Corsica's 2A and 2B come where 20 was, between 19 and 21.
    for row in sorted(rows, key=lambda row: row.departement.replace("2A", "20A").replace("2B", "20B")):
        groups.setdefault(_tens(row.departement), []).append(delay_cells(row))
    result = []
    for key, cells in groups.items():
        first, last = cells[0].departement, cells[-1].departement
        title = "Outre-mer" if key == "outre-mer" else f"{first.split(' – ')[0]} à {last.split(' – ')[0]}"
        names = f"{first.split(' – ', 1)[1]} … {last.split(' – ', 1)[1]}"
        result.append(DelayGroup(f"delai-{key}", f"{title} ({names})", cells))
    return result
