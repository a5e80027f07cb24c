"""Monthly report per service (xlsx): the decisions of one Paris month.

Internal to the agents, who see the dossiers anyway, so no suppression; the
figures come from the same `prepare` frame as the public page, so they agree
with its monthly table. No personal data: dossier numbers and links only.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
from slugify import slugify
from sqlalchemy.orm import Session

from mappings.routing import RoutingTable, load_routing_table
from stats.figures import DECISIONS, prepare
from stats.format import month_label
from stats.load import load_dossiers

DEFAULT_DS_HOST = "https://www.demarches-simplifiees.fr"
TOP_NATIONALITIES = 10
OUTCOME_HEADERS = {"accepted": "Acceptés", "refused": "Refusés", "closed": "Classés sans suite"}
SHORT_APT_MONTHS = 3


@dataclass(frozen=True)
class MonthSummary:
    accepted_short: int  # APT under 3 months
    accepted_long: int  # APT of 3 months or more
    accepted_unknown_length: int  # APT dates not filled in by the agents
    refused: int
    closed: int

    @property
    def accepted(self) -> int:
        return self.accepted_short + self.accepted_long + self.accepted_unknown_length


def decisions_of_month(prepared: pd.DataFrame, month: str) -> pd.DataFrame:
    return prepared[prepared["decision_month"] == pd.Period(month, freq="M")]


def apt_is_short(decisions: pd.DataFrame) -> pd.Series:
    """True when the APT ends before start + 3 calendar months; NA when a date is missing."""
    limit = decisions["apt_start"] + pd.DateOffset(months=SHORT_APT_MONTHS)
    short = (decisions["apt_end"] < limit).astype("boolean")
    return short.mask(decisions["apt_start"].isna() | decisions["apt_end"].isna())


def summarise(decisions: pd.DataFrame) -> MonthSummary:
    accepted = decisions[decisions["outcome"] == "accepted"]
    short = apt_is_short(accepted)
    return MonthSummary(
        accepted_short=int((short == True).sum()),  # noqa: E712 (nullable boolean)
        accepted_long=int((short == False).sum()),  # noqa: E712
        accepted_unknown_length=int(short.isna().sum()),
        refused=int((decisions["outcome"] == "refused").sum()),
        closed=int((decisions["outcome"] == "closed").sum()),
    )


def nationalities_by_outcome(decisions: pd.DataFrame, count: int = TOP_NATIONALITIES) -> pd.DataFrame:
    """The `count` nationalities with the most decisions, each split by outcome, then the others
    together and the total (as the service's own monthly report read: who was accepted, who refused)."""
    names = decisions["nationality_name"].astype("string").fillna("Non renseignée")
    table = pd.crosstab(names, decisions["outcome"].astype("string")).reindex(columns=list(DECISIONS), fill_value=0)
    table["total"] = table.sum(axis=1)
    table = table.reset_index(names="name").sort_values(["total", "name"], ascending=[False, True])
    top, rest = table.head(count), table.iloc[count:]
    rows = [top]
    if not rest.empty:
        rows.append(pd.DataFrame([{"name": f"Autres nationalités ({len(rest)})", **rest[[*DECISIONS, "total"]].sum()}]))
    rows.append(pd.DataFrame([{"name": "Total", **table[[*DECISIONS, "total"]].sum()}]))
    out = pd.concat(rows, ignore_index=True)
    out = out.rename(columns={"name": "Nationalité", **OUTCOME_HEADERS, "total": "Total"})
    return out.astype({header: "int64" for header in [*OUTCOME_HEADERS.values(), "Total"]})


def dossier_url(host: str, demarche: int, number: int) -> str:
    return f"{host.rstrip('/')}/procedures/{demarche}/dossiers/{number}"


def refused_list(decisions: pd.DataFrame, host: str) -> pd.DataFrame:
    refused = decisions[decisions["outcome"] == "refused"].sort_values("number")
    decided_on = refused["date_traitement"].dt.tz_convert("Europe/Paris").dt.strftime("%d/%m/%Y")
    return pd.DataFrame(
        {
            "Dossier": refused["number"].to_numpy(),
            "Département": refused["departement"].astype("string").fillna("").to_numpy(),
            "Date de décision": decided_on.to_numpy(),
            "Lien": [dossier_url(host, d, n) for d, n in zip(refused["demarche_number"], refused["number"])],
        }
    )


def summary_frame(summary: MonthSummary, month: str) -> pd.DataFrame:
    rows = [
        ("Acceptés, APT de moins de 3 mois", summary.accepted_short),
        ("Acceptés, APT de 3 mois ou plus", summary.accepted_long),
        ("Acceptés, durée de l'APT non renseignée", summary.accepted_unknown_length),
        ("Acceptés, total", summary.accepted),
        ("Refusés", summary.refused),
        ("Classés sans suite", summary.closed),
        ("Total des décisions", summary.accepted + summary.refused + summary.closed),
    ]
    return pd.DataFrame(rows, columns=[f"Décisions de {month_label(month)}", "Dossiers"])


def workbook(decisions: pd.DataFrame, month: str, host: str) -> bytes:
    buffer = io.BytesIO()
    refused = refused_list(decisions, host)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        summary_frame(summarise(decisions), month).to_excel(writer, sheet_name="Synthèse", index=False)
        nationalities_by_outcome(decisions).to_excel(writer, sheet_name="Nationalités", index=False)
        refused.to_excel(writer, sheet_name="Refus", index=False)
        sheet = writer.sheets["Refus"]
        for row, url in enumerate(refused["Lien"], start=2):
            sheet.cell(row=row, column=4).hyperlink = url
            sheet.cell(row=row, column=4).style = "Hyperlink"
        for name in writer.sheets:
            writer.sheets[name].column_dimensions["A"].width = 42
            writer.sheets[name].column_dimensions["D"].width = 70
    return buffer.getvalue()


def build_monthly_reports(session: Session, month: str, ds_host: str = DEFAULT_DS_HOST,
                          table: RoutingTable | None = None) -> dict[str, bytes]:
    """One xlsx (bytes) per service that decided at least one dossier in `month` ("YYYY-MM", Paris time).

    A service not open yet gets none: its dossiers wait in the fallback groupe, whose agents
    get the report of every dossier decided there (key: the fallback groupe's label)."""
    table = table or load_routing_table()
    decisions = decisions_of_month(prepare(load_dossiers(session)), month)
    services = pd.Series([table.in_charge(s if isinstance(s, str) else None) for s in decisions["service"]],
                         index=decisions.index, dtype="object")
    return {service: workbook(group, month, ds_host) for service, group in decisions.groupby(services)}


def file_name(month: str, service: str) -> str:
    """`rapport-2026-11-service-de-la-main-d-oeuvre-etrangere-de-l-ariege.xlsx`: accents transliterated."""
    return f"rapport-{month}-{slugify(service) or 'service'}.xlsx"
