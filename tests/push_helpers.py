"""What the push tests inject into a Pusher: its collaborators, never hooks into its insides."""
from __future__ import annotations

from connector.batch import MUTATION_BATCH
from connector.push import Pusher
from core.settings import PushSettings
from mappings.procedure import default_procedure
from mappings.target import target_for
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from tests.sync_helpers import stored_binding

PROCEDURE = default_procedure()


def make_pusher(client, sessions, *, policy: PushSettings | None = None, **kwargs) -> Pusher:
    """A pusher of démarche 1 with the binding its sync stored (make_syncer binds first)."""
    return Pusher(client=client, sessions=sessions, procedure=PROCEDURE, bindings={1: stored_binding(sessions)},
                  target_for=target_for, instructeur_id=CONNECTOR_INSTRUCTEUR_ID, policy=policy or PushSettings(),
                  **kwargs)


class Crash(Exception):
    """The process dies here."""


class CrashAfter:
    """A progress that kills the push once `mutations` of them were sent and recorded."""

    def __init__(self, mutations: int, when=lambda: True):
        self.mutations, self.when, self.sent = mutations, when, 0

    def start(self, total: int) -> None:
        pass

    def advance(self, mutations: int) -> None:
        self.sent += mutations
        if self.sent >= self.mutations and self.when():
            raise Crash()

    def finish(self) -> None:
        pass


class DiesOnAnswer:
    """A DS client whose process dies once DS has answered a batch of mutations, before anything is recorded."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def execute_batch(self, items):
        answer = self._client.execute_batch(items)
        if any(item.operation.startswith("dossier") for item in items):
            raise Crash(MUTATION_BATCH)
        return answer
