"""Monthly report per service (xlsx): the decisions of one Paris month.

Internal to the agents, who see the dossiers anyway, so no suppression; the
figures come from the same `prepare` frame as the public page, so they agree
with its monthly table. No personal data: dossier numbers and links only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from slugify import slugify
from sqlalchemy.orm import Session

from mappings.routing import RoutingTable, load_routing_table
from notifications.french import de
from stats.collation import french_key
from stats.figures import DECISIONS, PARIS, prepare
from stats.format import month_label
from stats.load import load_dossiers
from stats.workbook import DEFINITIONS_SHEET, Heading, xlsx

DEFAULT_DS_HOST = "https://www.demarches-simplifiees.fr"
TOP_NATIONALITIES = 10
OUTCOME_HEADERS = {"accepted": "Acceptés", "refused": "Refusés", "closed": "Classés sans suite"}
SHORT_APT_MONTHS = 3
# What each figure counts, printed with the report (its « Définitions » sheet).
DEFINITIONS = (
    (
        "Décision",
        "Dossier accepté, refusé ou classé sans suite sur Démarches simplifiées. Le rapport d'un mois compte "
        "les décisions prises du premier au dernier jour du mois, à l'heure de Paris, quelle que soit "
        "la date de dépôt.",
    ),
    ("Date de dépôt", "Jour où l'usager a déposé le dossier sur Démarches simplifiées (heure de Paris)."),
    ("Date de décision", "Jour où le service a accepté, refusé ou classé le dossier (heure de Paris)."),
    (
        "APT de moins de 3 mois",
        "Autorisation acceptée dont la date de fin, saisie par le service dans les annotations, "
        "précède la date de début plus 3 mois.",
    ),
    ("APT de 3 mois ou plus", "Autorisation acceptée qui se termine 3 mois ou plus après sa date de début."),
    (
        "Durée de l'APT non renseignée",
        "Autorisation acceptée dont la date de début ou de fin manque dans les annotations du dossier.",
    ),
    ("Classé sans suite", "Dossier clos sans décision sur le fond (demande retirée, sans objet ou hors périmètre)."),
    (
        "Nationalité",
        f"Nationalité déclarée dans le formulaire ; les {TOP_NATIONALITIES} nationalités qui comptent le "
        "plus de décisions, puis les autres regroupées. À nombre égal, ordre alphabétique.",
    ),
    ("Département", "Département qui rend le service compétent pour le dossier."),
    (
        "Source",
        "Les dossiers copiés de Démarches simplifiées par le connecteur, comptés comme sur la page publique "
        "de statistiques ; ce rapport interne au service ne masque aucun chiffre.",
    ),
)


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
    table = table.reset_index(names="name")
    # Most decisions first; equal counts in French alphabetical order (« États-Unis » before « Viêt Nam »).
    table = table.sort_values("name", key=lambda names: names.map(french_key)).sort_values(
        "total", ascending=False, kind="stable"
    )
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


def departement_label(code: str | None, table: RoutingTable) -> str:
    """« 02 – Aisne » from the routing table's départements; a code it does not know stays as it is."""
    if not isinstance(code, str) or not code:
        return "Non renseigné"
    info = table.departements.get(code)
    return info.label if info else code


def refused_list(decisions: pd.DataFrame, host: str, table: RoutingTable) -> pd.DataFrame:
    refused = decisions[decisions["outcome"] == "refused"].sort_values("number")
    return pd.DataFrame(
        {
            "Dossier": refused["number"].to_numpy(),
            "Département": [departement_label(code, table) for code in refused["departement"]],
            "Date de dépôt": paris_dates(refused["date_depot"]),
            "Date de décision": paris_dates(refused["date_traitement"]),
            "Lien": [
                dossier_url(host, d, n) for d, n in zip(refused["demarche_number"], refused["number"], strict=True)
            ],
        }
    )


def paris_dates(moments: pd.Series) -> list[date | None]:
    """The calendar day in Paris of each moment, as a date (the workbook stores it as a date, not text)."""
    days = moments.dt.tz_convert(PARIS).dt.date
    return [None if pd.isna(day) else day for day in days]


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
    return pd.DataFrame(rows, columns=[f"Décisions {de(month_label(month))}", "Dossiers"])


def definitions_frame(table: RoutingTable) -> pd.DataFrame:
    fallback = (
        "Service",
        "Un service qui n'instruit pas encore sur Démarches simplifiées voit ses dossiers, et "
        f"leurs décisions, dans le groupe « {table.fallback_groupe} », dont les agents reçoivent ce rapport.",
    )
    return pd.DataFrame([*DEFINITIONS, fallback], columns=["Terme", "Définition"])


def workbook(decisions: pd.DataFrame, month: str, host: str, service: str, table: RoutingTable) -> bytes:
    """The report an agent prints: each sheet says whose report it is and for which month."""
    heading = Heading(service, month)
    sheets = [
        ("Synthèse", summary_frame(summarise(decisions), month)),
        ("Nationalités", nationalities_by_outcome(decisions)),
        ("Refus", refused_list(decisions, host, table)),
        (DEFINITIONS_SHEET, definitions_frame(table)),
    ]
    return xlsx(sheets, heading, links={"Lien"}, wrapped={"Définition"})


def build_monthly_reports(
    session: Session, month: str, ds_host: str = DEFAULT_DS_HOST, table: RoutingTable | None = None
) -> dict[str, bytes]:
    """One xlsx (bytes) per service that decided at least one dossier in `month` ("YYYY-MM", Paris time).

    A service not open yet gets none: its dossiers wait in the fallback groupe, whose agents
    get the report of every dossier decided there (key: the fallback groupe's label)."""
    table = table or load_routing_table()
    decisions = decisions_of_month(prepare(load_dossiers(session)), month)
    services = pd.Series(
        [table.in_charge(s if isinstance(s, str) else None) for s in decisions["service"]],
        index=decisions.index,
        dtype="object",
    )
    return {service: workbook(group, month, ds_host, service, table) for service, group in decisions.groupby(services)}


def file_name(month: str, service: str) -> str:
    """`rapport-2026-11-service-de-la-main-d-oeuvre-etrangere-de-l-ariege.xlsx`: accents transliterated."""
    return f"rapport-{month}-{slugify(service) or 'service'}.xlsx"
