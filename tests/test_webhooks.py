"""DS webhooks as a hint to look now: verified, deduplicated, counted; the
hinted dossier is fetched, checked and pushed within seconds."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from connector import webhooks
from connector.webhooks import HintInbox, sign
from core import models
from core.settings import DSSettings, Settings, WebhookSettings
from jobs.scheduler import HintWorker
from jobs.webhook_app import create_webhook_app
from sandbox.champs import StoredFile
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.webhooks import WebhookSender
from tests.sync_helpers import make_syncer
from tests.test_push import _incomplete_with_missing_document, make_pusher

LEGACY_SECRET = "legacy-secret-0123456789abcdef"
OLD, NEW = "whsec_b2xkLXNlY3JldC0wMTIzNDU2Nzg5", "whsec_bmV3LXNlY3JldC0wMTIzNDU2Nzg5"
SETTINGS = WebhookSettings(legacy_secret=LEGACY_SECRET, secrets=(NEW, OLD))


@pytest.fixture
def inbox(sessions):
    return HintInbox(sessions)


@pytest.fixture
def web(inbox):
    return create_webhook_app(inbox, SETTINGS, (1,)).test_client()


def hints(sessions):
    with sessions() as session:
        return {(h.demarche_number, h.dossier_number) for h in session.scalars(select(models.DossierHint))}


def signed_post(web, payload, secret=NEW, signature=None):
    body = json.dumps(payload).encode()
    return web.post(
        "/ds",
        data=body,
        content_type="application/json",
        headers={webhooks.SIGNATURE_HEADER: signature or sign(secret, body)},
    )


def batch(*events, webhook_id="V2ViaG9vay0x"):
    return {
        "webhook_id": webhook_id,
        "demarche_number": 1,
        "events": [
            {"sequence": s, "type": t, "dossier_number": n, "timestamp": "2026-12-01T10:00:00+01:00"}
            for s, t, n in events
        ],
    }


def test_a_legacy_webhook_is_a_hint_and_only_its_dossier_number_is_used(web, inbox, sessions):
    form = {"procedure_id": "666", "dossier_id": "100042", "state": "accepte", "updated_at": "2030-01-01"}
    assert web.post(f"/ds/1/{LEGACY_SECRET}", data=form).status_code == 204
    assert hints(sessions) == {(1, 100042)}  # démarche from our URL, not from the body
    assert inbox.counters() == {webhooks.ACCEPTED_LEGACY: 1}


def test_a_forged_legacy_webhook_is_ignored_and_counted(web, inbox, sessions):
    form = {"procedure_id": "1", "dossier_id": "100042", "state": "en_construction"}
    assert web.post("/ds/1/not-the-secret-at-all", data=form).status_code == 404
    assert web.post(f"/ds/2/{LEGACY_SECRET}", data=form).status_code == 404  # not one of our démarches
    assert web.post(f"/ds/1/{LEGACY_SECRET}", data={"dossier_id": "1 OR 1=1"}).status_code == 400
    assert hints(sessions) == set()
    assert inbox.counters() == {webhooks.FORGED_LEGACY: 2, webhooks.MALFORMED_LEGACY: 1}


def test_a_bad_signature_is_ignored_and_counted_and_both_rotation_secrets_verify(web, inbox, sessions):
    payload = batch((10, "dossier_modifie", 100001))
    assert signed_post(web, payload, secret="whsec_c29tZW9uZS1lbHNlLTAxMjM0NTY3").status_code == 401
    body = json.dumps(payload).encode()
    tampered = body.replace(b"100001", b"100002")
    assert (
        web.post(
            "/ds", data=tampered, content_type="application/json", headers={webhooks.SIGNATURE_HEADER: sign(NEW, body)}
        ).status_code
        == 401
    )
    assert signed_post(web, payload, signature="sha1=abc").status_code == 401
    assert hints(sessions) == set()
    assert inbox.counters() == {webhooks.BAD_SIGNATURE: 3}

    assert signed_post(web, payload, secret=OLD).status_code == 200  # the previous secret, during the overlap
    assert signed_post(web, batch((11, "dossier_depose", 100003)), secret=NEW).status_code == 200
    assert hints(sessions) == {(1, 100001), (1, 100003)}


def test_a_replayed_signed_batch_is_ignored(web, inbox, sessions):
    first = batch((20, "dossier_modifie", 100001), (22, "message_cree", 100002), (23, "dossier_accepte", 100004))
    assert signed_post(web, first).status_code == 200
    assert hints(sessions) == {(1, 100001), (1, 100004)}  # a message changes nothing the connector computes
    pending = inbox.pending()
    inbox.handled(pending, max(h.received_at for h in pending))
    assert signed_post(web, first).status_code == 200  # DS retries what it thinks failed: answer OK
    assert inbox.pending() == []
    assert inbox.counters()[webhooks.REPLAYED] == 3
    assert signed_post(web, batch((21, "dossier_modifie", 100005), (24, "dossier_modifie", 100006))).status_code == 200
    # 21 was never received: delivered after 22 and 23, it is not a replay (docs/ds-webhook-sequence.md).
    assert sorted(h.dossier_number for h in inbox.pending()) == [100005, 100006]


def test_concurrent_deliveries_arriving_out_of_order_are_not_replays(web, inbox, sessions):
    """DS delivers batches concurrently and retries a failed one later: a batch may come after a later one."""
    later = batch((31, "dossier_modifie", 100011), (32, "dossier_depose", 100012))
    earlier = batch((29, "dossier_modifie", 100009), (30, "dossier_accepte", 100010))
    assert signed_post(web, later).status_code == 200
    assert signed_post(web, earlier).status_code == 200
    assert hints(sessions) == {(1, 100009), (1, 100010), (1, 100011), (1, 100012)}
    assert signed_post(web, earlier).status_code == 200  # the same batch again: that one is a replay
    assert inbox.counters() == {webhooks.ACCEPTED_SIGNED: 2, webhooks.REPLAYED: 2}


def test_an_event_older_than_ds_keeps_them_is_a_replay_once_its_sequence_is_forgotten(sessions):
    now = [datetime(2026, 12, 1, 10, tzinfo=UTC)]
    inbox = HintInbox(sessions, now=lambda: now[0])
    web = create_webhook_app(inbox, SETTINGS, (1,)).test_client()
    assert signed_post(web, batch((40, "dossier_modifie", 100040), (42, "dossier_modifie", 100042))).status_code == 200
    now[0] += timedelta(days=9)  # DS keeps an event 7 days: 40 and 42 can no longer be delivered
    assert signed_post(web, batch((50, "dossier_modifie", 100050))).status_code == 200
    with sessions() as session:  # what is kept stays bounded
        assert session.scalars(select(models.WebhookEvent.sequence)).all() == [50]
    assert signed_post(web, batch((40, "dossier_modifie", 100040), (41, "dossier_modifie", 100041))).status_code == 200
    assert inbox.counters()[webhooks.REPLAYED] == 2  # 40 seen, 41 older than 42: both created before DS's 7 days
    assert signed_post(web, batch((49, "dossier_modifie", 100049))).status_code == 200  # 49: after 42, never seen
    assert (1, 100049) in hints(sessions)


def test_many_requests_hinting_the_same_dossier_at_once_all_succeed(inbox, sessions):
    """Issue #21 item 6: two requests recording the same hint died with an IntegrityError."""
    app = create_webhook_app(inbox, SETTINGS, (1,))
    start, statuses = threading.Barrier(8), []

    def deliver(index):
        client = app.test_client()
        start.wait()
        for round_ in range(5):
            if index % 2:
                answer = client.post(f"/ds/1/{LEGACY_SECRET}", data={"dossier_id": "100077"})
            else:
                answer = signed_post(
                    client, batch((1000 + 10 * round_ + index, "dossier_modifie", 100077), webhook_id="V2ViaG9vay0y")
                )
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [200, 204] and len(statuses) == 40
    assert hints(sessions) == {(1, 100077)}
    assert inbox.counters() == {webhooks.ACCEPTED_LEGACY: 20, webhooks.ACCEPTED_SIGNED: 20}


@pytest.mark.parametrize(
    "body, why",
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested 100,000 deep"),
        (
            b'{"webhook_id": "V2ViaG9vay0x", "demarche_number": 1, "events": '
            b'[{"sequence": 1, "type": "dossier_modifie", '
            b'"dossier_number": ' + b"9" * 5000 + b"}]}",
            "a 5,000-digit number",
        ),
        (
            b'{"webhook_id": "V2ViaG9vay0x", "demarche_number": 1, "events": '
            b'[{"sequence": 1, "type": "dossier_modifie", '
            b'"dossier_number": 1.5}]}',
            "dossier 1.5 is not dossier 1",
        ),
        (
            b'{"webhook_id": "V2ViaG9vay0x", "demarche_number": 1, "events": '
            b'[{"sequence": 2, "type": "dossier_modifie", '
            b'"dossier_number": 1e3}]}',
            "a float, even a round one",
        ),
        (
            b'{"webhook_id": "V2ViaG9vay0x", "demarche_number": 1, "events": '
            b'[{"sequence": 3, "type": "dossier_modifie", '
            b'"dossier_number": "12"}]}',
            "a text is not DS's number",
        ),
    ],
)
def test_a_signed_body_that_is_not_what_ds_sends_is_a_400_and_counted(web, inbox, sessions, body, why):
    answer = web.post(
        "/ds", data=body, content_type="application/json", headers={webhooks.SIGNATURE_HEADER: sign(NEW, body)}
    )
    assert answer.status_code == 400, why
    assert hints(sessions) == set()
    assert inbox.counters() == {webhooks.MALFORMED_SIGNED: 1}


def test_a_legacy_dossier_id_must_be_digits(web, inbox, sessions):
    for value in ("1.5", "-3", "１２", "12 ", "9" * 5000):
        assert web.post(f"/ds/1/{LEGACY_SECRET}", data={"dossier_id": value}).status_code == 400, value
    assert hints(sessions) == set()
    assert inbox.counters() == {webhooks.MALFORMED_LEGACY: 5}


@pytest.fixture
def served(inbox):
    app = create_webhook_app(inbox, SETTINGS, (1,))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_corrected_dossier_is_fetched_checked_and_pushed_on_the_webhook(
    make_sandbox, ds_client_for, sessions, engine, database_url, served, inbox
):
    server = make_sandbox(dossiers=40, seed=18)  # a seed with en_construction dossiers lacking only documents
    client = ds_client_for(server)
    make_syncer(client, sessions).sync(1)
    make_pusher(client, sessions).push(1)
    number, missing = _incomplete_with_missing_document(sessions)
    assert number is not None
    sender = WebhookSender(
        server.store, url=f"{served}/ds", secret=NEW, legacy_url=f"{served}/ds/1/{LEGACY_SECRET}"
    ).start()
    settings = Settings(
        database_url=database_url,
        webhooks=SETTINGS,
        ds=DSSettings(
            api_url=server.url, api_token=server.token, demarche_numbers=(1,), instructeur_id=CONNECTOR_INSTRUCTEUR_ID
        ),
    )
    worker = HintWorker(settings, engine, sessions, threading.Lock(), threading.Event())
    try:
        before = len(server.store.mutation_log)
        # The applicant uploads the missing documents: DS calls the signed webhook.
        server.store.modify(number, **{key: (StoredFile(f"{key}.pdf", "application/pdf", 120_000),) for key in missing})
        deadline = time.monotonic() + 10
        while not inbox.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [h.dossier_number for h in inbox.pending()] == [number]
        lines = worker.run_once()
    finally:
        sender.stop()
    assert any("1 changed" in line for line in lines)
    written = server.store.mutation_log[before:]
    # Its annotations and its label now say what the new documents change, and nothing else was touched.
    assert {name for name, _ in written} == {
        "dossierModifierAnnotations",
        "dossierAjouterLabel",
        "dossierSupprimerLabel",
    }
    assert {p["dossierId"] for _, p in written} == {server.store.dossier(number).id}
    labels = {
        label.name for label in server.store.demarches[1].labels if label.number in server.store.dossier(number).labels
    }
    assert "Incomplet" not in labels
    with sessions() as session:
        assert session.get(models.Dossier, number).completeness_status != "incomplet"


def test_the_sandbox_calls_both_kinds_of_webhook_like_ds(make_sandbox, served, sessions):
    server = make_sandbox(dossiers=30, seed=3)
    number = next(d.number for d in server.store.visible_dossiers(1) if d.state == "en_construction")
    sender = WebhookSender(
        server.store, url=f"{served}/ds", secret=OLD, legacy_url=f"{served}/ds/1/{LEGACY_SECRET}"
    ).start()
    try:
        server.store.set_state(number, "en_instruction")  # a state change: both kinds fire
        deadline = time.monotonic() + 10
        while len(sender.delivered) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sender.stop()
    assert sorted((d.kind, d.status) for d in sender.delivered) == [("legacy", 204), ("signed", 200)]
    assert hints(sessions) == {(1, number)}


def test_wif_status_shows_what_the_webhooks_ignored(web, sessions):
    from jobs.status import collect_status, format_status

    web.post("/ds/1/forged-forged-forged", data={"dossier_id": "100001"})
    signed_post(web, batch((5, "dossier_modifie", 100001)), secret="whsec_bm9wZS1ub3BlLW5vcGUtbm9wZQ")
    signed_post(web, batch((6, "dossier_modifie", 100002)))
    with sessions() as session:
        text = format_status(collect_status(session))
    assert "legacy_forged 1" in text and "signed_bad_signature 1" in text and "signed_accepted 1" in text
    assert "dossiers waiting to be fetched: 1" in text


def test_wif_serve_mounts_the_webhooks_beside_the_validity_check(sessions):
    from werkzeug.test import Client

    from core.settings import ValiditySettings
    from jobs.verbs.serve import build_app

    settings = Settings(webhooks=SETTINGS, validity=ValiditySettings(pepper=b"p" * 40))
    client = Client(build_app(settings, sessions))
    assert client.get("/healthz").status_code == 200
    assert client.post(f"/webhooks/ds/1/{LEGACY_SECRET}", data={"dossier_id": "100007"}).status_code == 204
    assert hints(sessions) == {(1, 100007)}
    hooks_only = Client(build_app(Settings(webhooks=SETTINGS), sessions))
    assert hooks_only.get("/").status_code == 404  # no pepper: no validity check, webhooks still served
    assert (
        hooks_only.post("/webhooks/ds", data=b"{}", headers={webhooks.SIGNATURE_HEADER: "sha256=00"}).status_code == 401
    )


def test_a_hint_for_an_unbound_demarche_logs_one_line_naming_the_bind_and_writes_nothing(
    make_sandbox, sessions, engine, database_url, inbox, caplog
):
    import logging

    from jobs.scheduler import NOT_BOUND_RETRY_SECONDS

    server = make_sandbox(dossiers=5)
    number = next(d.number for d in server.store.visible_dossiers(1))
    inbox.record_legacy(1, number)
    settings = Settings(
        database_url=database_url,
        webhooks=SETTINGS,
        ds=DSSettings(
            api_url=server.url, api_token=server.token, demarche_numbers=(1,), instructeur_id=CONNECTOR_INSTRUCTEUR_ID
        ),
    )
    worker = HintWorker(settings, engine, sessions, threading.Lock(), threading.Event())
    caplog.set_level(logging.INFO, logger="jobs.scheduler")
    assert worker.attempt() == NOT_BOUND_RETRY_SECONDS
    refused = [r for r in caplog.records if r.name == "jobs.scheduler" and r.levelno >= logging.ERROR]
    assert len(refused) == 1 and refused[0].exc_info is None
    assert "wif procedure bind" in refused[0].getMessage()
    assert server.store.mutation_log == []
    assert [h.dossier_number for h in inbox.pending()] == [number]  # kept for after the bind
