"""The HTTP endpoints DS's webhooks call, mounted under `/webhooks` by `wif serve`.

- `POST /webhooks/ds/<démarche>/<secret>`: the legacy per-démarche webhook
  (form-encoded, unsigned). A wrong secret or an unknown démarche answers
  404, as if nothing were there, and is counted.
- `POST /webhooks/ds`: the signed batches; a bad signature answers 401, a
  replayed batch 200 (so DS stops retrying it), both counted.

Each request only records a hint and returns at once; verification and
parsing are DS-generic and live in `connector.webhooks`. Nothing from the
body or the URL is logged (dossier numbers are personal data).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from sqlalchemy.exc import SQLAlchemyError

from connector import webhooks
from connector.webhooks import HintInbox, MalformedWebhook
from core.settings import WebhookSettings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # 100 events are a few kilobytes


def create_webhook_app(inbox: HintInbox, settings: WebhookSettings, demarche_numbers: tuple[int, ...]) -> Flask:
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    ours = frozenset(demarche_numbers)

    def empty(status: int) -> Response:
        return Response(status=status)

    @app.post("/ds/<int:demarche_number>/<secret>")
    def legacy(demarche_number: int, secret: str):
        if not webhooks.legacy_secret_valid(settings.legacy_secret, secret) or demarche_number not in ours:
            inbox.count(webhooks.FORGED_LEGACY)
            return empty(404)
        try:
            number = webhooks.legacy_dossier_number(request.form)
        except MalformedWebhook:
            inbox.count(webhooks.MALFORMED_LEGACY)
            return empty(400)
        inbox.record_legacy(demarche_number, number)
        return empty(204)

    @app.post("/ds")
    def signed():
        if not settings.secrets:
            return empty(404)
        body = request.get_data(cache=False)
        if not webhooks.signature_valid(settings.secrets, body, request.headers.get(webhooks.SIGNATURE_HEADER)):
            inbox.count(webhooks.BAD_SIGNATURE)
            return empty(401)
        try:
            batch = webhooks.parse_signed(body)
        except MalformedWebhook:
            inbox.count(webhooks.MALFORMED_SIGNED)
            return empty(400)
        if batch.demarche_number not in ours:
            inbox.count(webhooks.MALFORMED_SIGNED)
            return empty(422)
        inbox.record_signed(batch)
        return empty(200)

    @app.errorhandler(SQLAlchemyError)
    def database_down(error):
        # DS retries a failed delivery (signed webhooks): say so rather than lose it silently.
        log.error("webhook not recorded: database error %s", type(error).__name__)
        return empty(503)

    return app
