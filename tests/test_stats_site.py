"""The static site renders from a database of many synthetic dossiers."""

from __future__ import annotations

import csv
import json
import re

import jsonschema
import pytest

from stats.site import SCHEMA_PATH, generate
from tests.stats_fixtures import insert, synthetic, utc

AS_OF = utc("2026-11-15T12:00")


@pytest.fixture
def site(sessions, engine, tmp_path):
    insert(sessions, synthetic(600))
    out = tmp_path / "site"
    generate(engine, out, AS_OF)
    return out


def test_site_files_are_written(site):
    names = sorted(path.name for path in site.iterdir())
    assert names == sorted(
        [
            "index.html",
            "stats.json",
            "totaux.csv",
            "par-mois.csv",
            "par-departement.csv",
            "par-service.csv",
            "par-type-de-contrat.csv",
            "decisions-par-service.csv",
            "en-attente-par-service.csv",
            "accessibilite.html",
            "mentions-legales.html",
            "donnees-personnelles.html",
            "contact.html",
            "dsfr",
        ]
    )


def test_stats_json_validates_against_the_shipped_schema(site):
    document = json.loads((site / "stats.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))).validate(document)
    assert document["as_of_month"] == "2026-11"


def test_schema_rejects_a_small_count():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    row = {"key": "75", "values": {"deposited": -1}, "suppressed": []}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(row, {**schema, "$ref": "#/$defs/row"})


def test_suppressed_cells_are_null_and_flagged_in_json(site):
    document = json.loads((site / "stats.json").read_text(encoding="utf-8"))
    rows = [row for table in document["tables"].values() for row in table]
    flagged = [(row, m) for row in rows for m in row["suppressed"]]
    assert flagged, "the synthetic data has rare groups: some cells must be suppressed"
    assert all(row["values"][m] is None for row, m in flagged)
    counts = ("deposited", "accepted", "refused", "closed", "in_progress")
    shown = [row["values"][m] for row in rows for m in counts if row["values"].get(m) is not None]
    grids = [row for name in ("decisions_by_service", "backlog_by_service") for row in document["tables"][name]]
    shown += [value for row in grids for value in row["values"].values() if value is not None]
    assert min(shown) >= 5
    assert list(document["grid_columns"]["backlog_by_service"])[-1] == "total"


def test_csv_files_leave_suppressed_cells_empty_with_a_flag(site):
    with open(site / "par-departement.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    corse = next(row for row in rows if row["departement"] == "2A")
    assert corse["acceptes_secret"] == "1" and corse["acceptes"] == ""
    paris = next(row for row in rows if row["departement"] == "75")
    assert paris["deposes_secret"] == "0" and int(paris["deposes"]) >= 5


def test_page_is_french_and_self_contained(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    assert "nov. 2026" in html and "15 novembre 2026" in html
    assert ">masqué<" in html  # suppressed cells
    assert "\u202f%" in html  # French percent format
    assert html.count('<figure class="graphique"') >= 1 and html.count("<table") >= 6
    # No external resource: what the page loads (the DSFR's stylesheet, the favicons) is a file of the site.
    assert "<script" not in html and "<svg" not in html
    loaded = re.findall(r'<link [^>]*href="([^"]+)"', html)
    assert "dsfr/dsfr.min.css" in loaded
    assert all((site / href).is_file() for href in loaded), loaded


def test_no_personal_data_in_any_output(site):
    text = "".join(path.read_text(encoding="utf-8") for path in site.iterdir() if path.is_file())
    assert "Nomtest" not in text and "Prénomtest" not in text and "@example.test" not in text
    assert "Algérie" not in text  # nationalities stay in the agents' report


def test_empty_database_renders_a_valid_page(engine, tmp_path):
    generate(engine, tmp_path / "empty", AS_OF)
    document = json.loads((tmp_path / "empty" / "stats.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    assert document["tables"]["totals"][0]["values"]["deposited"] is None
    assert "<h1>" in (tmp_path / "empty" / "index.html").read_text(encoding="utf-8")


def test_the_first_of_the_month_reads_premier(engine, tmp_path):
    from stats.site import as_of_label

    assert as_of_label(utc("2026-11-30T23:30")) == "1er décembre 2026"  # Paris time
    assert as_of_label(utc("2026-11-15T12:00")) == "15 novembre 2026"
    generate(engine, tmp_path / "first", utc("2026-12-01T06:00"))
    assert "Chiffres arrêtés au 1er décembre 2026" in (tmp_path / "first" / "index.html").read_text(encoding="utf-8")


def test_departements_are_named_next_to_their_code(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert '<th scope="row">75 – Paris</th>' in html and "2A – Corse-du-Sud" in html
    rows = list(csv.DictReader(open(site / "par-departement.csv", encoding="utf-8")))
    assert {row["departement"] for row in rows} >= {"75", "2A"}  # open data keeps the codes


def test_each_chart_has_a_text_alternative_reading_every_bar(sessions, engine):
    import re

    from stats.site import compute, trend_chart

    insert(sessions, synthetic(600))
    chart = trend_chart(compute(engine, AS_OF))
    values = re.findall(r'<span class="serie">([^<]+)</span>.*?<span class="nombre">([^<]+)</span>', chart)
    alternative = re.search(r'<p class="texte-alternatif" id="graphique-tendance-texte">([^<]+)</p>', chart).group(1)
    assert len(values) == 36  # 12 months × 3 series
    groups = alternative.rstrip(".").split(" ; ")
    bars = [bar for group in groups for bar in group.split(" : ", 1)[1].split(", ")]
    assert bars == [f"{name} {value}" for name, value in values]
    assert 'role="img" aria-labelledby="graphique-tendance-titre" aria-describedby="graphique-tendance-texte"' in chart


def test_grid_csv_files_follow_the_json(site):
    document = json.loads((site / "stats.json").read_text(encoding="utf-8"))
    with open(site / "decisions-par-service.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["service"] for row in rows] == [row["key"] for row in document["tables"]["decisions_by_service"]]
    assert list(rows[0])[1:3] == ["decisions_2026_05", "decisions_2026_05_secret"]  # 6 complete months
    for row, source in zip(rows, document["tables"]["decisions_by_service"], strict=False):
        assert row["total"] == ("" if source["values"]["total"] is None else str(source["values"]["total"]))
        assert row["total_secret"] == ("1" if "total" in source["suppressed"] else "0")
    with open(site / "en-attente-par-service.csv", encoding="utf-8") as handle:
        assert "en_instruction_60_jours_et_plus_secret" in next(csv.reader(handle))


def test_wide_tables_can_be_scrolled_from_the_keyboard(site):
    import re

    html = (site / "index.html").read_text(encoding="utf-8")
    wrappers = re.findall(r'<div class="tableau"([^>]*)>', html)
    assert len(wrappers) == html.count("<table") and all('tabindex="0"' in w and 'role="region"' in w for w in wrappers)


def test_the_service_tables_are_on_the_page_with_their_national_row(site):
    from stats.site import service_label

    html = (site / "index.html").read_text(encoding="utf-8")
    for section in ("decisions-par-service", "attente-par-service"):
        start = html.index(f'<section id="{section}"')
        body = html[start : html.index("</section>", start)]
        assert '<tr class="ensemble"><th scope="row">Ensemble</th>' in body and "masqué" in body
    assert "En instruction, 60 jours ou plus" in html and "Total sur 6 mois" in html
    assert service_label("Service de la main-d'œuvre étrangère de Paris") == "MOE 75 – Paris"
    assert service_label("À orienter manuellement") == "À orienter manuellement"
