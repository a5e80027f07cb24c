"""A push run: read the live démarche, settle what an earlier run left
uncertain, plan, hold the run if it would message too many dossiers, deliver."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from connector.batch import BatchLimits
from connector.client import DSClient
from connector.push.delivery import PushProgress, deliver_due
from connector.push.errors import PushStopped
from connector.push.intents import Target
from connector.push.live import PushBinding, PushDefinition, read_live
from connector.push.planning import plan_due
from connector.push.settling import settle_uncertain
from connector.push.summary import PushSummary
from core import models
from core.clock import utcnow
from core.settings import PushSettings
from core.snapshot import DossierSnapshot

log = logging.getLogger(__name__)


@dataclass
class Pusher:
    client: DSClient
    sessions: sessionmaker[Session]
    procedure: PushDefinition
    # Each démarche's binding, loaded once for the run (jobs.binding checks it first).
    bindings: Mapping[int, PushBinding]
    # The APT rules: what the dossier should show on DS (mappings.target.target_for).
    target_for: Callable[[DossierSnapshot], Target]
    instructeur_id: str
    dry_run: bool = False
    pass_complete_to_instruction: bool = False
    disable_notification: bool = False
    now: Callable[[], datetime] = utcnow
    backoff: timedelta = timedelta(minutes=5)
    limits: BatchLimits = field(default_factory=BatchLimits)
    # The circuit breaker (WIF_PUSH_MAX_MESSAGE_SHARE, WIF_PUSH_HOLD_MIN_MESSAGES); `force` overrides it.
    max_message_share: float = PushSettings.max_message_share
    hold_min_messages: int = PushSettings.hold_min_messages
    force: bool = False
    progress: PushProgress | None = None
    # getDemarcheDescriptor's answers the caller already read this run, by démarche (used once).
    demarches: dict[int, dict] = field(default_factory=dict)
    # Told the plan before anything is sent: (summary, mutations due, requests they need at most).
    announce: Callable[[PushSummary, int, int], None] | None = None
    # Test hooks: after each mutation is sent and recorded; after a request's
    # answer came back, before it is recorded (a kill there leaves rows `sending`).
    after_send: Callable[[models.PushOutbox], None] | None = None
    after_request: Callable[[list[models.PushOutbox]], None] | None = None

    def push(self, demarche_number: int, everything: bool = False, only: frozenset[int] | None = None) -> PushSummary:
        """Plan and send what DS lacks. Without `everything`, only dossiers
        synced since the last complete push, or still owed a mutation; with
        `only`, just those dossiers (a webhook's hint), and the checkpoint stays."""
        started = self.now()
        summary = PushSummary(demarche_number, max_message_share=self.max_message_share, dry_run=self.dry_run)
        requests_before = self.client.stats.requests
        binding = self.bindings.get(demarche_number)
        if binding is None:
            raise PushStopped(f"démarche {demarche_number} is not bound: nothing pushed; run `wif procedure bind`")
        live = read_live(self.client, demarche_number, self.procedure, binding, self.demarches.pop(demarche_number, None))
        for missing in live.missing:
            log.warning("push: %s is missing on the démarche: run `wif procedure check`", missing)
        if not self.dry_run:
            settle_uncertain(self, demarche_number, live, summary, only)
        managed = frozenset(label.key for label in self.procedure.labels)
        since = None if everything or only is not None else self._checkpoint(demarche_number)
        due = plan_due(self, demarche_number, since, only, live, managed, summary)
        if self._breaker_trips(summary):
            if not self.force:
                # The planned rows stay pending, owed: the next run plans them again and holds again until forced.
                summary.held = True
                summary.requests = self.client.stats.requests - requests_before
                log.warning("%s", summary.line())
                return summary
            summary.forced = True
            log.warning("push démarche %s: circuit breaker overridden by --force: %d message(s) for %d dossier(s)",
                        demarche_number, summary.messages_due, summary.dossiers)
        if self.announce:
            self.announce(summary, due, -(-due // max(1, self.limits.max_items)))
        if not self.dry_run and due:
            deliver_due(self, demarche_number, only, live, summary, due)
        summary.requests = self.client.stats.requests - requests_before
        # Dossiers skipped for a cause DS-side (groupe, membership, a missing
        # label or annotation) must be planned again once `procedure apply` ran.
        if only is None and not (self.dry_run or live.missing or summary.skipped_not_member or summary.skipped_missing_groupe):
            self._advance_checkpoint(demarche_number, started)
        return summary

    def _breaker_trips(self, summary: PushSummary) -> bool:
        """Would this run message too many of the dossiers it considers? Many applicants asked to
        correct at once is what a misread form (other ids, renamed champs) looks like; the whole run
        is held, annotations and labels too, because they come from the same reading of the form."""
        return (summary.messages_due > self.hold_min_messages
                and summary.messages_due > self.max_message_share * summary.dossiers)

    def _checkpoint(self, demarche_number: int) -> datetime | None:
        with self.sessions() as session:
            state = session.get(models.SyncState, demarche_number)
            return state.push_checkpoint if state else None

    def _advance_checkpoint(self, demarche_number: int, started: datetime) -> None:
        with self.sessions() as session:
            state = session.get(models.SyncState, demarche_number)
            if state is not None:
                state.push_checkpoint = started
                session.commit()
