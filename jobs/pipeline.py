"""The sync → push pipeline that `wif sync`, `wif push` and the scheduler share.

It only wires the packages: the DS adapter (connector) fetches and writes,
the APT domain (mappings) evaluates, validity keeps its records in step.
"""
from __future__ import annotations

import logging
import sys
from datetime import timedelta

from connector.push import PushSummary, Pusher
from connector.errors import DSError
from connector.sync import SyncSummary, Syncer
from core.clock import paris_today
from core.settings import Settings
from jobs.runtime import make_client, open_database
from mappings.pipeline import Evaluator
from mappings.procedure import default_procedure
from mappings.target import target_for

log = logging.getLogger(__name__)


def run_sync(
    settings: Settings,
    *,
    demarches: tuple[int, ...] | None = None,
    full: bool = False,
    force_rescan: bool = False,
    dry_run: bool = False,
    push: bool = True,
) -> list[SyncSummary]:
    """Sync every démarche (and push back, when enabled). Used by the CLI and the scheduler."""
    engine, sessions = open_database(settings)
    summaries = []
    try:
        with make_client(settings) as client:
            syncer = Syncer(
                client=client,
                sessions=sessions,
                evaluate=Evaluator.default(settings.sync.routing_key).rows,
                page_size=settings.ds.page_size,
                rescan_every=timedelta(hours=settings.sync.rescan_every_hours),
                rescan_overlap=timedelta(minutes=settings.sync.rescan_overlap_minutes),
                dry_run=dry_run,
                progress=_progress_printer() if sys.stderr.isatty() else None,
                after_page=validity_refresher(settings),
            )
            for number in demarches or settings.ds.demarche_numbers:
                summaries.append(syncer.sync(number, full=full, force_rescan=force_rescan))
            if push and settings.push.enabled and not dry_run:
                pushes = run_push(
                    settings, demarches=demarches, client=client,
                    pass_to_instruction=settings.push.pass_to_instruction, disable_notification=settings.push.disable_notification,
                )
                for summary, pushed in zip(summaries, pushes):
                    summary.push_line = pushed.line()
    finally:
        engine.dispose()
    return summaries


def validity_refresher(settings: Settings):
    """Keep the public validity records in step with each page, when a pepper
    is configured (without one the records could not be looked up anyway)."""
    from validity.store import refresh_validity

    pepper, keep_days = settings.validity.pepper, settings.validity.keep_days
    if not pepper:
        log.info("WIF_VALIDITY_PEPPER is not set: the public validity records are not maintained")
        return None
    return lambda session, numbers: refresh_validity(session, numbers, paris_today(), pepper=pepper, keep_days=keep_days)


def run_push(
    settings: Settings,
    *,
    demarches: tuple[int, ...] | None = None,
    dry_run: bool = False,
    everything: bool = False,
    pass_to_instruction: bool = False,
    disable_notification: bool = False,
    client=None,
) -> list[PushSummary]:
    if not settings.ds.instructeur_id:
        raise DSError("DS_INSTRUCTEUR_ID is empty: push needs the connector's instructeur (Instructeur-<id>, base64)")
    engine, sessions = open_database(settings)
    own_client = client is None
    client = client or make_client(settings)
    try:
        pusher = Pusher(
            client=client,
            sessions=sessions,
            procedure=default_procedure(),
            target_for=target_for,
            instructeur_id=settings.ds.instructeur_id,
            dry_run=dry_run,
            pass_complete_to_instruction=pass_to_instruction,
            disable_notification=disable_notification,
        )
        summaries = [pusher.push(number, everything) for number in demarches or settings.ds.demarche_numbers]
    finally:
        if own_client:
            client.close()
        engine.dispose()
    return summaries


def _progress_printer():
    def show(summary: SyncSummary) -> None:
        sys.stderr.write(
            f"\rdémarche {summary.demarche_number}: {summary.pages} pages, {summary.fetched} dossiers "
            f"({summary.created} new, {summary.updated} updated)"
        )
        sys.stderr.flush()

    return show
