"""The statistics page as people use it, in real Chromium through Playwright: axe finds no
violation on a desktop (1280 px) and a phone (390 px), chart text stays readable on the phone,
the skip link and the footer are there, and every table that scrolls sideways is reached and
scrolled from the keyboard.

Debian's Chromium through the session's browser fixture (tests/browser.py); axe-core from npm
(tests.browser.run_axe). One generated site for the module.
"""

from __future__ import annotations

import pytest

from core.db import make_engine, session_factory
from core.models import Base
from stats.site import generate
from tests.browser import run_axe, violations
from tests.stats_fixtures import insert, synthetic, utc

pytestmark = pytest.mark.browser

DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats-browser")
    engine = make_engine(f"sqlite:///{folder / 'stats.db'}")
    Base.metadata.create_all(engine)
    insert(session_factory(engine), synthetic(600))
    generate(engine, folder / "site", utc("2026-11-15T12:00"))
    engine.dispose()
    return (folder / "site" / "index.html").as_uri()


@pytest.fixture
def open_stats(open_page, page_url):
    """The generated page at a viewport, in a fresh context of the session's browser."""
    return lambda viewport: open_page(page_url, **viewport)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_axe_finds_no_violation(open_stats, viewport):
    page = open_stats(viewport)
    results = run_axe(page)
    assert violations(results) == []
    assert len(results["passes"]) > 20  # axe did run its rules on the page


def test_chart_text_is_at_least_12_css_px_on_a_phone(open_stats):
    page = open_stats(PHONE)
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll('.graphique *'))
        .filter(e => Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
        .filter(e => e.getBoundingClientRect().width > 1)
        .map(e => [e.className || e.tagName, parseFloat(getComputedStyle(e).fontSize)])""")
    assert len(sizes) > 80  # labels, series names and values of the chart
    assert min(size for _, size in sizes) >= 12, sorted(sizes, key=lambda s: s[1])[:3]
    # And the page itself never scrolls sideways on the phone: only the tables do.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_each_chart_has_a_text_alternative_with_the_same_figures(open_stats):
    page = open_stats(PHONE)
    charts = page.evaluate("""() => Array.from(document.querySelectorAll('.graphique [role=img]')).map(img => ({
        name: document.getElementById(img.getAttribute('aria-labelledby')).textContent,
        text: document.getElementById(img.getAttribute('aria-describedby')).textContent,
        bars: Array.from(img.querySelectorAll('.barre')).map(b =>
            b.querySelector('.serie').textContent + ' ' + b.querySelector('.nombre').textContent)}))""")
    assert len(charts) >= 1
    for chart in charts:
        assert chart["name"] and chart["bars"]
        read = [bar for group in chart["text"].rstrip(".").split(" ; ") for bar in group.split(" : ", 1)[1].split(", ")]
        assert read == chart["bars"], chart["name"]


def test_the_skip_link_is_first_and_goes_to_the_content(open_stats):
    page = open_stats(PHONE)
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const a = document.activeElement; const box = a.getBoundingClientRect();
        return [a.tagName, a.getAttribute('href'), a.textContent, box.width > 1 && box.height > 1]; }""")
    assert focused == ["A", "#contenu", "Aller au contenu", True]  # visible once focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    assert page.evaluate("document.activeElement.tagName") == "MAIN"


def test_the_footer_carries_the_mentions(open_stats):
    page = open_stats(DESKTOP)
    footer = page.locator("body > footer")
    assert footer.count() == 1 and footer.is_visible()
    text = footer.inner_text()
    assert "Aucune donnée personnelle n'est publiée" in text and "Licence Ouverte" in text
    assert "Chiffres arrêtés au 15 novembre 2026" in text


def test_tables_wider_than_a_phone_are_reached_and_scrolled_from_the_keyboard(open_stats):
    page = open_stats(PHONE)
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('.tableau'))
        .filter(box => box.checkVisibility() && box.scrollWidth > box.clientWidth)
        .map(box => box.querySelector('table').id)""")
    assert len(wide) >= 2  # the tables shown (the long ones wait behind a « Afficher le tableau »)
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        table_id = page.evaluate(
            "document.activeElement.classList.contains('tableau') ? "
            "document.activeElement.querySelector('table').id : null"
        )
        if table_id in wide and table_id not in reached:
            reached.append(table_id)
            page.keyboard.press("ArrowRight")  # Chromium scrolls smoothly: wait for it
            page.wait_for_function("document.activeElement.scrollLeft > 0", timeout=3000)
    assert reached == wide
