"""Accessibility of the public page in headless Chromium.

The app runs under waitress on a real localhost port, as in production.
axe-core comes from the `axe-core-python` wheel (a PyPI package that ships
axe.min.js): no browser or script is downloaded at test time. It is injected
through the DevTools protocol, which the page's CSP does not restrict, so
the page itself keeps forbidding every script. Keyboard order and focus
visibility, which axe does not judge, are checked by pressing Tab.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path

import pytest

from core.db import make_engine, session_factory
from tests.browser import Chromium, find_chromium
from validity.app import create_app
from core.settings import ValiditySettings
from validity.derive import birth_date_hash
from core.models import Base, ValidityRecord

pytestmark = pytest.mark.browser

PEPPER = b"browser-test-pepper-" + b"w" * 32
NUMBER = 7770001
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture
def axe_source() -> str:
    try:
        return (resources.files("axe_core_python") / "axe.min.js").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        pytest.skip("axe-core-python is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def chromium():
    # One browser for the module: starting chromium costs more than the checks.
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    with Chromium(executable) as running:
        yield running


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    from waitress import wasyncore
    from waitress.server import create_server

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('validity') / 'browser.db'}")
    Base.metadata.create_all(engine)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        session.add(
            ValidityRecord(
                dossier_number=NUMBER,
                birth_date_hash=birth_date_hash(PEPPER, NUMBER, date(2001, 3, 21)),
                masked_name="Ka*** Be***",
                siret="73282932000074",
                apt_start=date(2026, 1, 5),
                apt_end=date(2026, 12, 31),
                state="valid",
                updated_at=datetime(2026, 5, 1, tzinfo=timezone.utc),
            )
        )
    app = create_app(sessions, ValiditySettings(pepper=PEPPER), today=lambda: date(2026, 6, 1))
    server = create_server(app, host="127.0.0.1", port=0, threads=2, ident="")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # Closing every channel (chromium keeps connections alive) ends the loop.
    wasyncore.close_all(server._map)
    server.task_dispatcher.shutdown()
    thread.join(timeout=5)
    engine.dispose()


def run_axe(page, axe_source: str) -> list[dict]:
    page.evaluate(axe_source + ";true")
    return page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: %r}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))"
        % AXE_TAGS
    )


def submit(page, number: str, birth_date: str) -> None:
    page.evaluate(
        f"document.getElementById('numero').value = {number!r};"
        f"document.getElementById('date_naissance').value = {birth_date!r};"
        "document.querySelector('form').submit(); true"
    )
    page._browser.wait_for_event("Page.loadEventFired", page._session)


def press_tab(page) -> dict:
    for event in ("rawKeyDown", "keyUp"):
        page.send(
            "Input.dispatchKeyEvent",
            {"type": event, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9, "nativeVirtualKeyCode": 9},
        )
    return page.evaluate(
        "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {id: e.id, tag: e.tagName.toLowerCase(), text: e.textContent.trim(),"
        " outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; })()"
    )


@pytest.mark.parametrize(
    "number, birth_date, name",
    [(None, None, "form"), (str(NUMBER), "21/03/2001", "valid"), (str(NUMBER), "22/03/2001", "not-valid"), ("abc", "", "errors")],
)
def test_page_passes_axe(chromium, server_url, axe_source, number, birth_date, name):
    page = chromium.open(server_url + "/")
    if number is not None:
        submit(page, number, birth_date)
    assert run_axe(page, axe_source) == []
    page.screenshot(ARTIFACTS / f"validity-{name}.png")


def test_keyboard_order_and_visible_focus(chromium, server_url):
    page = chromium.open(server_url + "/")
    focused = [press_tab(page) for _ in range(4)]
    assert [item["text"] if item["tag"] == "a" else item["id"] or item["tag"] for item in focused] == [
        "Aller au contenu",
        "numero",
        "date_naissance",
        "button",
    ]
    assert all(item["outline"] for item in focused)


def test_errors_link_to_their_field(chromium, server_url):
    page = chromium.open(server_url + "/")
    submit(page, "abc", "")
    targets = page.evaluate(
        "[...document.querySelectorAll('#resultat a')].map(a => document.querySelector(a.getAttribute('href')).id)"
    )
    assert targets == ["numero", "date_naissance"]


def test_no_script_runs_in_the_page(chromium, server_url):
    page = chromium.open(server_url + "/")
    assert page.evaluate("document.scripts.length") == 0
    # The CSP really applies: an injected inline script is refused.
    blocked = page.evaluate(
        "(() => { window.ran = false; const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.appendChild(s); return window.ran; })()"
    )
    assert blocked is False
