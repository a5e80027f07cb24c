"""The sandbox `wif sync` starts when no DS_API_URL is set: démarche 1 with
the groupes instructeurs of the routing table, so that a fresh clone shows
the whole flow (sync, routing, push) without any account on DS."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

from mappings.routing import expected_groupes, load_routing_table
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.generator import seeded_store
from sandbox.server import SandboxServer, start_server
from sandbox.store import Store

# DS allows 400 requests a minute; the embedded sandbox allows more so that
# the first push of a few hundred dossiers takes seconds, not minutes.
EMBEDDED_RATE_LIMIT = 6000


@dataclass
class EmbeddedSandbox:
    server: SandboxServer
    store: Store
    connector_instructeur_id: str = CONNECTOR_INSTRUCTEUR_ID

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token(self) -> str:
        return self.server.token


def build_store(dossiers: int, seed: int) -> Store:
    groupes = expected_groupes(load_routing_table())
    store = seeded_store(dossiers, seed, groupe_labels=[g.label for g in groupes])
    demarche = store.demarches[1]
    for groupe, expected in zip(demarche.groupes, groupes):
        for email in expected.instructeur_emails:
            store.add_instructeur(groupe.number, email)
    return store


@contextlib.contextmanager
def embedded_sandbox(dossiers: int, seed: int, rate_limit: int = EMBEDDED_RATE_LIMIT) -> Iterator[EmbeddedSandbox]:
    store = build_store(dossiers, seed)
    with start_server(store, rate_limit=rate_limit) as server:
        yield EmbeddedSandbox(server, store)
