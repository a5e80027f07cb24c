"""The one layout of the public pages and the mandatory pages of a public website, for both sites.

`SiteContext` is everything layout.html and the mandatory pages may use. The static statistics site links its
pages as files (`accessibilite.html`) and finds the DSFR in `dsfr/` beside them; the validity app serves the same
pages at `/accessibilite`… and the DSFR under `/dsfr/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from core.settings import DSSettings, MailSettings, PagesSettings, Settings, ValiditySettings
from core.web import dsfr

SERVICE_NAME = "Work in France"
TAGLINE = "Autorisations provisoires de travail des étudiants étrangers"


@dataclass(frozen=True)
class MandatoryPage:
    slug: str  # the file name without .html, the app's path without /
    title: str  # the footer's link and the page's heading


MANDATORY_PAGES = (
    MandatoryPage("accessibilite", "Déclaration d'accessibilité"),
    MandatoryPage("mentions-legales", "Mentions légales"),
    MandatoryPage("donnees-personnelles", "Données personnelles"),
    MandatoryPage("contact", "Contact"),
)


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True)
class SiteContext:
    static: bool  # the statistics site's files, or the validity app
    demarche_url: str  # the démarche on DS, where a request is made
    follow_url: str  # the applicant's dossiers on DS
    validity_url: str  # "" when the statistics site is not told where the validity check is
    stats_url: str  # "" when the validity check is not told where the statistics are
    contact_email: str  # "" when no address is given
    publisher: str
    publisher_address: str
    publication_director: str
    hosting: str
    data_protection_contact: str
    accessibility_status: str
    accessibility_date: str
    accessibility_audit: str
    validity_keep_days: int
    validity_lookups_per_minute: int
    dsfr_dir: Path | None = None  # WIF_DSFR_DIR; None: the checkout's node_modules
    service_name: str = SERVICE_NAME
    tagline: str = TAGLINE

    @property
    def assets(self) -> str:
        """Prefix of the DSFR's files."""
        return f"{dsfr.FOLDER}/" if self.static else f"/{dsfr.FOLDER}/"

    @property
    def home(self) -> str:
        return "index.html" if self.static else "/"

    def href(self, slug: str) -> str:
        return f"{slug}.html" if self.static else f"/{slug}"

    @property
    def mandatory_links(self) -> list[Link]:
        """The footer's links, the accessibility one with its status as the DSFR asks."""

        def text(page: MandatoryPage) -> str:
            return f"Accessibilité : {self.accessibility_status}" if page.slug == "accessibilite" else page.title

        return [Link(text(page), self.href(page.slug)) for page in MANDATORY_PAGES]

    @property
    def service_links(self) -> list[Link]:
        """Where people go next: the démarche, their dossier, the validity check, the statistics."""
        links = [
            Link("Déposer une demande sur demarches-simplifiees.fr", self.demarche_url),
            Link("Suivre mon dossier", self.follow_url),
        ]
        if self.validity_href:
            links.append(Link("Vérifier une autorisation (employeurs)", self.validity_href))
        stats = "index.html" if self.static else self.stats_url
        if stats:
            links.append(Link("Statistiques", stats))
        return links

    @property
    def validity_href(self) -> str:
        """The validity check: this app's home, or its address from the statistics site ("" when unknown)."""
        return self.validity_url if self.static else "/"


def site_context(settings: Settings, *, static: bool, demarche_path: str) -> SiteContext:
    """The context from the settings; checks first that the DSFR is installed (DsfrMissing, one line).
    `demarche_path`: the démarche's path on DS (procedure.yaml's, which core does not read)."""
    dsfr.dist_dir(settings.pages.dsfr_dir)
    return _context(settings.pages, settings.ds, settings.mail, settings.validity, static, demarche_path)


def default_site(*, static: bool, demarche_path: str) -> SiteContext:
    """The context of the defaults, for callers without settings (tests)."""
    return _context(PagesSettings(), DSSettings(), MailSettings(), ValiditySettings(), static, demarche_path)


def _context(
    pages: PagesSettings,
    ds: DSSettings,
    mail: MailSettings,
    validity: ValiditySettings,
    static: bool,
    demarche_path: str,
) -> SiteContext:
    return SiteContext(
        static=static,
        demarche_url=f"{ds.web_url}/commencer/{demarche_path}",
        follow_url=f"{ds.web_url}/dossiers",
        validity_url=pages.validity_url,
        stats_url=pages.stats_url,
        contact_email=pages.contact_email or mail.team_email,
        publisher=pages.publisher,
        publisher_address=pages.publisher_address,
        publication_director=pages.publication_director,
        hosting=pages.hosting,
        data_protection_contact=pages.data_protection_contact,
        accessibility_status=pages.accessibility_status,
        accessibility_date=pages.accessibility_date,
        accessibility_audit=pages.accessibility_audit,
        validity_keep_days=validity.keep_days,
        validity_lookups_per_minute=validity.lookups_per_minute,
        dsfr_dir=pages.dsfr_dir,
    )


def loader() -> BaseLoader:
    return PackageLoader("core.web", "templates")


def environment(own: BaseLoader, site: SiteContext) -> Environment:
    """A Jinja environment whose templates can extend layout.html, with `site` in every template."""
    env = Environment(loader=ChoiceLoader([own, loader()]), autoescape=select_autoescape(["html"]))
    env.globals["site"] = site
    return env


def render_mandatory(env: Environment, page: MandatoryPage, **context) -> str:
    return env.get_template(f"{page.slug}.html").render(page=page, **context)


def write_static_pages(out_dir: Path, site: SiteContext) -> list[Path]:
    """The mandatory pages as files beside index.html, and the DSFR's assets in dsfr/."""
    dist = dsfr.dist_dir(site.dsfr_dir)
    env = environment(loader(), site)
    written = []
    for page in MANDATORY_PAGES:
        path = out_dir / f"{page.slug}.html"
        path.write_text(render_mandatory(env, page), encoding="utf-8")
        written.append(path)
    return written + dsfr.copy_assets(dist, out_dir)
