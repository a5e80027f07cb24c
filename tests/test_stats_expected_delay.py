"""The stats page's « Quand vais-je recevoir mon autorisation ? » block: per département, from known times."""
from __future__ import annotations

import re
from datetime import timedelta

from stats.site import generate
from tests.stats_fixtures import dossier, insert, utc

AS_OF = utc("2026-11-15T12:00")


def rows(html: str) -> dict[str, tuple[str, str]]:
    table = re.search(r'<table id="tableau-delai-attendu">(.*?)</table>', html, re.S).group(1)
    return {label: (nine, half) for label, nine, half in
            re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>', table)}


def test_the_stats_page_shows_the_expected_delay_per_departement(sessions, engine, tmp_path):
    known = []
    # Hauts-de-Seine: ten decisions taken 1 to 10 days (and 6 hours) after the deposit.
    for index, days in enumerate(range(1, 11)):
        decided = AS_OF - timedelta(days=3 + index)
        known.append(dossier(1 + index, "accepte" if index % 3 else "refuse", decided - timedelta(days=days, hours=6),
                             decided, departement="92", service="Hauts-de-Seine"))
    # Bouches-du-Rhône: four decisions only; and one older than 90 days, one classée sans suite.
    known += [dossier(20 + i, "accepte", AS_OF - timedelta(days=9), AS_OF - timedelta(days=5), departement="13")
              for i in range(4)]
    known.append(dossier(30, "accepte", AS_OF - timedelta(days=200), AS_OF - timedelta(days=120), departement="13"))
    known.append(dossier(31, "sans_suite", AS_OF - timedelta(days=20), AS_OF - timedelta(days=2), departement="13"))
    insert(sessions, known)
    generate(engine, tmp_path, AS_OF)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Quand vais-je recevoir mon autorisation ?" in html
    assert rows(html) == {
        "13 – Bouches-du-Rhône": ("n.d.", "n.d."),  # fewer than 5 decisions: no figure
        "92 – Hauts-de-Seine": ("moins de 10 jours", "moins de 6 jours"),
    }
