"""The statistics site as a reader meets it, on a synced database (the README's figures): the share of masked
cells in the published tables, how many départements have an expected delay or « pas assez de demandes », and the
page's height in Chromium at 1280 and 390 px (every <details> closed).

    wif sync --no-push   # on `wif sandbox --dossiers 2000`
    wif stats --out var/site
    python bench/stats_page_figures.py var/site
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COUNTS = ("deposes", "acceptes", "refuses", "classes_sans_suite", "en_cours")
GRIDS = ("decisions-par-service.csv", "en-attente-par-service.csv")


def masked_share(site: Path) -> tuple[int, int, int, int]:
    """(masked count cells, count cells, masked cells, cells) over every CSV the site writes."""
    counts = masked_counts = cells = masked = 0
    for path in sorted(site.glob("*.csv")):
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column, flag in row.items():
                    if not column.endswith("_secret"):
                        continue
                    cells += 1
                    masked += flag == "1"
                    if path.name in GRIDS or column.removesuffix("_secret") in COUNTS:
                        counts += 1
                        masked_counts += flag == "1"
    return masked_counts, counts, masked, cells


def delay_rows(html: str) -> tuple[int, int]:
    """(départements with an expected delay, départements where there are too few requests) in the first section."""
    section = html[html.index('<section id="delai-attendu"') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r'<tr><th scope="row">[^<]+</th>(.*?)</tr>', section, re.S)
    too_few = sum("Pas assez de demandes" in row for row in rows)
    return len(rows) - too_few, too_few


def page_heights(page: Path) -> dict[int, int]:
    from playwright.sync_api import sync_playwright

    heights = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            for width, height in ((1280, 900), (390, 844)):
                tab = browser.new_page(viewport={"width": width, "height": height})
                tab.goto(page.as_uri())
                heights[width] = tab.evaluate("document.documentElement.scrollHeight")
                tab.close()
        finally:
            browser.close()
    return heights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the folder `wif stats --out` wrote")
    args = parser.parse_args(argv)
    masked_counts, counts, masked, cells = masked_share(args.site)
    print(f"count cells masked: {masked_counts} of {counts} ({masked_counts / counts:.1%})")
    print(f"all cells masked (counts, rates, delays): {masked} of {cells} ({masked / cells:.1%})")
    html = (args.site / "index.html").read_text(encoding="utf-8")
    with_figure, too_few = delay_rows(html)
    print(f"expected delay: {with_figure} départements with a figure, {too_few} « pas assez de demandes »")
    for width, height in page_heights(args.site / "index.html").items():
        print(f"page height at {width} px: {height} px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
