"""Headless Chromium for the tests, through Playwright for Python.

Playwright drives Debian's /usr/bin/chromium (`executable_path`): no browser
is downloaded, and `playwright install` is never run. One browser per test
session; `open_page(url, width, height)` gives a page in a fresh context,
closed after the test. Both skip the test when /usr/bin/chromium is absent.

`run_axe(page)` runs axe-core from npm (`node_modules/axe-core`, installed by `npm ci` with the
DSFR): the script is evaluated over the DevTools protocol, which a page's CSP does not restrict,
so the pages keep forbidding every script of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from core.db import make_engine, session_factory
from core.models import Base, ValidityRecord
from validity.derive import birth_date_hash

CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        running = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield running
        running.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_(url: str, width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


def run_axe(page: Page, tags: list[str] = AXE_TAGS) -> dict:
    """axe-core's results for the page, restricted to `tags`."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} not found: run `npm ci` at the repository's root")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    return page.evaluate("options => axe.run(document, options)", {"runOnly": {"type": "tag", "values": tags}})


def violations(results: dict) -> list[dict]:
    """The violations, short enough to read in an assertion's message."""
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [" ".join(map(str, n["target"])) for n in v["nodes"]][:3]}
        for v in results["violations"]
    ]


def one_validity_record(database: Path, pepper: bytes, number: int) -> Engine:
    """A validity database holding one authorisation, in force from 5 January to 31 December 2026, of a student born
    on 21 March 2001."""
    engine = make_engine(f"sqlite:///{database}")
    Base.metadata.create_all(engine)
    with session_factory(engine)() as session, session.begin():
        session.add(
            ValidityRecord(
                dossier_number=number,
                birth_date_hash=birth_date_hash(pepper, number, date(2001, 3, 21)),
                masked_name="Ka*** Be***",
                siret="73282932000074",
                apt_start=date(2026, 1, 5),
                apt_end=date(2026, 12, 31),
                state="valid",
                updated_at=datetime(2026, 5, 1, tzinfo=UTC),
            )
        )
    return engine


@contextmanager
def served(app) -> Iterator[str]:
    """A WSGI app under waitress on a free localhost port, as in production; its URL."""
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=2, ident="")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Closing every channel (chromium keeps connections alive) ends the loop.
        wasyncore.close_all(server._map)
        server.task_dispatcher.shutdown()
        thread.join(timeout=5)
