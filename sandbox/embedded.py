"""The sandbox `wif sync` starts when no DS_API_URL is set: démarche 1 with
the groupes instructeurs it is given (the caller reads them from the routing
table: the sandbox knows nothing of it), so that a fresh clone shows the
whole flow (sync, routing, push) without any account on DS."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.form import Form
from sandbox.generator import seeded_store
from sandbox.server import SandboxServer, start_server
from sandbox.store import Store

# DS allows 400 requests a minute; the embedded sandbox allows more so that
# the first push of a few hundred dossiers takes seconds, not minutes.
EMBEDDED_RATE_LIMIT = 6000
# (label, instructeur e-mails) of each groupe instructeur.
Groupes = Sequence[tuple[str, Sequence[str]]]


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


def build_store(
    dossiers: int, seed: int, groupes: Groupes = (), *, ids_seed: int | str | None = None, form: Form | None = None
) -> Store:
    store = seeded_store(
        dossiers, seed, groupe_labels=[label for label, _ in groupes] or None, ids_seed=ids_seed, form=form
    )
    demarche = store.demarches[1]
    for groupe, (_, emails) in zip(demarche.groupes, groupes, strict=False):
        for email in emails:
            store.add_instructeur(groupe.number, email)
    return store


@contextlib.contextmanager
def embedded_sandbox(
    dossiers: int, seed: int, rate_limit: int = EMBEDDED_RATE_LIMIT, groupes: Groupes = ()
) -> Iterator[EmbeddedSandbox]:
    store = build_store(dossiers, seed, groupes)
    with start_server(store, rate_limit=rate_limit) as server:
        yield EmbeddedSandbox(server, store)
