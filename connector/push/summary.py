"""What a push run is about to send, and what it did (or, held or dry, would do): data, and lines for the operator."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.settings import PushSettings


@dataclass
class PushSummary:
    demarche_number: int
    dossiers: int = 0
    planned: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    deferred: int = 0
    requests: int = 0  # mutation requests (batches)
    already_on_ds: int = 0  # uncertain mutations found applied when DS was read back
    uncertain: int = 0  # mutations whose answer was lost (read back from DS before any resend)
    earlier_uncertain: int = 0  # mutations a previous run left `sending` (e.g. killed), settled at the start
    skipped_not_member: dict[str, int] = field(default_factory=dict)
    skipped_missing_groupe: dict[str, int] = field(default_factory=dict)
    planned_by_kind: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)  # DS error message → dossiers
    messages_due: int = 0  # dossiers this run would send a message to the applicant (one message each at most)
    withdrawn: int = 0  # messages not sent: DS showed the dossier no longer en_construction just before
    # Messages not planned: the applicant has not acted on the dossier for longer than WIF_PUSH_MESSAGE_RECENT_DAYS.
    messages_held_back: int = 0
    message_recent_days: int = PushSettings.message_recent_days
    held: bool = False  # the circuit breaker tripped: nothing was sent (dry run: nothing would be)
    forced: bool = False  # the circuit breaker would have tripped, but the run was forced
    max_message_share: float = PushSettings.max_message_share
    dry_run: bool = False
    # The plan, known before anything is sent: mutations due now, the requests they take at most,
    # and the push share of the request budget that paces them.
    due: int = 0
    max_requests: int = 0
    requests_per_minute: float = 0.0
    listing: list[str] = field(default_factory=list)  # a dry run's mutations, one line each

    def announcement(self) -> str | None:
        """How many mutations the run will send and how long the budget makes that take, at least."""
        if not self.due or self.held:
            return None
        minutes = self.max_requests / self.requests_per_minute if self.requests_per_minute else 0.0
        took = (
            "under a second"
            if minutes * 60 < 1
            else f"at least {minutes * 60:.0f} s"
            if minutes < 2
            else f"at least {minutes:.0f} min"
        )
        return (
            f"push démarche {self.demarche_number}: {self.due} mutations to send for {self.dossiers} dossiers, "
            f"in at most {self.max_requests} requests; at {self.requests_per_minute:.0f} push requests/min "
            f"the budget makes that {took}"
        )

    def plan_lines(self) -> list[str]:
        """Told before anything is sent: a dry run's mutations, or what the run will send."""
        announcement = self.announcement()
        return self.listing + ([announcement] if announcement else [])

    def lines(self) -> list[str]:
        """Told once the run is over."""
        return [self.line()]

    @property
    def mutations_per_request(self) -> float:
        return self.sent / self.requests if self.requests else 0.0

    def _messages_text(self) -> str:
        asked = self.messages_due + self.messages_held_back
        share = asked / self.dossiers if self.dossiers else 0.0
        withheld = f" ({self.messages_held_back} of them withheld as old)" if self.messages_held_back else ""
        return (
            f"{asked} of {self.dossiers} dossiers ({share:.0%}) would get a message to the applicant{withheld}, "
            f"above the {self.max_message_share:.0%} limit (WIF_PUSH_MAX_MESSAGE_SHARE)"
        )

    def line(self) -> str:
        if self.held:
            # Never a "delivered" count here: nothing was.
            if self.dry_run:
                return (
                    f"push démarche {self.demarche_number}: {self.dossiers} dossiers, {self.planned} mutations "
                    "planned; "
                    f"a real run would HOLD them all: {self._messages_text()}; `--force` sends them"
                )
            return (
                f"push démarche {self.demarche_number}: HELD, nothing sent: {self._messages_text()}; "
                f"{self.planned} mutations kept unsent. If the form changed, check it (`wif procedure check`); "
                f"if these messages are right, run `wif push --force`"
            )
        delivered = f"{self.delivered} delivered"
        if self.already_on_ds:
            delivered += f" ({self.already_on_ds} already on DS)"
        text = (
            f"push démarche {self.demarche_number}: {self.dossiers} dossiers, {self.planned} mutations planned, "
            f"{delivered}, {self.failed} failed, {self.deferred} deferred"
        )
        if self.requests:
            text += f", {self.requests} requests"
        if self.earlier_uncertain:
            text += f"; {self.earlier_uncertain} mutation(s) left uncertain by an earlier run settled from DS"
        if self.skipped_not_member:
            text += (
                f"; connector instructeur not in groupe(s) {sorted(self.skipped_not_member)}: run `wif procedure apply`"
            )
        for message, count in sorted(self.refusals.items()):
            text += f"; DS refused ({count} dossier(s)): {message}"
        if self.skipped_missing_groupe:
            text += f"; groupe(s) missing on DS {sorted(self.skipped_missing_groupe)}: run `wif procedure apply`"
        if self.withdrawn:
            text += f"; {self.withdrawn} message(s) not sent: the dossier left en_construction on DS since the sync"
        if self.messages_held_back:
            text += (
                f"; {self.messages_held_back} message(s) withheld: the applicant has not acted on the dossier "
                f"for more than {self.message_recent_days} days (WIF_PUSH_MESSAGE_RECENT_DAYS)"
            )
        if self.forced:
            text += f"; circuit breaker overridden (--force): {self._messages_text()}"
        return text
