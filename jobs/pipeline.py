"""The sync → push pipeline that `wif sync`, `wif push` and the scheduler share.

It only wires the packages: the DS adapter (connector) fetches and writes,
the APT domain (mappings) evaluates, validity keeps its records in step.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from connector.errors import DSError
from connector.push import Pusher, PushSummary
from connector.ratelimit import PUSH
from connector.revision import published_revision
from connector.sync import Syncer, SyncSummary
from core.clock import paris_today, utcnow
from core.settings import Settings
from core.snapshot import delay_cohort
from jobs.binding import RunBinding, require_binding
from jobs.progress import PushBar, SyncBar, on_terminal
from jobs.runtime import make_client
from jobs.student_files import student_file_refresher
from mappings.expected_delay import per_service, window_start
from mappings.pipeline import Evaluator
from mappings.procedure import default_procedure
from mappings.target import target_for

log = logging.getLogger(__name__)


def run_sync(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    demarches: tuple[int, ...] | None = None,
    full: bool = False,
    force_rescan: bool = False,
    dry_run: bool = False,
    push: bool = True,
    force: bool = False,
) -> list[SyncSummary]:
    """Sync every démarche (and push back, when enabled). Used by the CLI and the scheduler.

    Every démarche's binding is checked against its published revision first:
    one that is unbound, or whose binding no longer fits, raises NotBound
    before anything is fetched, mapped or pushed."""
    summaries = []
    numbers = tuple(demarches or settings.ds.demarche_numbers)
    with make_client(settings) as client:
        checked = {number: require_binding(client, sessions, number) for number in numbers}
        bar = SyncBar() if on_terminal() else None
        for number in numbers:
            syncer = make_syncer(settings, client, sessions, checked[number], dry_run=dry_run, progress=bar)
            summaries.append(syncer.sync(number, full=full, force_rescan=force_rescan))
    if bar:
        bar.close()
    if push and settings.push.enabled and not dry_run:
        pushes = run_push(
            settings,
            sessions,
            demarches=numbers,
            pass_to_instruction=settings.push.pass_to_instruction,
            disable_notification=settings.push.disable_notification,
            announce=say_on_terminal if on_terminal() else None,
            force=force,
            checked=checked,
        )
        for summary, pushed in zip(summaries, pushes, strict=False):
            summary.push_line = pushed.line()
            summary.push_held = pushed.held
    return summaries


def say_on_terminal(line: str) -> None:
    """A line for the person watching (the push's forecast), at once, beside the progress bars."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


def make_syncer(
    settings: Settings, client, sessions, checked: RunBinding, *, dry_run: bool = False, progress=None
) -> Syncer:
    """A syncer for one démarche: its dossiers are read through that démarche's binding; after each page, the
    students' files across dossiers, then the validity records."""
    evaluator = Evaluator.default(checked.binding, settings.sync.routing_key)
    return Syncer(
        client=client,
        sessions=sessions,
        evaluate=evaluator.rows,
        page_size=settings.ds.page_size,
        rescan_every=timedelta(hours=settings.sync.rescan_every_hours),
        rescan_overlap=timedelta(minutes=settings.sync.rescan_overlap_minutes),
        dry_run=dry_run,
        progress=progress,
        after_page=student_file_refresher(evaluator.rules, then=validity_refresher(settings)),
        published_revision=published_revision(checked.demarche),
    )


def make_pusher(
    settings: Settings,
    client,
    sessions,
    checked: dict[int, RunBinding],
    *,
    dry_run: bool = False,
    pass_to_instruction: bool = False,
    disable_notification: bool = False,
    force: bool = False,
) -> Pusher:
    return Pusher(
        client=client,
        sessions=sessions,
        procedure=default_procedure(),
        bindings={number: c.binding for number, c in checked.items()},
        demarches={number: c.demarche for number, c in checked.items()},
        target_for=partial(target_for, delays=service_delays(sessions)),
        instructeur_id=settings.ds.instructeur_id,
        policy=replace(
            settings.push, pass_to_instruction=pass_to_instruction, disable_notification=disable_notification
        ),
        dry_run=dry_run,
        force=force,
    )


def validity_refresher(settings: Settings):
    """Keep the public validity records in step with each page, when a pepper
    is configured (without one the records could not be looked up anyway)."""
    from validity.store import refresh_validity

    pepper, keep_days = settings.validity.pepper, settings.validity.keep_days
    if not pepper:
        log.info("WIF_VALIDITY_PEPPER is not set: the public validity records are not maintained")
        return None
    return lambda session, numbers: refresh_validity(
        session, numbers, paris_today(), pepper=pepper, keep_days=keep_days
    )


def run_push(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    demarches: tuple[int, ...] | None = None,
    dry_run: bool = False,
    everything: bool = False,
    pass_to_instruction: bool = False,
    disable_notification: bool = False,
    announce: Callable[[str], None] | None = None,
    force: bool = False,
    checked: dict[int, RunBinding] | None = None,
) -> list[PushSummary]:
    """Push every démarche on a client of push priority (sync goes first on the
    token's budget). `announce`: where to say, before sending, what the run
    plans (a dry run's mutations; how many it will send and how long the budget
    makes that take). `checked`:
    the bindings the sync of this run checked; otherwise they are checked here
    first (NotBound: nothing is sent)."""
    if not settings.ds.instructeur_id:
        raise DSError("DS_INSTRUCTEUR_ID is empty: push needs the connector's instructeur (Instructeur-<id>, base64)")
    client = make_client(settings, PUSH)
    summaries = []
    numbers = tuple(demarches or settings.ds.demarche_numbers)
    try:
        if checked is None:
            checked = {number: require_binding(client, sessions, number) for number in numbers}
        pusher = make_pusher(
            settings,
            client,
            sessions,
            checked,
            dry_run=dry_run,
            pass_to_instruction=pass_to_instruction,
            disable_notification=disable_notification,
            force=force,
        )
        for number in numbers:
            pusher.progress = PushBar(number) if on_terminal() and not dry_run else None
            planned = pusher.plan(number, everything)
            if announce is not None:
                for line in planned.lines():
                    announce(line)
            summaries.append(pusher.send(planned))
    finally:
        client.close()
    return summaries


def service_delays(sessions, now=None) -> dict:
    """The expected decision delay of each service, from the local history (for the agents' annotation)."""
    now = now or utcnow()
    with sessions() as session:
        return per_service(delay_cohort(session, window_start(now)), now)


def run_hints(settings: Settings, sessions, hints, *, push: bool = True) -> list[str]:
    """Fetch the dossiers webhooks pointed at, then push those dossiers only.
    Returns one line per démarche; the hints are marked handled by the caller."""
    by_demarche: dict[int, list[int]] = {}
    for hint in hints:
        if hint.demarche_number in settings.ds.demarche_numbers:
            by_demarche.setdefault(hint.demarche_number, []).append(hint.dossier_number)
    lines: list[str] = []
    if not by_demarche:
        return lines
    with make_client(settings) as reader:
        checked = {demarche: require_binding(reader, sessions, demarche) for demarche in by_demarche}
        for demarche, numbers in by_demarche.items():
            syncer = make_syncer(settings, reader, sessions, checked[demarche])
            fetched = syncer.refresh(demarche, sorted(set(numbers)))
            lines.append(
                f"hints démarche {demarche}: {len(numbers)} dossier(s), {fetched.created + fetched.updated} changed, "
                f"{fetched.requests} request(s)"
            )
    if push and settings.push.enabled and settings.ds.instructeur_id:
        with make_client(settings, PUSH) as writer:
            pusher = make_pusher(
                settings,
                writer,
                sessions,
                checked,
                pass_to_instruction=settings.push.pass_to_instruction,
                disable_notification=settings.push.disable_notification,
            )
            for demarche, numbers in by_demarche.items():
                lines.append(pusher.push(demarche, only=frozenset(numbers)).line())
    return lines
