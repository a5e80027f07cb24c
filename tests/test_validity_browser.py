"""Accessibility of the public page in headless Chromium.

The app runs under waitress on a real localhost port, as in production.
axe-core comes from npm (tests.browser.run_axe), evaluated over the DevTools
protocol, which the page's CSP does not restrict, so the page itself keeps
forbidding every script. Keyboard order and focus visibility, which axe does
not judge, are checked by pressing Tab.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.db import session_factory
from core.settings import ValiditySettings
from tests.browser import AXE_TAGS, one_validity_record, served, violations
from tests.browser import run_axe as axe_results
from validity.app import create_app

pytestmark = pytest.mark.browser

PEPPER = b"browser-test-pepper-" + b"w" * 32
NUMBER = 7770001
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    engine = one_validity_record(tmp_path_factory.mktemp("validity") / "browser.db", PEPPER, NUMBER)
    app = create_app(session_factory(engine), ValiditySettings(pepper=PEPPER), today=lambda: date(2026, 6, 1))
    with served(app) as url:
        yield url
    engine.dispose()


def run_axe(page) -> list[dict]:
    result = axe_results(page)
    assert result["toolOptions"]["runOnly"]["values"] == AXE_TAGS
    return violations(result)


def submit(page, number: str, birth_date: str) -> None:
    page.fill("#numero", number)
    page.fill("#date_naissance", birth_date)
    with page.expect_navigation():
        page.click("form button")


def press_tab(page) -> dict:
    page.keyboard.press("Tab")
    return page.evaluate(
        # The DSFR draws an enlarged link's focus (the header's) on its ::before, around the whole block.
        "() => { const e = document.activeElement;"
        " const ring = s => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;"
        " return {id: e.id, tag: e.tagName.toLowerCase(), text: e.textContent.trim(),"
        " outline: ring(getComputedStyle(e)) || ring(getComputedStyle(e, '::before'))}; }"
    )


@pytest.mark.parametrize(
    "number, birth_date, name",
    [
        (None, None, "form"),
        (str(NUMBER), "21/03/2001", "valid"),
        (str(NUMBER), "22/03/2001", "not-valid"),
        ("abc", "", "errors"),
    ],
)
def test_page_passes_axe(open_page, server_url, number, birth_date, name):
    page = open_page(server_url + "/")
    if number is not None:
        submit(page, number, birth_date)
    assert run_axe(page) == []
    page.screenshot(path=ARTIFACTS / f"validity-{name}.png", full_page=True)


def test_keyboard_order_and_visible_focus(open_page, server_url):
    page = open_page(server_url + "/")
    focused = [press_tab(page) for _ in range(6)]
    assert [item["text"] if item["tag"] == "a" else item["id"] or item["tag"] for item in focused] == [
        "Aller au contenu",
        "Aller au pied de page",
        "Work in France",  # the header's link to this page, as the DSFR's header has it
        "numero",
        "date_naissance",
        "button",
    ]
    assert [item["outline"] for item in focused] == [True] * 6, focused


def test_errors_link_to_their_field(open_page, server_url):
    page = open_page(server_url + "/")
    submit(page, "abc", "")
    targets = page.evaluate(
        "[...document.querySelectorAll('#resultat a')].map(a => document.querySelector(a.getAttribute('href')).id)"
    )
    assert targets == ["numero", "date_naissance"]


def test_no_script_runs_in_the_page(open_page, server_url):
    page = open_page(server_url + "/")
    assert page.evaluate("document.scripts.length") == 0
    # The CSP really applies: an injected inline script is refused.
    blocked = page.evaluate(
        "() => { window.ran = false; const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.appendChild(s); return window.ran; }"
    )
    assert blocked is False
