"""A push run: read the live démarche, settle what an earlier run left
uncertain, plan, hold the run if it would message too many dossiers, deliver."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from connector.batch import BatchLimits
from connector.client import DSClient
from connector.push.delivery import deliver_due
from connector.push.errors import PushStopped
from connector.push.intents import Target
from connector.push.live import PushBinding, PushDefinition, read_live
from connector.push.planning import Wants, plan_due
from connector.push.run import PushProgress, PushRun
from connector.push.settling import settle_uncertain
from connector.push.summary import PushSummary
from core import models
from core.clock import utcnow
from core.settings import PushSettings
from core.snapshot import DossierSnapshot

log = logging.getLogger(__name__)


@dataclass
class PushPlan:
    """A run planned and not sent yet: `lines()` tell the operator what it will send (`Pusher.send` sends it)."""

    run: PushRun
    started: datetime
    requests_before: int

    @property
    def summary(self) -> PushSummary:
        return self.run.summary

    def lines(self) -> list[str]:
        return self.summary.plan_lines()


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
    # Passing complete dossiers to instruction, the batch size, the circuit breaker (WIF_PUSH_*).
    policy: PushSettings = field(default_factory=PushSettings)
    dry_run: bool = False
    force: bool = False  # overrides the circuit breaker
    clock: Callable[[], datetime] = utcnow
    progress: PushProgress | None = None
    # getDemarcheDescriptor's answers the caller already read this run, by démarche (used once).
    demarches: dict[int, dict] = field(default_factory=dict)
    # Halved when DS is slow, for the rest of the pusher's runs.
    limits: BatchLimits = field(init=False)

    def __post_init__(self) -> None:
        self.limits = BatchLimits(max_items=self.policy.batch_size)

    def push(self, demarche_number: int, everything: bool = False, only: frozenset[int] | None = None) -> PushSummary:
        """Plan, then send what DS lacks (see `plan`)."""
        return self.send(self.plan(demarche_number, everything, only))

    def plan(self, demarche_number: int, everything: bool = False, only: frozenset[int] | None = None) -> PushPlan:
        """Settle what an earlier run left uncertain, then write what each dossier needs to the outbox; nothing
        new is sent yet. Without `everything`, only dossiers synced since the last complete push, or still owed
        a mutation; with `only`, just those dossiers (a webhook's hint), and the checkpoint stays."""
        started = self.clock()
        summary = PushSummary(
            demarche_number,
            max_message_share=self.policy.max_message_share,
            dry_run=self.dry_run,
            message_recent_days=self.policy.message_recent_days,
        )
        requests_before = self.client.stats.requests
        binding = self.bindings.get(demarche_number)
        if binding is None:
            raise PushStopped(f"démarche {demarche_number} is not bound: nothing pushed; run `wif procedure bind`")
        descriptor = self.demarches.pop(demarche_number, None)
        live = read_live(self.client, demarche_number, self.procedure, binding, descriptor)
        for missing in live.missing:
            log.warning("push: %s is missing on the démarche: run `wif procedure check`", missing)
        if not any(self.instructeur_id in groupe["instructeurs"] for groupe in live.groupes.values()):
            # No annotation or message could ever be written (docs/ds-push.md#wrong-instructeur-id): stop before
            # anything, groupes and labels included, so no dossier is left half-written.
            raise PushStopped(
                f"DS_INSTRUCTEUR_ID is not an instructeur of any groupe of démarche {demarche_number} on DS (a wrong "
                "id, or one never added): push stopped, nothing sent; check DS_INSTRUCTEUR_ID, then run "
                "`wif procedure apply --yes` to make it a member of every groupe"
            )
        run = PushRun(
            demarche_number,
            self.client,
            self.sessions,
            self.clock,
            self.instructeur_id,
            live,
            summary,
            self.limits,
            only,
            self.dry_run,
            self.progress,
        )
        if not self.dry_run:
            settle_uncertain(run)
        since = None if everything or only is not None else self._checkpoint(demarche_number)
        summary.due = plan_due(run, since, self._wants())
        summary.max_requests = -(-summary.due // max(1, self.limits.max_items))
        budget = self.client.budget
        summary.requests_per_minute = budget.push_limit * 60 / budget.per_seconds
        if self._breaker_trips(summary):
            if not self.force:
                # The planned rows stay pending, owed: the next run plans them again and holds again until forced.
                summary.held = True
                log.warning("%s", summary.line())
            else:
                summary.forced = True
                log.warning(
                    "push démarche %s: circuit breaker overridden by --force: %d message(s) for %d dossier(s)",
                    demarche_number,
                    summary.messages_due,
                    summary.dossiers,
                )
        summary.requests = self.client.stats.requests - requests_before
        return PushPlan(run, started, requests_before)

    def send(self, planned: PushPlan) -> PushSummary:
        """Send what `plan` wrote (nothing when the run is held or dry), then move the checkpoint."""
        run, summary = planned.run, planned.summary
        if summary.held:
            return summary
        try:
            if not self.dry_run and summary.due:
                deliver_due(run, summary.due)
        finally:
            self.limits = run.limits
        summary.requests = self.client.stats.requests - planned.requests_before
        # Dossiers skipped for a cause DS-side (groupe, membership, a missing
        # label or annotation) must be planned again once `procedure apply` ran.
        if run.only is None and not (
            self.dry_run or run.live.missing or summary.skipped_not_member or summary.skipped_missing_groupe
        ):
            self._advance_checkpoint(run.demarche_number, planned.started)
        return summary

    def _wants(self) -> Wants:
        instruction = {"disable_notification": self.policy.disable_notification}
        return Wants(
            self.target_for,
            frozenset(label.key for label in self.procedure.labels),
            instruction if self.policy.pass_to_instruction else None,
            timedelta(days=self.policy.message_recent_days),
        )

    def _breaker_trips(self, summary: PushSummary) -> bool:
        """Would this run message too many of the dossiers it considers? Many applicants asked to
        correct at once is what a misread form (other ids, renamed champs) looks like; the whole run
        is held, annotations and labels too, because they come from the same reading of the form. Messages
        withheld about old dossiers count: they tell of that reading as much as the others."""
        asked = summary.messages_due + summary.messages_held_back
        return asked > self.policy.hold_min_messages and asked > self.policy.max_message_share * summary.dossiers

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
