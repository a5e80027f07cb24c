"""Webhook figures: from a change in the sandbox to its annotations on DS.

The sandbox calls the signed webhook (and the legacy one) of a real `wif
serve` app over HTTP; the scheduler's hint worker, polling every second,
fetches the dossier with `getDossier`, maps, checks and pushes it, all
against DS's real budget (400 requests a minute). For K dossiers that lack
only documents, the applicant uploads them one at a time; we time the
webhook's arrival and the moment the dossier's annotations on the sandbox
no longer list missing documents. Target (issue 13): annotations updated
less than 10 s after the webhook.

    python bench/webhook_bench.py [--n 500] [--k 10] [--lag 0]

`--lag 5` reproduces DS's 5-second safety lag before each delivery (it
adds to the time from the change, not from the webhook).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "whsec_YmVuY2gtc2VjcmV0LTAxMjM0NTY3ODk"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--k", type=int, default=10, help="corrections timed one after the other")
    parser.add_argument("--lag", type=float, default=0.0, help="seconds the sandbox waits before delivering")
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()

    import logging

    from sqlalchemy import select
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per webhook otherwise

    from connector.client import DSClient
    from connector.webhooks import HintInbox
    from core import models
    from core.db import make_engine, session_factory, upgrade
    from core.settings import DSSettings, Settings, WebhookSettings
    from jobs.binding import bind_demarche
    from jobs.pipeline import run_push, run_sync
    from jobs.runtime import sandbox_store
    from jobs.scheduler import HintWorker
    from jobs.webhook_app import create_webhook_app
    from sandbox.champs import StoredFile
    from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
    from sandbox.server import start_server
    from sandbox.webhooks import WebhookSender

    store = sandbox_store(args.n, args.seed)
    with start_server(store, rate_limit=400, window_seconds=60) as server, tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(database_url)
        upgrade(engine)
        sessions = session_factory(engine)
        hooks = WebhookSettings(secrets=(SECRET,))
        settings = Settings(
            database_url=database_url,
            webhooks=hooks,
            ds=DSSettings(
                api_url=server.url,
                api_token=server.token,
                demarche_numbers=(1,),
                instructeur_id=CONNECTOR_INSTRUCTEUR_ID,
            ),
        )
        with DSClient(server.url, server.token) as client:
            bind_demarche(client, sessions, 1, store=True)  # `wif procedure bind --yes`
        run_sync(settings, sessions)  # first sync and push, before any webhook is configured
        run_push(settings, sessions)

        inbox = HintInbox(sessions)
        app = create_webhook_app(inbox, hooks, (1,))
        http = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        sender = WebhookSender(
            store, url=f"http://127.0.0.1:{http.server_port}/ds", secret=SECRET, lag=args.lag
        ).start()
        stopping = threading.Event()
        worker = HintWorker(settings, engine, sessions, threading.Lock(), stopping).start()

        with sessions() as session:
            candidates = [
                d.number
                for d in session.scalars(select(models.Dossier).where(models.Dossier.state == "en_construction"))
                if {f.code for f in d.findings if f.severity == "blocking"} == {"missing_document"}
            ][: args.k]
            missing = {
                d: [
                    f.field
                    for f in session.scalars(
                        select(models.Finding).where(
                            models.Finding.dossier_number == d, models.Finding.code == "missing_document"
                        )
                    )
                ]
                for d in candidates
            }
        from_webhook, from_change = [], []
        for number in candidates:
            record = store.dossier(number)
            before = dict(record.annotations)
            deliveries = len(sender.delivered)
            changed_at = time.time()
            store.modify(
                number, **{key: (StoredFile(f"{key}.pdf", "application/pdf", 120_000),) for key in missing[number]}
            )
            deadline = changed_at + 60
            while time.time() < deadline and record.annotations == before:
                time.sleep(0.02)
            done_at = time.time()
            arrived = next((d.sent_at for d in sender.delivered[deliveries:] if number in d.dossier_numbers), None)
            if record.annotations == before or arrived is None:
                print(f"  dossier {number}: not updated within 60 s")
                continue
            from_webhook.append(done_at - arrived)
            from_change.append(done_at - changed_at)
            time.sleep(1.0)  # let the echo of our own writes settle before the next one
        stopping.set()
        worker.join(timeout=30)
        sender.stop()
        http.shutdown()
        engine.dispose()

    print(
        f"N = {args.n}, {len(from_webhook)} of {len(candidates)} corrections timed, sandbox lag {args.lag:g} s, "
        f"hint poll {hooks.hint_poll_seconds:g} s"
    )
    if from_webhook:
        print(
            f"  webhook → annotations on DS: median {statistics.median(from_webhook):.2f} s, "
            f"max {max(from_webhook):.2f} s (target < 10 s)"
        )
        print(
            f"  change → annotations on DS:  median {statistics.median(from_change):.2f} s,"
            f" max {max(from_change):.2f} s"
        )


if __name__ == "__main__":
    main()
