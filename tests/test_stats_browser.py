"""The stats page in headless Chromium: charts and tables are visible, on a desktop and a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from stats.site import generate
from tests.stats_fixtures import insert, synthetic, utc

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

VISIBLE = """(selector) => Array.from(document.querySelectorAll(selector)).filter(e => {
  const box = e.getBoundingClientRect(); const style = getComputedStyle(e);
  return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
}).length"""


@pytest.mark.browser
def test_charts_and_tables_are_visible(open_page, sessions, engine, tmp_path):
    insert(sessions, synthetic(600))
    generate(engine, tmp_path / "site", utc("2026-11-15T12:00"))
    url = (tmp_path / "site" / "index.html").as_uri()

    page = open_page(url, width=1280, height=900)
    assert page.evaluate(VISIBLE, ".graphique") >= 1
    assert page.evaluate(VISIBLE, "table") >= 2  # the long breakdowns wait behind a <details>
    assert page.evaluate(VISIBLE, ".graphique .remplissage") > 20
    assert page.evaluate("document.querySelector('h1').textContent").startswith("Statistiques")
    page.screenshot(path=ARTIFACTS / "stats-index.png", full_page=True)

    phone = open_page(url, width=375, height=800)
    # Wide tables scroll inside their box: the page itself does not overflow a phone screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 376
    assert phone.evaluate(VISIBLE, ".graphique") >= 1
    phone.screenshot(path=ARTIFACTS / "stats-index-phone.png", full_page=True)


@pytest.mark.browser
def test_page_from_the_seeded_sandbox(open_page, make_sandbox, ds_client_for, sessions, engine, tmp_path):
    import json

    import jsonschema

    from tests.sync_helpers import make_syncer

    server = make_sandbox(dossiers=400, seed=2)
    make_syncer(ds_client_for(server), sessions).sync(1)
    generate(engine, tmp_path / "site")
    figures = json.loads((tmp_path / "site" / "stats.json").read_text())
    schema = json.loads((Path(__file__).resolve().parent.parent / "stats" / "stats.schema.json").read_text())
    jsonschema.validate(figures, schema)

    page = open_page((tmp_path / "site" / "index.html").as_uri(), width=1280, height=900)
    assert page.evaluate(VISIBLE, ".graphique") >= 1
    assert page.evaluate(VISIBLE, "table") >= 2
    (totals,) = figures["tables"]["totals"]
    assert totals["values"]["deposited"] == len(server.store.visible_dossiers(1))
    assert "completion_days_median" not in totals["values"]
    page.screenshot(path=ARTIFACTS / "stats-index-sandbox.png", full_page=True)
