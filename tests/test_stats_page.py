"""The statistics page as an applicant reads it: the expected delay of every département first, then a table of
contents and the rest; months as « janv. 2026 », delays in whole days, one definition of the decision delay, key
figures with their period. Read from the HTML the site writes."""

from __future__ import annotations

import re

import pytest

from mappings.routing import load_routing_table
from stats.site import generate
from tests.stats_fixtures import insert, utc
from tests.test_stats_disclosure import page_tables, varied

AS_OF = utc("2026-11-15T12:00")
MONTH = r"(janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.) 20\d\d"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from core.db import make_engine, session_factory
    from core.models import Base

    folder = tmp_path_factory.mktemp("stats-page")
    engine = make_engine(f"sqlite:///{folder / 'stats.db'}")
    Base.metadata.create_all(engine)
    insert(session_factory(engine), varied(700, 21))
    generate(engine, folder / "site", AS_OF)
    engine.dispose()
    return folder / "site"


@pytest.fixture(scope="module")
def html(site) -> str:
    return (site / "index.html").read_text(encoding="utf-8").replace("&#39;", "'")


def first_section(html: str) -> str:
    start = html.index("<h1>")
    return html[start : html.index("</section>", start)]


def test_the_expected_delay_of_every_departement_comes_first(html):
    section = first_section(html)
    assert "Quand vais-je recevoir mon autorisation ?" in section
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', section, re.S))
    routing = load_routing_table()
    in_scope = [f"{code} – {info.name}" for code, info in routing.departements.items() if info.in_scope]
    assert sorted(rows) == sorted(in_scope)  # every département, none left out, none outside the APT
    figures = [
        label
        for label, cells in rows.items()
        if re.match(r"<td>(moins|plus) de \d+ jours</td><td>(moins|plus) de \d+ jours</td>", cells)
    ]
    too_few = [
        label
        for label, cells in rows.items()
        if cells.startswith('<td colspan="2">Pas assez de demandes ces 12 derniers mois')
    ]
    assert sorted(figures + too_few) == sorted(rows)  # each row: a figure, or says why there is none
    assert "75 – Paris" in figures and "21 – Côte-d'Or" in too_few  # Côte-d'Or: a service open, no request
    # The table of contents follows it, and every entry leads somewhere on the page.
    contents = html[html.index('<nav class="sommaire') :]
    assert html.index('id="delai-attendu"') < html.index('<nav class="sommaire') < html.index('id="chiffres-cles"')
    targets = re.findall(r'href="#([^"]+)"', contents[: contents.index("</nav>")])
    assert len(targets) >= 8 and all(f'id="{target}"' in html for target in targets)


def test_months_read_janv_2026(site, html):
    tables = page_tables(site)
    months = [row[0] for table in tables if table["rows"][0][0] == "Mois" for row in table["rows"][1:]]
    months += [
        text for table in tables if table["rows"][0][-1].startswith("Total sur") for text in table["rows"][0][1:-1]
    ]
    assert len(months) >= 18 and [m for m in months if not re.fullmatch(MONTH, m)] == []
    assert not re.search(r"(janv|févr|avr|juil|sept|oct|nov|déc)\. \d\d\b(?!\d)", html)  # never « janv. 26 »
    assert not re.search(r">20\d\d-\d\d<", html)


def test_delays_are_whole_days_with_one_definition(site, html):
    delays = [
        row[i]
        for table in page_tables(site)
        for i, header in enumerate(table["rows"][0])
        if header.startswith("Délai")
        for row in table["rows"][1:]
    ]
    assert delays and all(re.fullmatch(r"\d+|masqué|–", text) for text in delays), delays
    assert any(text.isdigit() for text in delays)
    expected = re.findall(r"<td>((?:moins|plus) de [^<]*)</td>", first_section(html))
    assert expected and all(re.fullmatch(r"(moins|plus) de \d+ jours", text) for text in expected)
    # One delay: deposit to acceptance or refusal, defined once; no median of another population.
    assert html.count("<dt>Délai de décision</dt>") == 1 and "médian" not in html
    definition = html[html.index("<dt>Délai de décision</dt>") :]
    assert "entre le dépôt de la demande et la décision, acceptation ou refus" in definition[:300]
    assert "jours entiers" in definition[:600]


def test_key_figures_say_their_period(html):
    figures = re.findall(r'<li><span class="valeur">([^<]+)</span>([^<]+)</li>', html)
    assert len(figures) >= 4
    for value, label in figures:
        assert re.search(
            r"depuis (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
            r"décembre) 20\d\d|au 15 novembre 2026",
            label,
        ), label
        assert "," not in value or "%" in value  # days and counts are whole numbers


def test_long_breakdowns_wait_behind_a_disclosure(html):
    for section in ("par-departement", "par-service", "decisions-par-service", "attente-par-service", "par-mois"):
        body = html[html.index(f'<section id="{section}"') :]
        body = body[: body.index("</section>")]
        assert "<details" in body and body.index("<details") < body.index("<table")
