"""Both public pages as the State publishes them, in Debian's Chromium at a phone's 390 px and a computer's 1280 px:
the DSFR's stylesheet and Marianne really apply, axe finds nothing, nothing scrolls sideways, and every link of the
footer is there and leads somewhere: each mandatory page is a file of the static site and a 200 of the validity app,
the statistics link to the running validity check, both link to the démarche and to « Suivre mon dossier ».

One statistics site and one validity app (waitress on a real port) for the module; the session's browser.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from core.db import make_engine, session_factory
from core.models import Base
from core.settings import PagesSettings, Settings, ValiditySettings
from core.web.layout import site_context
from stats.site import generate
from tests.browser import one_validity_record, run_axe, served, violations
from tests.stats_fixtures import insert, synthetic, utc
from validity.app import create_app

pytestmark = pytest.mark.browser

PEPPER = b"public-pages-pepper-" + b"p" * 32
NUMBER = 7770002
VIEWPORTS = {"390px": {"width": 390, "height": 844}, "1280px": {"width": 1280, "height": 900}}
MANDATORY = ["Accessibilité : non conforme", "Mentions légales", "Données personnelles", "Contact"]
DEMARCHE = "https://www.demarches-simplifiees.fr/commencer/apt-etudiant-etranger"
FOLLOW = "https://www.demarches-simplifiees.fr/dossiers"


@pytest.fixture(scope="module")
def validity_url(tmp_path_factory):
    engine = one_validity_record(tmp_path_factory.mktemp("public-validity") / "v.db", PEPPER, NUMBER)
    settings = Settings(validity=ValiditySettings(pepper=PEPPER))
    site = site_context(settings, static=False, demarche_path="apt-etudiant-etranger")
    app = create_app(session_factory(engine), settings.validity, today=lambda: date(2026, 6, 1), site=site)
    with served(app) as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def stats_site(tmp_path_factory, validity_url) -> Path:
    folder = tmp_path_factory.mktemp("public-stats")
    engine = make_engine(f"sqlite:///{folder / 'stats.db'}")
    Base.metadata.create_all(engine)
    insert(session_factory(engine), synthetic(300))
    settings = Settings(pages=PagesSettings(validity_url=validity_url))
    site = site_context(settings, static=True, demarche_path="apt-etudiant-etranger")
    generate(engine, folder / "site", utc("2026-11-15T12:00"), site)
    engine.dispose()
    return folder / "site"


@pytest.fixture(scope="module")
def urls(stats_site, validity_url) -> dict[str, str]:
    return {"stats": (stats_site / "index.html").as_uri(), "validity": validity_url + "/"}


def footer_links(page) -> dict[str, list[list[str]]]:
    return page.evaluate("""() => Object.fromEntries(['top', 'bottom'].map(part => [part,
        Array.from(document.querySelectorAll(`footer .fr-footer__${part}-list a`))
            .map(a => [a.textContent.trim(), a.href])]))""")


def resolves(href: str, stats_site: Path) -> bool:
    """A file of the static site, or a page the app (or any http server of the test) answers with 200."""
    if href.startswith("file://"):
        return Path(urlsplit(href).path).is_file() and Path(urlsplit(href).path).is_relative_to(stats_site)
    return requests.get(href, timeout=10).status_code == 200


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
@pytest.mark.parametrize("which", ["stats", "validity"])
def test_the_page_wears_the_dsfr_passes_axe_and_fits_the_screen(open_page, urls, which, viewport):
    size = VIEWPORTS[viewport]
    page = open_page(urls[which], **size)
    # Awaited through the devtools protocol: wait_for_function polls with eval, which the page's CSP forbids.
    assert page.evaluate("() => document.fonts.ready.then(() => document.fonts.status)") == "loaded"
    looks = page.evaluate("""() => {
        const style = selector => getComputedStyle(document.querySelector(selector));
        return {font: style('body').fontFamily, marianne: document.fonts.check('1rem Marianne'),
                footer: style('.fr-footer').boxShadow, logo: style('.fr-logo').textTransform};
    }""")
    # The DSFR's own values: Marianne loaded from the site, the footer's blue France line, the bloc-marque.
    assert looks["font"].startswith("Marianne") and looks["marianne"], looks
    assert "rgb(0, 0, 145)" in looks["footer"] and looks["logo"] == "uppercase", looks
    assert page.locator("header .fr-logo").inner_text().split() == ["RÉPUBLIQUE", "FRANÇAISE"]
    assert page.locator("header .fr-header__service-title").inner_text() == "Work in France"
    assert violations(run_axe(page)) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


@pytest.mark.parametrize("which", ["stats", "validity"])
def test_every_link_of_the_footer_is_there_and_leads_somewhere(open_page, urls, stats_site, validity_url, which):
    page = open_page(urls[which], **VIEWPORTS["1280px"])
    links = footer_links(page)
    assert [text for text, _ in links["bottom"]] == MANDATORY
    top = dict(links["top"])
    assert top["Déposer une demande sur demarches-simplifiees.fr"] == DEMARCHE
    assert top["Suivre mon dossier"] == FOLLOW
    assert top["Vérifier une autorisation (employeurs)"] == validity_url + "/"
    if which == "stats":  # the validity check links to the statistics only when told where they are (WIF_STATS_URL)
        assert top["Statistiques"] == urls["stats"]
    ours = [href for _, href in links["bottom"]] + [top["Vérifier une autorisation (employeurs)"]]
    assert [href for href in ours if not resolves(href, stats_site)] == []


@pytest.mark.parametrize("which", ["stats", "validity"])
def test_each_mandatory_page_passes_axe_on_a_phone_and_says_what_it_must(open_page, urls, which):
    home = open_page(urls[which], **VIEWPORTS["390px"])
    hrefs = [href for _, href in footer_links(home)["bottom"]]
    said = {}
    for href in hrefs:
        page = open_page(urljoin(urls[which], href), **VIEWPORTS["390px"])
        assert violations(run_axe(page)) == [], href
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, href
        said[page.locator("h1").inner_text()] = page.locator("main").inner_text()
    assert list(said) == ["Déclaration d'accessibilité", "Mentions légales", "Données personnelles", "Contact"]
    assert "Work in France est non conforme avec le référentiel général" in said["Déclaration d'accessibilité"]
    assert "Aucun audit de conformité au RGAA n'a encore été réalisé" in said["Déclaration d'accessibilité"]
    assert "Défenseur des droits" in said["Déclaration d'accessibilité"]
    legal = said["Mentions légales"]
    assert "Éditeur" in legal and "Directeur de la publication" in legal and "Hébergement" in legal
    privacy = said["Données personnelles"]
    assert "ne sont ni enregistrés, ni écrits dans les journaux" in privacy and "90 jours" in privacy
    assert "CNIL" in privacy


def test_the_answer_fits_its_box_on_a_phone(open_page, urls):
    page = open_page(urls["validity"], **VIEWPORTS["390px"])
    page.fill("#numero", str(NUMBER))
    page.fill("#date_naissance", "21/03/2001")
    with page.expect_navigation():
        page.click("form button")
    assert page.locator("#resultat h2").inner_text() == "Autorisation en cours de validité"
    outside = page.evaluate("""() => { const box = document.querySelector('#resultat').getBoundingClientRect();
        return Array.from(document.querySelectorAll('#resultat *'))
            .filter(e => e.getBoundingClientRect().right > box.right).map(e => e.textContent.trim()); }""")
    assert outside == []


def test_the_validity_check_works_without_javascript(browser, urls):
    context = browser.new_context(java_script_enabled=False, viewport=VIEWPORTS["390px"])
    try:
        page = context.new_page()
        page.goto(urls["validity"])
        page.fill("#numero", "7770001")
        page.fill("#date_naissance", "21/03/2001")
        with page.expect_navigation():
            page.click("form button")
        assert page.locator("#resultat h2").inner_text() == "Aucune autorisation trouvée"
        assert page.locator(".fr-footer").is_visible()
    finally:
        context.close()
