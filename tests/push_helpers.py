"""What the push tests inject into a Pusher: its collaborators, never hooks into its insides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from connector.batch import MUTATION_BATCH
from connector.push import Pusher
from core import models
from core.settings import PushSettings
from mappings.procedure import default_procedure
from mappings.target import target_for
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from tests.sync_helpers import stored_binding

PROCEDURE = default_procedure()


def make_pusher(client, sessions, *, policy: PushSettings | None = None, **kwargs) -> Pusher:
    """A pusher of démarche 1 with the binding its sync stored (make_syncer binds first)."""
    return Pusher(
        client=client,
        sessions=sessions,
        procedure=PROCEDURE,
        bindings={1: stored_binding(sessions)},
        target_for=target_for,
        instructeur_id=CONNECTOR_INSTRUCTEUR_ID,
        policy=policy or PushSettings(),
        **kwargs,
    )


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


# What an agent must see on DS for each completeness status the checks gave a dossier: written here, in the
# words DS shows, not taken from the code under test (mappings.target).
LABEL_OF_STATUS = {
    "complet": "Complet",
    "incomplet": "Incomplet",
    "a_verifier": "À vérifier",
    "hors_perimetre": "Hors périmètre",
}
COMPLETUDE_OF_STATUS = {
    "complet": "complet",
    "incomplet": "incomplet",
    "a_verifier": "à vérifier",
    "hors_perimetre": "hors périmètre",
}
COMPLETUDE = "Complétude (Work in France)"
SERVICE = "Service compétent (Work in France)"
NO_SERVICE = "Aucun service : orientation manuelle"
# Every message the connector sends the applicant about its findings ends with this line.
CONNECTOR_MESSAGE = "Ce message est envoyé automatiquement par Work in France."


@dataclass(frozen=True)
class OnDS:
    """One dossier as the sandbox holds it: what an agent or the applicant sees on DS."""

    state: str
    groupe: str
    labels: frozenset[str]
    annotations: dict[str, object]  # by label
    messages: tuple[str, ...]  # bodies
    corrections: tuple[str | None, ...] = ()  # each message's DS correction reason, or None

    @property
    def connector_messages(self) -> int:
        """Messages the connector sent about the dossier's findings (with or without the correction flag)."""
        return sum(CONNECTOR_MESSAGE in body for body in self.messages)


def on_ds(store, number: int) -> OnDS:
    record = store.dossier(number)
    demarche = store.demarches[record.demarche]
    revision = demarche.revisions[record.revision]
    return OnDS(
        state=record.state,
        groupe=demarche.groupe(record.groupe).label,
        labels=frozenset(demarche.label(n).name for n in record.labels),
        annotations={d.label: record.annotations.get(d.key) for d in revision.annotations},
        messages=tuple(m.body for m in record.messages),
        corrections=tuple(m.correction for m in record.messages),
    )


DECIDED = ("accepte", "refuse", "sans_suite")
# WIF_PUSH_MESSAGE_RECENT_DAYS's default, written here: no message about a dossier the applicant left alone longer.
MESSAGE_RECENT = timedelta(days=60)


def applicant_recent(record, now: datetime | None = None) -> bool:
    """The applicant deposited, edited or was sent back their dossier within MESSAGE_RECENT (the sandbox's record)."""
    acted = [
        record.depose_at,
        record.champs_updated_at,
        *(t.at for t in record.traitements if t.state == "en_construction"),
    ]
    return (now or datetime.now(UTC)) - max(t for t in acted if t) <= MESSAGE_RECENT


def differences_on_ds(store, sessions, demarche_number: int = 1) -> dict[int, list[str]]:
    """What DS shows against what the connector's checks and routing concluded (its database), per dossier
    not yet decided (a decided one is the agents'): the one status label, the groupe, the « Complétude » and
    « Service » annotations, and one message about its findings for an incomplete dossier still
    en_construction that its applicant acted on within MESSAGE_RECENT. Judged on the sandbox's state alone."""
    with sessions() as session:
        local = {
            d.number: d
            for d in session.scalars(
                select(models.Dossier).where(
                    models.Dossier.demarche_number == demarche_number, models.Dossier.checked_at.is_not(None)
                )
            )
        }
    groupes = {g.label for g in store.demarches[demarche_number].groupes if not g.closed}
    differences = {}
    for record in store.visible_dossiers(demarche_number):
        dossier = local.get(record.number)
        if dossier is None or record.state in DECIDED:
            continue
        shown, status = on_ds(store, record.number), dossier.completeness_status or "a_verifier"
        wrong = []
        if shown.labels & set(LABEL_OF_STATUS.values()) != {LABEL_OF_STATUS[status]}:
            wrong.append(f"labels {sorted(shown.labels)}, status {status}")
        if dossier.target_groupe_label in groupes and shown.groupe != dossier.target_groupe_label:
            wrong.append(f"groupe {shown.groupe}, routed to {dossier.target_groupe_label}")
        if shown.annotations.get(COMPLETUDE) != COMPLETUDE_OF_STATUS[status]:
            wrong.append(f"Complétude {shown.annotations.get(COMPLETUDE)!r}, status {status}")
        if shown.annotations.get(SERVICE) != (dossier.service or NO_SERVICE):
            wrong.append(f"Service {shown.annotations.get(SERVICE)!r}, service {dossier.service}")
        # A dossier left alone longer may or may not have been asked (WIF_PUSH_MESSAGE_RECENT_DAYS is a setting).
        asked = status == "incomplet" and shown.state == "en_construction" and applicant_recent(record)
        if asked and shown.connector_messages != 1:
            wrong.append(f"{shown.connector_messages} message(s) about its findings")
        if wrong:
            differences[record.number] = wrong
    return differences
