"""The public web app: an HTML form at `/`, JSON at `/api/v1/apt/validite` (POST only), `/healthz`.

Framework: Flask. It is maintained by the Pallets team with regular
releases, small (two routes and a form need no more), WSGI so it runs under
waitress with no extra moving part, ships a test client, and uses Jinja2,
which the project already depends on. An ASGI framework would bring an
event loop for no gain: each request is one indexed SQL read.

Privacy: nothing but the outcome is logged (no number, no date, no IP), and
error handlers never echo exceptions, whose text can carry SQL parameters.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import date

from flask import Flask, Response, abort, g, jsonify, render_template, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from jinja2 import ChoiceLoader
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.middleware.proxy_fix import ProxyFix

from core.clock import paris_today
from core.models import ValidityRecord
from core.settings import ValiditySettings
from core.web import dsfr
from core.web.layout import MANDATORY_PAGES, SiteContext, default_site
from core.web.layout import loader as layout_loader
from validity.budget import LookupBudget
from validity.inputs import BIRTH_DATE_FIELD, NUMBER_FIELD, LookupQuery, parse_lookup
from validity.lookup import Answer, Outcome, lookup
from validity.pages import ErrorPage, LookupPage, Notice
from validity.ratelimit import TokenBucketLimiter
from validity.results import date_fr, result_text

logger = logging.getLogger(__name__)

API_PATH = "/api/v1/apt/validite"
MAX_REQUEST_BYTES = 4096
RATE_LIMITED = Notice(
    "Trop de vérifications",
    "Vous avez effectué trop de vérifications en peu de temps. Patientez une minute avant de réessayer.",
)
GET_REFUSED = (
    "Utilisez POST : le numéro et la date de naissance ne doivent pas figurer dans l'adresse de la requête, "
    "qui est conservée dans les journaux des serveurs. Envoyez-les dans le corps de la requête (JSON ou formulaire)."
)
GET_REFUSED_PAGE = (
    "La date de naissance ne doit pas figurer dans l'adresse de la page, qui est conservée dans les journaux "
    "des serveurs. Saisissez le numéro et la date de naissance dans le formulaire de la page d'accueil."
)
BUSY = Notice(
    "Service très sollicité",
    "Le service de vérification reçoit trop de demandes en ce moment. Réessayez dans quelques minutes.",
)
# status → (code for the JSON API, French title, French explanation)
HTTP_ERRORS_FR = {
    400: (
        "requete_invalide",
        "Requête invalide",
        "La requête n'a pas pu être comprise. Vérifiez les informations envoyées.",
    ),
    404: ("introuvable", "Page introuvable", "La page demandée n'existe pas."),
    405: ("methode_non_autorisee", "Méthode non autorisée", "Cette adresse n'accepte pas ce type de requête."),
    413: ("requete_trop_volumineuse", "Requête trop volumineuse", "Les informations envoyées sont trop volumineuses."),
}
INTERNAL_ERROR = ("erreur_interne", "Service indisponible", "Une erreur est survenue. Réessayez dans quelques minutes.")


def content_security_policy(nonce: str) -> str:
    # The DSFR's stylesheet, fonts and icons come from this app (/dsfr/); no script at all.
    return (
        f"default-src 'none'; style-src 'self' 'nonce-{nonce}'; font-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def answer_json(answer: Answer) -> dict:
    text = result_text(answer)
    body: dict = {"resultat": answer.outcome.value, "libelle": text.label, "explication": list(text.paragraphs)}
    if answer.details:
        details = answer.details
        body["autorisation"] = {
            "numero_dossier": details.dossier_number,
            "date_debut": details.start.isoformat(),
            "date_fin": details.end.isoformat(),
            "siret": details.siret,
            "nom_employeur": details.employer_name,
            "nom_masque": details.masked_name,
        }
    return body


def create_app(
    sessions: sessionmaker[Session],
    settings: ValiditySettings,
    *,
    today: Callable[[], date] = paris_today,
    limiter: TokenBucketLimiter | None = None,
    budget: LookupBudget | None = None,
    alerts=None,
    site: SiteContext | None = None,
) -> Flask:
    """`budget`: the lookups of all workers together (default from the settings);
    `alerts`: told when misses spike (validity.alerts.SpikeAlerts), or None to log it only;
    `site`: the public pages' layout, links and mandatory pages (core.web.layout.site_context; default: the defaults).
    The DSFR must be installed (core.web.dsfr.DsfrMissing otherwise)."""
    if not settings.pepper:
        raise ValueError("the validity check needs WIF_VALIDITY_PEPPER: without it no birth date can be verified")
    if site is None:
        from mappings.procedure import default_procedure

        site = default_site(static=False, demarche_path=default_procedure().path)
    dist = dsfr.dist_dir(site.dsfr_dir)
    assets = frozenset(dsfr.asset_names(dist))
    app = Flask(__name__)
    app.jinja_env.loader = ChoiceLoader([app.create_global_jinja_loader(), layout_loader()])
    app.jinja_env.globals["site"] = site
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, TRAP_BAD_REQUEST_ERRORS=False)
    json_provider = DefaultJSONProvider(app)
    json_provider.ensure_ascii = False
    app.json = json_provider
    app.jinja_env.filters["date_fr"] = date_fr
    if settings.trusted_proxies:
        # Flask's documented way to put a middleware in front; Flask declares wsgi_app a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    limiter = limiter or TokenBucketLimiter(settings.lookups_per_minute, settings.burst)
    budget = budget or LookupBudget(settings.global_lookups, settings.global_window_minutes * 60, settings.miss_alert)

    def render_page(template: str, page, status: int) -> Response:
        response = Response(render_template(template, page=page, csp_nonce=g.csp_nonce), status=status)
        response.mimetype = "text/html"
        return response

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    def error_response(status: int, code: str, title: str, text: str) -> Response:
        if wants_json():
            return _json_error(status, code, text)
        return render_page("error.html", ErrorPage(title, text), status)

    def seconds_until_allowed() -> float:
        return limiter.acquire(request.remote_addr or "unknown")

    def too_many(wait_seconds: float, response: Response) -> Response:
        response.headers["Retry-After"] = str(max(1, round(wait_seconds + 0.5)))
        logger.info("validity lookup: rate_limited")
        return response

    def answer_lookup(query: LookupQuery) -> Answer | float:
        """The answer, or the seconds until the global budget has room again.
        A hit and a miss run the same statements (validity.budget)."""
        # The caller looks up a valid query only: both values are there.
        assert query.dossier_number is not None and query.birth_date is not None
        spike = None
        with sessions() as session, session.begin():
            window = budget.take(session)
            if window.allowed:
                answer = lookup(session, settings.pepper, query.dossier_number, query.birth_date, today())
                spike = budget.settle(session, window, missed=answer.outcome is Outcome.NO_MATCH)
                if spike and alerts is not None:
                    alerts.enqueue(session, spike)
        if window.opened and alerts is not None and not spike:
            alerts.send()  # once per window: retries an alert the mail server refused earlier
        if not window.allowed:
            logger.info("validity lookup: budget_exhausted")
            return window.retry_after(budget.now())
        if spike:
            logger.warning("validity check: %d misses or more in this window", spike.threshold)
            if alerts is not None:
                alerts.send()
        logger.info("validity lookup: %s", answer.outcome.value)
        return answer

    @app.before_request
    def make_nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(g.get("csp_nonce", "none"))
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["X-Robots-Tag"] = "noindex"
        # Answers carry personal data: no cache may keep them. The DSFR's files carry none.
        headers["Cache-Control"] = (
            "public, max-age=86400"
            if request.path.startswith(f"/{dsfr.FOLDER}/") and response.status_code == 200
            else "no-store"
        )
        if request.is_secure or settings.force_hsts:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response

    @app.get("/")
    def form_page():
        if NUMBER_FIELD in request.args or BIRTH_DATE_FIELD in request.args:
            response = render_page("error.html", ErrorPage("Méthode non autorisée", GET_REFUSED_PAGE), 405)
            response.headers["Allow"] = "POST"
            return response
        return render_page("index.html", LookupPage(), 200)

    @app.post("/")
    def form_lookup():
        values = request.form
        page_values = {
            "number_value": values.get(NUMBER_FIELD, "")[:40],
            "birth_date_value": values.get(BIRTH_DATE_FIELD, "")[:40],
        }
        wait = seconds_until_allowed()
        if wait:
            return too_many(wait, render_page("index.html", LookupPage(notice=RATE_LIMITED, **page_values), 429))
        query = parse_lookup(values, today())
        if not query.valid:
            logger.info("validity lookup: invalid_input")
            return render_page("index.html", LookupPage(errors=query.errors, **page_values), 400)
        answer = answer_lookup(query)
        if not isinstance(answer, Answer):
            return too_many(answer, render_page("index.html", LookupPage(notice=BUSY, **page_values), 429))
        return render_page("index.html", LookupPage(answer=answer, **page_values), 200)

    @app.get(f"/{dsfr.FOLDER}/<path:name>")
    def dsfr_asset(name: str):
        if name not in assets:  # only the files the stylesheet names: nothing else of node_modules is reachable
            abort(404)
        return send_from_directory(dist, name)

    def mandatory_page(page):
        return lambda: render_page(f"{page.slug}.html", page, 200)

    for page in MANDATORY_PAGES:
        app.add_url_rule(f"/{page.slug}", page.slug, mandatory_page(page), methods=["GET"])

    @app.get(API_PATH)
    def api_refuses_get():
        # A birth date in the URL ends up in proxy and server logs: POST only, and nothing of the query is read.
        response = _json_error(405, "methode_non_autorisee", GET_REFUSED)
        response.headers["Allow"] = "POST"
        return response

    @app.post(API_PATH)
    def api_lookup():
        wait = seconds_until_allowed()
        if wait:
            response = jsonify({"erreur": "trop_de_requetes", "message": RATE_LIMITED.text})
            response.status_code = 429
            return too_many(wait, response)
        values = _api_values()
        if values is None:
            logger.info("validity lookup: invalid_input")
            return _json_error(400, "requete_invalide", "Le corps de la requête doit être un objet JSON valide.")
        query = parse_lookup(values, today())
        if not query.valid:
            logger.info("validity lookup: invalid_input")
            return _json_error(400, "requete_invalide", "Les informations envoyées sont incorrectes.", query.errors)
        answer = answer_lookup(query)
        if not isinstance(answer, Answer):
            response = jsonify({"erreur": "service_sature", "message": BUSY.text})
            response.status_code = 429
            return too_many(answer, response)
        return jsonify(answer_json(answer))

    @app.get("/healthz")
    def health():
        try:
            with sessions() as session:
                session.execute(select(ValidityRecord.dossier_number).limit(1))
        except SQLAlchemyError as error:
            logger.error("healthz: database unavailable (%s)", type(error).__name__)
            return jsonify({"statut": "indisponible"}), 503
        return jsonify({"statut": "ok"})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        fallback = HTTP_ERRORS_FR[400] if status < 500 else INTERNAL_ERROR
        response = error_response(status, *HTTP_ERRORS_FR.get(status, fallback))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # The class name only: exception text may quote SQL parameters.
        logger.error("validity app: unexpected %s", type(error).__name__)
        return error_response(500, *INTERNAL_ERROR)

    return app


def _api_values() -> dict | None:
    """Fields from a JSON object or a form (POST only); None when a JSON body is not an object."""
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None
    return request.form.to_dict()


def _json_error(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    body: dict[str, object] = {"erreur": code, "message": message}
    if fields:
        body["champs"] = fields
    response = jsonify(body)
    response.status_code = status
    return response
