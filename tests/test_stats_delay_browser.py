"""« Quand vais-je recevoir mon autorisation ? » in Chromium: on a computer (1280 px) and a phone (390 px), the
expected delay of any département is within the first two screens of the page once its list is opened, with one
click on a summary that is itself within them. Debian's Chromium through tests/browser.py."""

from __future__ import annotations

import pytest

from mappings.routing import load_routing_table
from stats.site import generate
from tests.stats_fixtures import insert, utc
from tests.test_stats_disclosure import varied

pytestmark = pytest.mark.browser

DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
# Page coordinates of an element's bottom edge.
BOTTOM = "e => e.getBoundingClientRect().bottom + window.scrollY"


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    from core.db import make_engine, session_factory
    from core.models import Base

    folder = tmp_path_factory.mktemp("stats-delay-browser")
    engine = make_engine(f"sqlite:///{folder / 'stats.db'}")
    Base.metadata.create_all(engine)
    insert(session_factory(engine), varied(400, 5))
    generate(engine, folder / "site", utc("2026-11-15T12:00"))
    engine.dispose()
    return (folder / "site" / "index.html").as_uri()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_the_delay_of_any_departement_is_within_two_screens(open_page, page_url, viewport):
    page = open_page(page_url, **viewport)
    two_screens = 2 * viewport["height"]
    routing = load_routing_table()
    wanted = {f"{code} – {info.name}" for code, info in routing.departements.items() if info.in_scope}
    seen = set()
    summaries = page.locator("#delai-attendu details > summary")
    assert summaries.count() >= 10
    for index in range(summaries.count()):
        summary = summaries.nth(index)
        assert summary.evaluate(BOTTOM) <= two_screens, summary.inner_text()
        summary.click()
        rows = page.locator("#delai-attendu details[open] tbody tr")
        for row in range(rows.count()):
            cells = rows.nth(row).locator("th, td")
            name = cells.nth(0).inner_text()
            delay = cells.nth(1)  # the half-of-requests figure, or why there is none
            assert delay.is_visible() and delay.inner_text().strip(), name
            assert delay.evaluate(BOTTOM) <= two_screens, (name, delay.evaluate(BOTTOM))
            seen.add(name)
        summary.click()  # closed again: the next list opens where it stood
    assert seen == wanted
