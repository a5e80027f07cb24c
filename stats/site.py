"""Write the static site: index.html (Jinja2), stats.json and open-data CSV files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from jinja2 import PackageLoader

from core.web.layout import SiteContext, default_site, environment, write_static_pages
from mappings.expected_delay import WINDOW_MONTHS
from mappings.procedure import default_procedure
from mappings.routing import load_routing_table
from stats import format as fr
from stats.charts import BLUE_FRANCE, BLUE_LIGHT, RED_MARIANNE, Series, bar_chart
from stats.expected_delay import DelayGroup, DelayRow, delay_groups, departement_delays
from stats.figures import (
    AGE_BANDS,
    BACKLOG_STATES,
    COUNTS,
    DELAYS,
    MEASURES,
    NOT_GIVEN,
    PARIS,
    RATE,
    TOTAL,
    Figures,
    Grid,
    Table,
    build_figures,
)
from stats.load import PAGE_COLUMNS, load_dossiers
from stats.suppression import THRESHOLD

SCHEMA_PATH = Path(__file__).with_name("stats.schema.json")
MEASURE_LABELS = {
    "deposited": "Déposés",
    "accepted": "Acceptés",
    "refused": "Refusés",
    "closed": "Classés sans suite",
    "in_progress": "En cours",
    "acceptance_rate": "Taux d'acceptation",
    "decision_days_half": "Délai : la moitié en moins de (jours)",
    "decision_days_nine_in_ten": "Délai : 9 sur 10 en moins de (jours)",
}
CSV_NAMES = {
    "deposited": "deposes",
    "accepted": "acceptes",
    "refused": "refuses",
    "closed": "classes_sans_suite",
    "in_progress": "en_cours",
    "acceptance_rate": "taux_acceptation_pct",
    "decision_days_half": "delai_decision_moitie_moins_de_jours",
    "decision_days_nine_in_ten": "delai_decision_9_sur_10_moins_de_jours",
}
CSV_FILES = {
    "totals": ("totaux.csv", "total"),
    "by_month": ("par-mois.csv", "mois"),
    "by_departement": ("par-departement.csv", "departement"),
    "by_service": ("par-service.csv", "service"),
    "by_contract_type": ("par-type-de-contrat.csv", "type_de_contrat"),
    "decisions_by_service": ("decisions-par-service.csv", "service"),
    "backlog_by_service": ("en-attente-par-service.csv", "service"),
}
STATE_LABELS = {"en_construction": "En construction", "en_instruction": "En instruction"}
BAND_LABELS = {
    "moins_15_jours": "moins de 15 jours",
    "15_59_jours": "15 à 59 jours",
    "60_jours_et_plus": "60 jours ou plus",
}
BACKLOG_LABELS = {
    f"{state}_{band}": f"{STATE_LABELS[state]}, {BAND_LABELS[band]}"
    for state in BACKLOG_STATES
    for _, _, band in AGE_BANDS
}


def contract_label(code: str) -> str:
    """The label applicants chose, from the one table of contract types (procedure.yaml's contrat_type)."""
    labels = {value: label for label, value in default_procedure().champ("contrat_type").option_values.items()}
    return labels.get(code, code)


@dataclass(frozen=True)
class TableView:
    id: str
    caption: str
    key_header: str
    headers: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    table: TableView
    chart: str | None = None
    folded: bool = False  # a long breakdown: behind a <details> the reader opens


@dataclass(frozen=True)
class KeyFigure:
    value: str
    label: str  # what is counted, with its period


@dataclass(frozen=True)
class PageContext:
    """Everything index.html may use, and nothing else."""

    as_of_label: str
    period_label: str  # « depuis juin 2025 »: the period of the key figures and the breakdowns
    key_figures: list[KeyFigure]
    sections: list[Section]
    threshold: int = THRESHOLD
    csv_files: list[str] = field(default_factory=lambda: [name for name, _ in CSV_FILES.values()])
    delay_groups: list[DelayGroup] = field(default_factory=list)  # stats.expected_delay, every département
    delay_window_months: int = WINDOW_MONTHS


def grid_labels(name: str, grid: Grid) -> dict[str, str]:
    """Column id → French header of a grid (months for the decisions, state and age for the backlog)."""
    columns = [c for c in grid.values.columns if c != TOTAL]
    if name == "backlog_by_service":
        labels = {c: BACKLOG_LABELS[c] for c in columns}
        return {**labels, TOTAL: "Total en attente"}
    return {**{c: fr.short_month_label(c) for c in columns}, TOTAL: f"Total sur {len(columns)} mois"}


def grid_view(name: str, grid: Grid, table_id: str, caption: str) -> TableView:
    labels = grid_labels(name, grid)
    rows = []
    for key in grid.values.index:
        cells = [fr.cell(grid.values.at[key, c], "count", bool(grid.hidden.at[key, c])) for c in labels]
        rows.append(("Ensemble" if key == TOTAL else group_label("service")(key), cells))
    # By label (« MOE 02 – Aisne », …, « À orienter manuellement »), the national row last.
    rows = sorted(rows[:-1], key=lambda row: row[0]) + rows[-1:]
    return TableView(table_id, caption, "Service", list(labels.values()), rows)


def measure_kind(measure: str) -> str:
    if measure in COUNTS:
        return "count"
    return "percent" if measure == RATE else "days"


def table_view(
    table: Table, table_id: str, caption: str, key_header: str, label_key, measures=MEASURES, by_label: bool = False
) -> TableView:
    rows = []
    for key in table.values.index:
        cells = [fr.cell(table.values.at[key, m], measure_kind(m), bool(table.hidden.at[key, m])) for m in measures]
        rows.append((label_key(key), cells))
    if by_label:
        rows.sort(key=lambda row: row[0])
    return TableView(table_id, caption, key_header, [MEASURE_LABELS[m] for m in measures], rows)


def departement_label(code: str) -> str:
    """« 75 – Paris »: the code the agents know, with the name everyone else reads."""
    info = load_routing_table().departements.get(code)
    return f"{code} – {info.name}" if info else code


def service_label(name: str) -> str:
    """« MOE 75 – Paris »: the groupe label, shorter than the service's full name in a table row."""
    service = load_routing_table().service_by_name(name)
    return service.groupe_label if service else name


def group_label(kind: str):
    def label(key: str) -> str:
        if key == NOT_GIVEN:
            return "Autre ou non renseigné" if kind == "departement" else "Non renseigné"
        if kind == "departement":
            return departement_label(key)
        if kind == "service":
            return service_label(key)
        return contract_label(key) if kind == "contract_type" else key

    return label


def trend_chart(figures: Figures) -> str:
    values = figures.trend.values
    labels = [fr.short_month_label(month) for month in values.index]
    series = [
        Series("Déposés", values["deposited"].tolist(), BLUE_FRANCE),
        Series("Acceptés", values["accepted"].tolist(), BLUE_LIGHT),
        Series("Refusés", values["refused"].tolist(), RED_MARIANNE),
    ]
    return bar_chart(
        "graphique-tendance", "Dossiers déposés et décisions, 12 derniers mois", labels, series, fr.integer, fr.HIDDEN
    )


def as_of_label(moment: datetime) -> str:
    """« 1er décembre 2026 », « 15 novembre 2026 » (Paris date)."""
    day = moment.astimezone(PARIS)
    return f"{'1er' if day.day == 1 else day.day} {fr.MONTHS[day.month - 1]} {day.year}"


def key_figures(figures: Figures, period: str) -> list[KeyFigure]:
    totals = figures.totals
    row = totals.values.index[0]

    def value(measure: str) -> str:
        return fr.cell(totals.values.at[row, measure], measure_kind(measure), bool(totals.hidden.at[row, measure]))

    half = value("decision_days_half")
    return [
        KeyFigure(value("deposited"), f"demandes déposées {period}"),
        KeyFigure(value("accepted"), f"demandes acceptées {period}"),
        KeyFigure(value("acceptance_rate"), f"d'acceptation, sur les demandes acceptées ou refusées {period}"),
        KeyFigure(
            f"moins de {half} jours" if half[:1].isdigit() else half,
            f"entre le dépôt et la décision, pour la moitié des demandes acceptées ou refusées {period}",
        ),
        KeyFigure(value("in_progress"), f"demandes en attente d'une décision au {as_of_label(figures.as_of)}"),
    ]


def page_context(figures: Figures, expected_delays: Sequence[DelayRow] = ()) -> PageContext:
    month = fr.short_month_label
    first_month = figures.by_month.values.index[0]
    period = f"depuis {fr.month_label(first_month)}"
    trend_measures = ("deposited", "accepted", "refused", "closed", "acceptance_rate", *DELAYS)
    sections = [
        Section(
            "tendance",
            "Évolution sur 12 mois",
            "Demandes déposées dans le mois, décisions prises dans le mois, et le délai de ces décisions.",
            table_view(
                figures.trend,
                "tableau-tendance",
                "Demandes et décisions par mois, 12 derniers mois",
                "Mois",
                month,
                trend_measures,
            ),
            trend_chart(figures),
        ),
        Section(
            "par-contrat",
            "Par type de contrat",
            f"Type du contrat de travail déclaré dans la demande, état actuel des demandes déposées {period}.",
            table_view(
                figures.by_contract_type,
                "tableau-contrat",
                "Chiffres par type de contrat",
                "Type de contrat",
                group_label("contract_type"),
            ),
        ),
        Section(
            "par-service",
            "Par service instructeur",
            "Service de la main-d'œuvre étrangère (MOE) chargé de la demande. Les demandes sans service, ou "
            "d'un service qui n'instruit pas encore sur la démarche, sont orientées à la main (« À orienter "
            f"manuellement »). État actuel des demandes déposées {period}.",
            table_view(
                figures.by_service,
                "tableau-service",
                "Chiffres par service",
                "Service",
                group_label("service"),
                by_label=True,
            ),
            folded=True,
        ),
        Section(
            "par-departement",
            "Par département",
            f"Département de la demande, état actuel des demandes déposées {period}. Les territoires où l'APT "
            "ne s'applique pas comptent dans « Autre ou non renseigné ».",
            table_view(
                figures.by_departement,
                "tableau-departement",
                "Chiffres par département",
                "Département",
                group_label("departement"),
            ),
            folded=True,
        ),
        Section(
            "decisions-par-service",
            "Décisions par service",
            "Décisions prises par chaque service (acceptations, refus, classements sans suite), par mois de "
            "décision, sur les 6 derniers mois complets.",
            grid_view(
                "decisions_by_service",
                figures.decisions_by_service,
                "tableau-decisions-service",
                "Décisions par service et par mois",
            ),
            folded=True,
        ),
        Section(
            "attente-par-service",
            "Demandes en attente par service",
            "Demandes qui attendent une décision aujourd'hui, selon leur état et le nombre de jours depuis "
            "qu'elles y sont entrées.",
            grid_view(
                "backlog_by_service",
                figures.backlog_by_service,
                "tableau-attente-service",
                "Demandes en attente par service, selon l'état et l'ancienneté",
            ),
            folded=True,
        ),
        Section(
            "par-mois",
            "Tous les mois",
            f"Chaque mois {period}.",
            table_view(figures.by_month, "tableau-mois", "Chiffres par mois", "Mois", month),
            folded=True,
        ),
    ]
    return PageContext(
        as_of_label(figures.as_of),
        period,
        key_figures(figures, period),
        sections,
        delay_groups=delay_groups(list(expected_delays)),
    )


def static_site() -> SiteContext:
    """The layout's context of the default settings (`wif stats` passes the deployment's)."""
    return default_site(static=True, demarche_path=default_procedure().path)


def render_page(figures: Figures, expected_delays: Sequence[DelayRow] = (), site: SiteContext | None = None) -> str:
    templates = environment(PackageLoader("stats", "templates"), site or static_site())
    return templates.get_template("index.html").render(page=page_context(figures, expected_delays))


def json_value(value):
    return None if fr.is_missing(value) else (int(value) if float(value).is_integer() else float(value))


def table_rows(table: Table) -> list[dict]:
    rows = []
    for key in table.values.index:
        rows.append(
            {
                "key": key,
                "values": {m: json_value(table.values.at[key, m]) for m in MEASURES},
                "suppressed": [m for m in MEASURES if table.hidden.at[key, m]],
            }
        )
    return rows


def grid_rows(grid: Grid) -> list[dict]:
    columns = list(grid.values.columns)
    return [
        {
            "key": key,
            "values": {c: json_value(grid.values.at[key, c]) for c in columns},
            "suppressed": [c for c in columns if grid.hidden.at[key, c]],
        }
        for key in grid.values.index
    ]


def delay_rows(expected_delays: list[DelayRow]) -> list[dict]:
    """The expected delay per département as stats.json publishes it: figures, counts (null under the
    small-count threshold, as on the page) and the page's sentence."""

    def count(value: int) -> int | None:
        return value if value == 0 or value >= THRESHOLD else None

    return [
        {
            "departement": row.departement,
            "service": row.service,
            "window_months": row.delay.window_months,
            "dossiers": count(row.delay.dossiers),
            "waiting": count(row.delay.waiting),
            "older_waiting": count(row.delay.older_waiting),
            "half_within_days": row.delay.half_within_days,
            "nine_in_ten_within_days": row.delay.nine_in_ten_within_days,
            "text": row.text,
        }
        for row in expected_delays
    ]


def stats_document(figures: Figures, expected_delays: Sequence[DelayRow] = ()) -> dict:
    return {
        "generated_at": figures.as_of.isoformat(),
        "as_of_month": str(pd.Period(figures.as_of.astimezone(PARIS).strftime("%Y-%m"), freq="M")),
        "time_zone": "Europe/Paris",
        "suppression_threshold": THRESHOLD,
        "measures": {m: MEASURE_LABELS[m] for m in MEASURES},
        "grid_columns": {name: grid_labels(name, grid) for name, grid in figures.grids().items()},
        "tables": {
            **{name: table_rows(table) for name, table in figures.tables().items()},
            **{name: grid_rows(grid) for name, grid in figures.grids().items()},
        },
        "expected_delay": delay_rows(list(expected_delays)),
    }


def csv_frame(table: Table, key_column: str) -> pd.DataFrame:
    frame = table.values.rename(columns=CSV_NAMES)
    frame.index.name = key_column
    for measure, name in CSV_NAMES.items():
        if measure in COUNTS:
            frame[name] = frame[name].astype("Int64")
        frame[f"{name}_secret"] = table.hidden[measure].astype(int)
    return frame.reset_index()


def grid_csv_frame(grid: Grid, key_column: str) -> pd.DataFrame:
    """One count column per grid column (months as `decisions_2026_06`), each with its `_secret` flag."""

    def name(column: str) -> str:
        return f"decisions_{column.replace('-', '_')}" if column[:1].isdigit() else column

    frame = pd.DataFrame(index=grid.values.index)
    for column in grid.values.columns:
        frame[name(column)] = grid.values[column].astype("Int64")
        frame[f"{name(column)}_secret"] = grid.hidden[column].astype(int)
    frame.index.name = key_column
    return frame.reset_index()


def write_site(
    figures: Figures, out_dir: Path, expected_delays: Sequence[DelayRow] = (), site: SiteContext | None = None
) -> list[Path]:
    """Write every file of the site into `out_dir` (the page, the mandatory pages, the DSFR's files beside them,
    the open data); returns their paths."""
    site = site or static_site()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "index.html", out_dir / "stats.json"]
    written[0].write_text(render_page(figures, expected_delays, site), encoding="utf-8")
    written += write_static_pages(out_dir, site)
    document = stats_document(figures, expected_delays)
    written[1].write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tables, grids = figures.tables(), figures.grids()
    for name, (filename, key_column) in CSV_FILES.items():
        path = out_dir / filename
        frame = csv_frame(tables[name], key_column) if name in tables else grid_csv_frame(grids[name], key_column)
        frame.to_csv(path, index=False)
        written.append(path)
    return written


def compute(engine, as_of: datetime | None = None) -> Figures:
    with engine.connect() as connection:
        frame = load_dossiers(connection, PAGE_COLUMNS)
    return build_figures(frame, as_of or datetime.now(UTC))


def generate(engine, out_dir: Path, as_of: datetime | None = None, site: SiteContext | None = None) -> list[Path]:
    """Compute the figures from the database and write the site; returns the files written."""
    as_of = as_of or datetime.now(UTC)
    with engine.connect() as connection:
        frame = load_dossiers(connection, PAGE_COLUMNS)
    return write_site(build_figures(frame, as_of), out_dir, departement_delays(frame, as_of), site)
