"""`wif serve`: run the public validity check and DS's webhook endpoints under waitress.

The validity check needs WIF_VALIDITY_PEPPER; the webhooks need
WIF_WEBHOOK_LEGACY_SECRET or WIF_WEBHOOK_SECRETS (`jobs.webhook_app`,
mounted under /webhooks). Either suffices to start.

waitress is a production WSGI server in pure Python (no C build, runs the
same on every platform), maintained by the Pylons project, with bounded
threads and request size limits of its own.
"""

from __future__ import annotations

import argparse
import logging

from core.db import Database
from core.errors import HostRefused
from core.settings import ConfigError, Settings
from jobs.result import Result
from validity.app import create_app

HELP = "Serve the public APT validity check for employers (HTML page and JSON API) and DS's webhooks."
PEPPER_MISSING = (
    "WIF_VALIDITY_PEPPER is not set: the validity check refuses to run without its secret pepper "
    "(generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
)

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    parser.add_argument("--threads", type=int, default=4, help="worker threads (default: 4)")


def spike_alerts(settings: Settings, sessions):
    """The team is e-mailed (WIF_TEAM_EMAIL) when the validity check's misses spike."""
    from mail.mailer import make_mailer
    from validity.alerts import SpikeAlerts

    return SpikeAlerts(
        sessions,
        settings.mail,
        settings.mail.team_email,
        lambda: make_mailer(settings.mail.smtp_url, settings.mail.outbox_dir),
        window_seconds=settings.validity.global_window_minutes * 60,
        threshold=settings.validity.miss_alert,
    )


def build_app(settings: Settings, sessions):
    """The WSGI app `wif serve` runs: validity at /, webhooks at /webhooks."""
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from connector.webhooks import HintInbox
    from core.web.layout import site_context
    from jobs.webhook_app import create_webhook_app
    from mappings.procedure import default_procedure

    site = site_context(settings, static=False, demarche_path=default_procedure().path)
    root = (
        create_app(sessions, settings.validity, alerts=spike_alerts(settings, sessions), site=site)
        if settings.validity.pepper
        else NotFound()
    )
    if not settings.webhooks.enabled:
        return root
    hooks = create_webhook_app(HintInbox(sessions), settings.webhooks, settings.ds.demarche_numbers)
    return DispatcherMiddleware(root, {"/webhooks": hooks})


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    from waitress.server import create_server

    if not settings.validity.pepper and not settings.webhooks.enabled:
        raise ConfigError(PEPPER_MISSING)
    if settings.validity.pepper:
        from core.web.dsfr import dist_dir

        dist_dir(settings.pages.dsfr_dir)  # the page needs the DSFR: without it, one line before the port is taken
    app = _Later()
    try:
        # The port first: one in use is one line, before the database is opened or created.
        server = create_server(
            app, host=args.host, port=args.port, threads=args.threads, ident=""
        )  # no "Server: waitress" header: the version is nobody's business
    except OSError as error:
        raise HostRefused(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    try:
        app.target = build_app(settings, database.sessions)
        if settings.validity.pepper:
            logger.info("validity check listening on http://%s:%d", args.host, args.port)
        else:
            logger.warning("WIF_VALIDITY_PEPPER is not set: serving the webhooks only")
        if settings.webhooks.enabled:
            logger.info("DS webhooks at http://%s:%d/webhooks/ds", args.host, args.port)
        server.run()
    except KeyboardInterrupt:  # Ctrl-C: a clean stop
        pass
    finally:
        server.close()
    return Result()


class _Later:
    """The WSGI app, set once the port is ours."""

    target = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)
