"""Webhook flood (issue #21, items 6 and 10): N requests in seconds against a real `wif serve` webhook app over
HTTP, from T threads at once: signed batches delivered concurrently and out of order, the same batches again
(replays), legacy webhooks, forged and badly signed ones, and bodies that are not DS's (nested 100,000 deep,
a 5,000-digit number, a dossier number 1.5, not JSON). Several deliveries hint the same dossiers at once.

Prints the answers by status, the server errors (500s: a traceback each), and whether every dossier a
legitimate event named is hinted and no malformed one is.

    python bench/webhook_flood.py [--n 2000] [--threads 16] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "whsec_Zmxvb2Qtc2VjcmV0LTAxMjM0NTY3ODk"
LEGACY = "legacy-flood-secret-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()

    import logging

    import requests
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from connector.webhooks import HintInbox, sign
    from core import models
    from core.db import make_engine, session_factory, upgrade
    from core.settings import WebhookSettings
    from jobs.webhook_app import create_webhook_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    rng = random.Random(args.seed)
    database_url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/flood.db"
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    app = create_webhook_app(HintInbox(sessions), WebhookSettings(legacy_secret=LEGACY, secrets=(SECRET,)), (1,))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"

    # Signed batches of 1 to 20 events; dossiers drawn from a small set so that deliveries collide on hints.
    requests_to_send: list[tuple[str, str, bytes | dict]] = []
    expected: set[int] = set()
    sequence, batches = 0, []
    while len(batches) < args.n * 4 // 10:
        events = []
        for _ in range(rng.randint(1, 20)):
            sequence += rng.randint(1, 3)
            number = rng.randint(100_000, 100_150)
            events.append(
                {
                    "sequence": sequence,
                    "type": "dossier_modifie",
                    "dossier_number": number,
                    "timestamp": "2026-12-01T10:00:00+01:00",
                }
            )
            expected.add(number)
        batches.append(json.dumps({"webhook_id": "V2ViaG9vay1mbG9vZA", "demarche_number": 1, "events": events}))
    requests_to_send += [("signed", "/ds", body.encode()) for body in batches]
    requests_to_send += [("replayed", "/ds", rng.choice(batches).encode()) for _ in range(args.n // 10)]
    for _ in range(args.n * 2 // 10):
        number = rng.randint(100_000, 100_150)
        expected.add(number)
        requests_to_send.append(("legacy", f"/ds/1/{LEGACY}", {"dossier_id": str(number), "state": "x"}))
    requests_to_send += [("forged", f"/ds/1/not-the-secret-{i}", {"dossier_id": "999999"}) for i in range(args.n // 20)]
    requests_to_send += [("bad signature", "/ds", batches[0].encode()) for _ in range(args.n // 20)]
    malformed = [
        b"[" * 100_000 + b"]" * 100_000,
        b"not json",
        b'{"webhook_id": "V2ViaG9vay1mbG9vZA", "demarche_number": 1, "events": [{"sequence": 1, '
        b'"type": "dossier_modifie", "dossier_number": ' + b"9" * 5000 + b"}]}",
        b'{"webhook_id": "V2ViaG9vay1mbG9vZA", "demarche_number": 1, "events": [{"sequence": 2, '
        b'"type": "dossier_modifie", "dossier_number": 999998.5}]}',
    ]
    while len(requests_to_send) < args.n:
        requests_to_send.append(("malformed", "/ds", rng.choice(malformed)))
    rng.shuffle(requests_to_send)  # concurrent and out of order

    answers: Counter = Counter()
    lock = threading.Lock()
    queue = list(requests_to_send)

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                kind, path, body = queue.pop()
            if isinstance(body, dict):
                answer = session.post(url + path, data=body, timeout=60)
            else:
                signature = sign("whsec_c29tZW9uZS1lbHNl" if kind == "bad signature" else SECRET, body)
                answer = session.post(
                    url + path,
                    data=body,
                    timeout=60,
                    headers={"Content-Type": "application/json", "X-Webhook-Signature-256": signature},
                )
            with lock:
                answers[(kind, answer.status_code)] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    server.shutdown()

    with sessions() as session:
        hinted = set(session.scalars(select(models.DossierHint.dossier_number)))
        counters = dict(session.execute(select(models.WebhookCounter.name, models.WebhookCounter.count)).all())
    engine.dispose()
    print(f"{len(requests_to_send)} requests from {args.threads} threads in {seconds:.1f} s ({engine.dialect.name})")
    for (kind, status), count in sorted(answers.items()):
        print(f"  {kind:14s} HTTP {status}: {count}")
    errors = sum(count for (_, status), count in answers.items() if status >= 500)
    print(f"server errors (5xx): {errors}")
    print(
        f"dossiers a legitimate event named: {len(expected)}, hinted: {len(expected & hinted)}, "
        f"missed: {len(expected - hinted)}; hinted but never named: {len(hinted - expected)}"
    )
    print("counters: " + ", ".join(f"{name} {count}" for name, count in sorted(counters.items())))


if __name__ == "__main__":
    main()
