"""`wif serve`: run the public validity check under waitress.

waitress is a production WSGI server in pure Python (no C build, runs the
same on every platform), maintained by the Pylons project, with bounded
threads and request size limits of its own.
"""
from __future__ import annotations

import argparse
import logging
import sys

from core.settings import Settings
from core.db import make_engine, session_factory
from validity.app import create_app

HELP = "Serve the public APT validity check for employers (HTML page and JSON API)."
PEPPER_MISSING = (
    "WIF_VALIDITY_PEPPER is not set: the validity check refuses to run without its secret pepper "
    "(generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
)

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    parser.add_argument("--threads", type=int, default=4, help="worker threads (default: 4)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    import waitress

    if not settings.validity.pepper:
        print(f"wif serve: configuration error: {PEPPER_MISSING}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    app = create_app(session_factory(engine), settings.validity)
    logger.info("validity check listening on http://%s:%d", args.host, args.port)
    waitress.serve(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        # No "Server: waitress" header: the software version is nobody's business.
        ident="",
    )
    return 0
