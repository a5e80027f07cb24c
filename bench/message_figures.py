"""What the first push tells applicants and agents on a sandbox (issue 19, items 3, 7 and 8).

A sandbox of N dossiers (in this process), `wif procedure bind --yes`, a sync and a first push into a throw-away
SQLite file, then, read from what the sandbox received and shows:
- the DS messages the push sent, with DS's correction flag and without (a condition not met asks for none);
- the dossiers whose only reading problem is a champ unknown to the procedure (a form change), by the label
  DS shows them with;
- the « Incomplet » dossiers whose « Anomalies » annotation reads « Aucune » while no pièce is listed.

    python bench/message_figures.py [--n 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from connector.client import DSClient
    from connector.push import Pusher
    from connector.ratelimit import RequestBudget
    from connector.sync import Syncer
    from core.db import make_engine, session_factory, upgrade
    from core.models import Dossier
    from core.settings import PushSettings
    from jobs.binding import bind_demarche
    from jobs.runtime import sandbox_store
    from mappings.pipeline import Evaluator
    from mappings.procedure import default_procedure
    from mappings.target import target_for
    from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
    from sandbox.server import start_server

    store = sandbox_store(args.n, args.seed)
    with start_server(store, rate_limit=1_000_000) as server, tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'figures.db'}")
        upgrade(engine)
        sessions = session_factory(engine)
        budget = RequestBudget(1_000_000, 60.0)
        with DSClient(server.url, server.token, timeout=120, budget=budget) as client:
            binding = bind_demarche(client, sessions, 1, store=True).binding()
            Syncer(client=client, sessions=sessions, evaluate=Evaluator.default(binding).rows, page_size=100).sync(1)
            before = len(store.mutation_log)
            summary = Pusher(
                client=client,
                sessions=sessions,
                procedure=default_procedure(),
                bindings={1: binding},
                target_for=target_for,
                instructeur_id=CONNECTOR_INSTRUCTEUR_ID,
                policy=PushSettings(max_message_share=1.0),
            ).push(1)
        sent = [payload for name, payload in store.mutation_log[before:] if name == "dossierEnvoyerMessage"]
        flags = Counter(payload.get("correction") or "none" for payload in sent)
        demarche = store.demarches[1]

        def shown(number: int) -> tuple[frozenset[str], dict]:
            record = store.dossier(number)
            labels = frozenset(demarche.label(n).name for n in record.labels)
            revision = demarche.revisions[record.revision]
            return labels, {d.key: record.annotations.get(d.key) for d in revision.annotations}

        with sessions() as session:
            live = select(Dossier).where(Dossier.deleted_at.is_(None), Dossier.hidden_at.is_(None))
            dossiers = session.scalars(
                live.options(selectinload(Dossier.findings), selectinload(Dossier.mapping_issues))
            ).all()
            unknown_only = [
                d.number
                for d in dossiers
                if d.mapping_issues and not d.findings and {i.code for i in d.mapping_issues} == {"unknown_champ"}
            ]
            incomplet = [d.number for d in dossiers if d.completeness_status == "incomplet"]
        unknown_labels = Counter(label for number in unknown_only for label in shown(number)[0])
        silent = [
            n
            for n in incomplet
            if shown(n)[1].get("wif_anomalies") == "Aucune" and shown(n)[1].get("wif_pieces_manquantes") == "Aucune"
        ]
        engine.dispose()

    print(f"sandbox: {len(store.visible_dossiers(1))} dossiers (seed {args.seed}); first push: {summary.line()}")
    print(
        f"DS messages sent: {len(sent)}; correction flag: "
        + ", ".join(f"{flag} {count}" for flag, count in sorted(flags.items()))
    )
    print(
        f"dossiers whose only reading problem is a champ unknown to the procedure: {len(unknown_only)}; "
        f"labels on DS: "
        + (", ".join(f"« {label} » {count}" for label, count in sorted(unknown_labels.items())) or "none")
    )
    print(f"« Incomplet » dossiers with « Anomalies : Aucune » and « Pièces manquantes : Aucune »: {len(silent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
