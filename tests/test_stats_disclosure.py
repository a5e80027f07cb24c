"""The disclosure rule, checked where a reader meets it: every table the site writes (the page's HTML tables, every
CSV, stats.json). Nothing is computed from a masked count, and no masked count can be recomputed from what is
published: every relation a reader knows (a row's deposits are its decisions plus those in progress, a column
adds up to the national figure, a service's row adds up the départements it covers, a grid's totals) is solved
as one linear system, and no masked cell is determined by it."""

from __future__ import annotations

import csv
import json
import random
from datetime import timedelta
from html.parser import HTMLParser

import numpy as np
import pytest

from mappings.routing import load_routing_table
from stats.site import generate
from tests.stats_fixtures import dossier, insert, utc

AS_OF = utc("2026-11-15T12:00")
COUNTS = ("deposes", "acceptes", "refuses", "classes_sans_suite", "en_cours")
DECISIONS = ("acceptes", "refuses", "classes_sans_suite")
# What a reader is told each derived figure is computed from (the page's « Protection des données »).
DERIVED = {
    name: ("acceptes", "refuses")
    for name in (
        "taux_acceptation_pct",
        "delai_decision_moitie_moins_de_jours",
        "delai_decision_9_sur_10_moins_de_jours",
    )
}
BREAKDOWNS = ("par-departement.csv", "par-service.csv", "par-type-de-contrat.csv")
# Départements with a service open on the démarche, a few with very few dossiers; two whose service is not open
# (their dossiers go to the fallback groupe); an out-of-scope one and none at all.
WEIGHTS = {"75": 30, "13": 12, "69": 10, "33": 8, "02": 3, "10": 2, "35": 2, "01": 4, "03": 2, "987": 1, None: 1}
STATES = ("accepte", "accepte", "accepte", "refuse", "refuse", "sans_suite", "en_construction", "en_instruction")


def varied(count: int, seed: int) -> list:
    routing = load_routing_table()
    rng = random.Random(seed)
    dossiers = []
    for number in range(1, count + 1):
        code = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        service = routing.service_for(code) if code and routing.departements[code].in_scope else None
        depot = utc("2025-09-01T08:00") + timedelta(hours=rng.randrange(24 * 430))
        state = rng.choice(STATES)
        decided = depot + timedelta(hours=rng.randrange(24, 24 * 60))
        if state in ("accepte", "refuse", "sans_suite") and decided < AS_OF:
            dossiers.append(
                dossier(
                    number,
                    state,
                    depot,
                    decided,
                    departement=code,
                    service=service.name if service else None,
                    contract_type=rng.choice(("cdd", "cdi", "apprentissage", "ater")),
                )
            )
        else:
            dossiers.append(
                dossier(
                    number,
                    rng.choice(("en_construction", "en_instruction")),
                    min(depot, AS_OF),
                    departement=code,
                    service=service.name if service else None,
                    contract_type=rng.choice(("cdd", "cdi", "apprentissage", "ater")),
                )
            )
    return dossiers


@pytest.fixture(params=[11, 12, 13], ids=lambda seed: f"seed{seed}")
def site(request, sessions, engine, tmp_path):
    insert(sessions, varied(700, request.param))
    generate(engine, tmp_path, AS_OF)
    return tmp_path


def read_csv(site, name: str) -> list[dict]:
    with open(site / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def published(site) -> dict[tuple, float | None]:
    """Every count cell of every CSV: (file, row key, column) → value, None when masked."""
    cells = {}
    for path in sorted(site.glob("*.csv")):
        for row in read_csv(site, path.name):
            key = next(iter(row.values()))
            for column, text in row.items():
                if column.endswith("_secret") and column[:-7] in row:
                    name = column[:-7]
                    if path.name.startswith(("decisions", "en-attente")) or name in COUNTS:
                        masked = text == "1"
                        assert masked == (row[name] == ""), (path.name, key, name)
                        cells[(path.name, key, name)] = None if masked else float(row[name])
    return cells


def relations(site, cells) -> list[list[tuple[int, tuple]]]:
    """Every additive relation a reader knows between published cells: [(coefficient, cell)] summing to 0."""
    found = []
    rows = {name: [key for (file, key, _) in cells if file == name] for name in {file for file, _, _ in cells}}
    rows = {name: list(dict.fromkeys(keys)) for name, keys in rows.items()}
    for name in (*BREAKDOWNS, "par-mois.csv"):
        for column in COUNTS:
            found.append([(1, (name, key, column)) for key in rows[name]] + [(-1, ("totaux.csv", "total", column))])
    for name in (*BREAKDOWNS, "totaux.csv"):
        for key in rows[name]:
            found.append([(1, (name, key, "deposes"))] + [(-1, (name, key, c)) for c in COUNTS[1:]])
    for name in ("decisions-par-service.csv", "en-attente-par-service.csv"):
        columns = sorted({c for (file, _, c) in cells if file == name} - {"total"})
        for key in rows[name]:
            found.append([(1, (name, key, c)) for c in columns] + [(-1, (name, key, "total"))])
        for column in [*columns, "total"]:
            found.append(
                [(1, (name, key, column)) for key in rows[name] if key != "total"] + [(-1, (name, "total", column))]
            )
    for key in rows["en-attente-par-service.csv"]:
        other = ("totaux.csv", "total", "en_cours") if key == "total" else ("par-service.csv", key, "en_cours")
        found.append([(1, ("en-attente-par-service.csv", key, "total")), (-1, other)])
    for column in {c for (file, _, c) in cells if file == "decisions-par-service.csv"} - {"total"}:
        month = column.removeprefix("decisions_").replace("_", "-")
        if ("par-mois.csv", month, "acceptes") in cells:
            found.append(
                [(1, ("decisions-par-service.csv", "total", column))]
                + [(-1, ("par-mois.csv", month, c)) for c in DECISIONS]
            )
    # The routing table is public: a service's row adds up the départements it covers; the fallback groupe's,
    # the départements whose service is not open and « Autre ou non renseigné ».
    routing = load_routing_table()
    covered: dict[str, list[str]] = {}
    for code in rows["par-departement.csv"]:
        service = routing.service_for(code) if code else None
        covered.setdefault(routing.in_charge(service.name if service else None), []).append(code)
    for service, codes in covered.items():
        if service in rows["par-service.csv"]:
            for column in COUNTS:
                found.append(
                    [(1, ("par-service.csv", service, column))]
                    + [(-1, ("par-departement.csv", code, column)) for code in codes]
                )
    return [relation for relation in found if all(cell in cells for _, cell in relation)]


def recoverable(cells, known_relations) -> list[tuple]:
    """The masked cells whose value the relations determine: those orthogonal to no solution of the system."""
    unknown = [cell for cell, value in cells.items() if value is None]
    if not unknown:
        return []
    index = {cell: i for i, cell in enumerate(unknown)}
    matrix = np.zeros((len(known_relations), len(unknown)))
    for row, relation in enumerate(known_relations):
        for coefficient, cell in relation:
            if cell in index:
                matrix[row, index[cell]] += coefficient
    # A cell is determined iff its unit vector lies in the row space, i.e. every null-space vector is 0 there.
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > 1e-9).sum())
    null_space = vt[rank:]
    return [cell for cell, i in index.items() if np.all(np.abs(null_space[:, i]) < 1e-9)]


def test_no_masked_count_can_be_recomputed_from_the_published_files(site):
    cells = published(site)
    known = relations(site, cells)
    assert any(value is None for value in cells.values()), "the data has rare groups: some cells must be masked"
    # The relations hold on the published figures (a sign they are the ones a reader may use).
    for relation in known:
        if all(cells[cell] is not None for _, cell in relation):
            assert sum(c * cells[cell] for c, cell in relation) == 0, relation
    assert recoverable(cells, known) == []


def test_nothing_is_computed_from_a_masked_count_in_the_csv_files(site):
    checked = 0
    for name in (*BREAKDOWNS, "par-mois.csv", "totaux.csv"):
        for row in read_csv(site, name):
            for derived, sources in DERIVED.items():
                if any(row[f"{source}_secret"] == "1" for source in sources):
                    checked += 1
                    assert row[derived] == "" and row[f"{derived}_secret"] == "1", (name, row)
    assert checked > 0


def test_nothing_is_computed_from_a_masked_count_in_stats_json(site):
    document = json.loads((site / "stats.json").read_text(encoding="utf-8"))
    checked = 0
    for name in ("totals", "by_month", "by_departement", "by_service", "by_contract_type"):
        for row in document["tables"][name]:
            if {"accepted", "refused"} & set(row["suppressed"]):
                checked += 1
                for derived in ("acceptance_rate", "decision_days_half", "decision_days_nine_in_ten"):
                    assert row["values"][derived] is None and derived in row["suppressed"], (name, row)
    assert checked > 0
    # The same figures as the CSV files.
    for row in document["tables"]["by_departement"]:
        line = next(r for r in read_csv(site, "par-departement.csv") if r["departement"] == row["key"])
        assert row["values"]["deposited"] == (int(line["deposes"]) if line["deposes"] else None)


class Tables(HTMLParser):
    """Each <table> of a page: its header texts and its rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"headers": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(site) -> list[dict]:
    parser = Tables()
    parser.feed((site / "index.html").read_text(encoding="utf-8"))
    return parser.tables


def test_nothing_is_computed_from_a_masked_count_on_the_page(site):
    checked = 0
    for table in page_tables(site):
        header, *rows = table["rows"]
        derived = [i for i, text in enumerate(header) if text.startswith(("Taux", "Délai"))]
        sources = [i for i, text in enumerate(header) if text in ("Acceptés", "Refusés")]
        for row in rows:
            if any(row[i] == "masqué" for i in sources):
                checked += 1
                assert all(row[i] == "masqué" for i in derived), (header, row)
    assert checked > 0


def test_out_of_scope_departements_are_not_figures_on_the_page(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    for name in ("Polynésie française", "Nouvelle-Calédonie"):
        assert name not in html
    assert all(row["departement"] != "987" for row in read_csv(site, "par-departement.csv"))
