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


def rows(html: str) -> dict[str, list[str]]:
    """The first section's rows: département → its cells (delays or what stands for them, basis, service)."""
    section = html[html.index('<section id="delai-attendu"') :]
    section = section[: section.index("</section>")]
    found = {}
    for label, cells in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', section, re.S):
        found[label] = [" ".join(text.split()) for text in re.findall(r"<td[^>]*>([^<]*)</td>", cells)]
    return found


def test_the_stats_page_shows_every_departements_expected_delay(sessions, engine, tmp_path):
    known = []
    # Hauts-de-Seine: ten decisions taken 1 to 10 days (and 6 hours) after the deposit.
    for index, days in enumerate(range(1, 11)):
        decided = AS_OF - timedelta(days=3 + index)
        known.append(
            dossier(
                1 + index,
                "accepte" if index % 3 else "refuse",
                decided - timedelta(days=days, hours=6),
                decided,
                departement="92",
                service=HAUTS_DE_SEINE,
            )
        )
    # Bouches-du-Rhône: four dossiers deposited in the year; one older, decided, out of the cohort.
    known += [
        dossier(
            20 + i,
            "accepte",
            AS_OF - timedelta(days=9),
            AS_OF - timedelta(days=5),
            departement="13",
            service=BOUCHES_DU_RHONE,
        )
        for i in range(4)
    ]
    known.append(
        dossier(
            30,
            "accepte",
            AS_OF - timedelta(days=500),
            AS_OF - timedelta(days=420),
            departement="13",
            service=BOUCHES_DU_RHONE,
        )
    )
    insert(sessions, known)
    generate(engine, tmp_path, AS_OF)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Quand vais-je recevoir mon autorisation ?" in html
    found = rows(html.replace("&#39;", "'"))
    assert found["92 – Hauts-de-Seine"] == ["moins de 6 jours", "moins de 10 jours", "10 demandes", HAUTS_DE_SEINE]
    assert found["13 – Bouches-du-Rhône"] == [
        "Pas assez de demandes ces 12 derniers mois pour estimer un délai",
        "moins de 5 demandes",
        BOUCHES_DU_RHONE,
    ]
    # A département whose service is not open yet: its requests are oriented by hand, and the page says so.
    assert found["01 – Ain"][-1] == "À orienter manuellement"
    assert len(found) >= 100  # every département of the procedure has its row

    document = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    by_departement = {row["departement"]: row for row in document["expected_delay"]}
    assert {
        k: by_departement["92 – Hauts-de-Seine"][k]
        for k in ("dossiers", "half_within_days", "nine_in_ten_within_days", "window_months")
    } == {"dossiers": 10, "half_within_days": 6, "nine_in_ten_within_days": 10, "window_months": 12}
    # Four dossiers: a count under the small-count threshold is not published.
    assert by_departement["13 – Bouches-du-Rhône"]["dossiers"] is None
