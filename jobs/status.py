"""`wif status`: last run of each job, watermark per démarche, outbox backlogs."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import ChampBinding, Dossier, JobRun, MappingIssue, QuarantinedDossier, SyncState
from core.settings import Settings
from mappings.dossier import UNKNOWN_CHAMP
from notifications.digest import unreached, unreached_lines

# "module:function(session)" returning an object with name, pending, failed:
# one line per outbox in `wif status`; a new outbox adds its provider here.
BACKLOG_PROVIDERS = ("mail.outbox:backlog", "jobs.status:push_backlog")


@dataclass(frozen=True)
class LastRun:
    job: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    summary: str | None


@dataclass(frozen=True)
class Watermark:
    demarche_number: int
    updated_since: datetime
    last_seen_updated_at: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True)
class BacklogLine:
    name: str
    pending: int
    failed: int
    uncertain: int = 0  # sent, answer never recorded: settled from DS on the next run


@dataclass(frozen=True)
class QuarantineLine:
    demarche_number: int
    dossier_number: int
    status: str  # failing | partial | unstorable
    error: str
    error_path: str | None
    champ: str | None
    attempts: int
    first_seen_at: datetime
    last_attempt_at: datetime


@dataclass(frozen=True)
class BindingLine:
    """A démarche of DS_DEMARCHE_NUMBER and its stored binding (None: sync and push refuse it)."""

    demarche_number: int
    keys: int | None = None
    revision_id: str | None = None
    bound_at: datetime | None = None


@dataclass(frozen=True)
class UnknownChamp:
    """A champ DS sends on some dossiers that the procedure does not know: a form change on DS, the operators'
    to settle (the dossiers' status ignores it)."""

    demarche_number: int
    label: str
    dossiers: int
    examples: tuple[int, ...]  # a few dossier numbers, to look one up on DS


UNKNOWN_CHAMP_EXAMPLES = 3


def unknown_champs(session: Session, demarche_number: int | None = None) -> list[UnknownChamp]:
    """The champs unknown to the procedure on the live dossiers, the most widespread first."""
    query = (
        select(Dossier.demarche_number, MappingIssue.field, Dossier.number)
        .join(Dossier, Dossier.number == MappingIssue.dossier_number)
        .where(MappingIssue.code == UNKNOWN_CHAMP, Dossier.deleted_at.is_(None), Dossier.hidden_at.is_(None))
        .distinct()
        .order_by(Dossier.number)
    )
    if demarche_number is not None:
        query = query.where(Dossier.demarche_number == demarche_number)
    found: dict[tuple[int, str], list[int]] = {}
    for demarche, label, number in session.execute(query):
        found.setdefault((demarche, label), []).append(number)
    return sorted(
        (
            UnknownChamp(demarche, label, len(numbers), tuple(numbers[:UNKNOWN_CHAMP_EXAMPLES]))
            for (demarche, label), numbers in found.items()
        ),
        key=lambda u: (u.demarche_number, -u.dossiers),
    )


def unknown_champ_lines(champs: list[UnknownChamp]) -> list[str]:
    return [
        f"démarche {u.demarche_number}: champ « {u.label} » unknown to mappings/procedure.yaml on {u.dossiers} "
        f"dossier(s) (e.g. {', '.join(map(str, u.examples))}): a form change on DS; add the champ to the "
        "procedure and bind it, or remove it from the form (the dossiers' status ignores it)"
        for u in champs
    ]


@dataclass(frozen=True)
class UncertainRow:
    """A push mutation sent whose outcome was never recorded (a kill, a lost answer)."""

    dossier_number: int
    kind: str
    attempts: int
    created_at: datetime


# `wif status` names the uncertain rows up to this many, then counts the rest.
UNCERTAIN_SHOWN = 20


@dataclass(frozen=True)
class Status:
    jobs: list[LastRun]
    watermarks: list[Watermark]
    backlogs: list[BacklogLine]
    webhooks: dict[str, int] = field(default_factory=dict)  # what the webhook endpoints received, by outcome
    pending_hints: int = 0
    quarantined: list[QuarantineLine] = field(default_factory=list)
    uncertain_rows: list[UncertainRow] = field(default_factory=list)
    bindings: list[BindingLine] = field(default_factory=list)
    # Dossiers waiting for a decision whose groupe no digest nor report reaches (notifications.digest.unreached)
    unreached: dict[str, int] = field(default_factory=dict)
    unknown_champs: list[UnknownChamp] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(run.outcome not in ("failed", "interrupted") for run in self.jobs)


def last_runs(session: Session) -> list[LastRun]:
    latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    rows = session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id).order_by(JobRun.job))
    return [LastRun(r.job, r.started_at, r.finished_at, r.outcome, r.summary) for r in rows]


def watermarks(session: Session) -> list[Watermark]:
    rows = session.scalars(select(SyncState).order_by(SyncState.demarche_number))
    return [Watermark(r.demarche_number, r.updated_since, r.last_seen_updated_at, r.last_success_at) for r in rows]


def push_backlog(session: Session) -> BacklogLine:
    from core.models import PushOutbox

    counts = dict(session.execute(select(PushOutbox.status, func.count()).group_by(PushOutbox.status)).all())
    return BacklogLine("push", counts.get("pending", 0), counts.get("failed", 0), counts.get("sending", 0))


def backlogs(session: Session, providers=BACKLOG_PROVIDERS) -> list[BacklogLine]:
    lines = []
    for provider in providers:
        module_name, _, function_name = provider.partition(":")
        try:
            count = getattr(importlib.import_module(module_name), function_name)(session)
        except (ImportError, AttributeError):
            continue  # that outbox is not installed in this build
        lines.append(BacklogLine(count.name, count.pending, count.failed, getattr(count, "uncertain", 0)))
    return lines


def webhook_counts(session: Session) -> tuple[dict[str, int], int]:
    from sqlalchemy import or_

    from core.models import DossierHint, WebhookCounter

    counts = dict(
        session.execute(select(WebhookCounter.name, WebhookCounter.count).order_by(WebhookCounter.name)).all()
    )
    pending = session.scalar(
        select(func.count())
        .select_from(DossierHint)
        .where(or_(DossierHint.handled_at.is_(None), DossierHint.handled_at < DossierHint.received_at))
    )
    return counts, pending or 0


def quarantine(session: Session) -> list[QuarantineLine]:
    rows = session.scalars(
        select(QuarantinedDossier).order_by(QuarantinedDossier.demarche_number, QuarantinedDossier.dossier_number)
    )
    return [
        QuarantineLine(
            r.demarche_number,
            r.dossier_number,
            r.status,
            r.error,
            r.error_path,
            r.champ,
            r.attempts,
            r.first_seen_at,
            r.last_attempt_at,
        )
        for r in rows
    ]


def uncertain_rows(session: Session) -> list[UncertainRow]:
    from core.models import PushOutbox

    rows = session.execute(
        select(PushOutbox.dossier_number, PushOutbox.kind, PushOutbox.attempts, PushOutbox.created_at)
        .where(PushOutbox.status == "sending")
        .order_by(PushOutbox.dossier_number, PushOutbox.id)
        .limit(UNCERTAIN_SHOWN)
    )
    return [UncertainRow(*row) for row in rows]


def bindings(session: Session, demarche_numbers: tuple[int, ...]) -> list[BindingLine]:
    stored = {
        number: BindingLine(number, keys, revision_id, bound_at)
        for number, keys, revision_id, bound_at in session.execute(
            select(
                ChampBinding.demarche_number,
                func.count(),
                func.max(ChampBinding.revision_id),
                func.max(ChampBinding.bound_at),
            ).group_by(ChampBinding.demarche_number)
        )
    }
    return [stored.get(number, BindingLine(number)) for number in sorted(set(demarche_numbers) | set(stored))]


def collect_status(
    session: Session, demarche_numbers: tuple[int, ...] = (), settings: Settings | None = None
) -> Status:
    counts, pending = webhook_counts(session)
    return Status(
        jobs=last_runs(session),
        watermarks=watermarks(session),
        backlogs=backlogs(session),
        webhooks=counts,
        pending_hints=pending,
        quarantined=quarantine(session),
        uncertain_rows=uncertain_rows(session),
        bindings=bindings(session, demarche_numbers),
        unreached=unreached(session, settings) if settings is not None else {},
        unknown_champs=unknown_champs(session),
    )


QUARANTINE_MEANING = {
    "failing": "DS cannot give it: not stored, retried at every sync",
    "partial": "stored without the champs' objects, « À vérifier »; retried whole at every sync",
    "unstorable": "the database refused its rows: not stored, retried at every sync",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def format_status(status: Status) -> str:
    lines = ["Jobs (last run):"]
    lines += [
        f"  {run.job:<8} {run.outcome:<8} started {_when(run.started_at)}  finished {_when(run.finished_at)}"
        + (f"  {run.summary}" if run.summary else "")
        for run in status.jobs
    ] or ["  no job has run yet"]
    lines.append("Watermarks (per démarche):")
    lines += [
        f"  démarche {mark.demarche_number}: updatedSince {_when(mark.updated_since)}, "
        f"last change seen {_when(mark.last_seen_updated_at)}, last success {_when(mark.last_success_at)}"
        for mark in status.watermarks
    ] or ["  no démarche synced yet"]
    if status.bindings:
        lines.append("Bindings (per démarche):")
        lines += [
            f"  démarche {line.demarche_number}: {line.keys} keys bound to revision {line.revision_id},"
            f" {_when(line.bound_at)}"
            if line.keys
            else f"  démarche {line.demarche_number}: not bound: sync and push refuse it;"
            f" run `wif procedure bind --demarche {line.demarche_number}`"
            for line in status.bindings
        ]
    lines.append("Outbox backlogs:")
    lines += [
        f"  {line.name:<14} pending {line.pending}, failed {line.failed}"
        + (
            f", uncertain {line.uncertain} (sent, outcome not recorded: read back from DS on the next run)"
            if line.uncertain
            else ""
        )
        for line in status.backlogs
    ]
    if status.uncertain_rows:
        total = sum(line.uncertain for line in status.backlogs if line.name == "push")
        lines.append(
            f"Uncertain push mutations ({total}; the next push reads each dossier on DS, then marks "
            "the mutation delivered or sends it again):"
        )
        lines += [
            f"  dossier {row.dossier_number}: {row.kind}, {row.attempts} attempt(s), planned {_when(row.created_at)}"
            for row in status.uncertain_rows
        ]
        if total > len(status.uncertain_rows):
            lines.append(f"  … and {total - len(status.uncertain_rows)} more")
    if status.quarantined:
        lines.append(f"Quarantined dossiers ({len(status.quarantined)}):")
        lines += [
            f"  démarche {q.demarche_number} dossier {q.dossier_number}:"
            f" {q.status} ({QUARANTINE_MEANING.get(q.status, '')})"
            f", {q.attempts} attempt(s) since {_when(q.first_seen_at)}: {q.error}"
            + (f" at {q.error_path}" if q.error_path else "")
            + (f", champ « {q.champ} »" if q.champ else "")
            for q in status.quarantined
        ]
    if status.unknown_champs:
        lines.append(f"Champs unknown to the procedure ({len(status.unknown_champs)}):")
        lines += [f"  {line}" for line in unknown_champ_lines(status.unknown_champs)]
    if status.unreached:
        lines.append("Digests and reports:")
        lines += [f"  {line}" for line in unreached_lines(status.unreached)]
    if status.webhooks or status.pending_hints:
        lines.append("Webhooks (received, by outcome):")
        lines.append(
            "  "
            + ", ".join(f"{name} {count}" for name, count in status.webhooks.items())
            + f"; dossiers waiting to be fetched: {status.pending_hints}"
        )
    return "\n".join(lines)
