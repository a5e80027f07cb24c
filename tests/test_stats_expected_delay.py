"""The stats page's « Quand vais-je recevoir mon autorisation ? » block: every département, the estimate of the
service that handles its requests, from known times (page and stats.json)."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from stats.site import generate
from tests.stats_fixtures import dossier, insert, utc

AS_OF = utc("2026-11-15T12:00")
HAUTS_DE_SEINE = "Service de la main-d'œuvre étrangère des Hauts-de-Seine"
BOUCHES_DU_RHONE = "Service de la main-d'œuvre étrangère des Bouches-du-Rhône"


def rows(html: str) -> dict[str, tuple[str, str]]:
    table = re.search(r'<table id="tableau-delai-attendu">(.*?)</table>', html, re.S).group(1)
    return {label: (service, " ".join(text.split())) for label, service, text in
            re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>', table)}


def test_the_stats_page_shows_every_departements_expected_delay(sessions, engine, tmp_path):
    known = []
    # Hauts-de-Seine: ten decisions taken 1 to 10 days (and 6 hours) after the deposit.
    for index, days in enumerate(range(1, 11)):
        decided = AS_OF - timedelta(days=3 + index)
        known.append(dossier(1 + index, "accepte" if index % 3 else "refuse", decided - timedelta(days=days, hours=6),
                             decided, departement="92", service=HAUTS_DE_SEINE))
    # Bouches-du-Rhône: four dossiers deposited in the year; one older, decided, out of the cohort.
    known += [dossier(20 + i, "accepte", AS_OF - timedelta(days=9), AS_OF - timedelta(days=5), departement="13",
                      service=BOUCHES_DU_RHONE) for i in range(4)]
    known.append(dossier(30, "accepte", AS_OF - timedelta(days=500), AS_OF - timedelta(days=420), departement="13",
                         service=BOUCHES_DU_RHONE))
    insert(sessions, known)
    generate(engine, tmp_path, AS_OF)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Quand vais-je recevoir mon autorisation ?" in html
    found = rows(html.replace("&#39;", "'"))
    assert found["92 – Hauts-de-Seine"] == (HAUTS_DE_SEINE, (
        "La moitié des demandes reçoivent une décision en moins de 6 jours, et 9 sur 10 en moins de 10 jours. "
        "Estimation sur les 10 demandes déposées ces 12 derniers mois, décidées ou non (dont 0 encore en attente)."))
    assert found["13 – Bouches-du-Rhône"] == (BOUCHES_DU_RHONE, (
        "Non estimé : trop peu de demandes ont été déposées ces 12 derniers mois (moins de 5) pour estimer un délai."))
    # A département whose service is not open yet: its requests are oriented by hand, and the page says so.
    assert found["01 – Ain"][0] == "À orienter manuellement"
    assert len(found) >= 100  # every département of the procedure has its row

    document = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    by_departement = {row["departement"]: row for row in document["expected_delay"]}
    assert {k: by_departement["92 – Hauts-de-Seine"][k] for k in ("dossiers", "half_within_days",
                                                                   "nine_in_ten_within_days", "window_months")} == {
        "dossiers": 10, "half_within_days": 6, "nine_in_ten_within_days": 10, "window_months": 12}
    # Four dossiers: a count under the small-count threshold is not published.
    assert by_departement["13 – Bouches-du-Rhône"]["dossiers"] is None
