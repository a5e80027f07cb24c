"""Incremental sync of a démarche, the way DS recommends (docs/ds-sync.md#a-fixed-updatedsince-and-a-stored-cursor).

1. `dossiers(updatedSince: <fixed date>, after: <stored endCursor>)` until
   `hasNextPage` is false. Each page and the new cursor are committed in one
   transaction, so a crash anywhere loses nothing and a rerun converges.
2. A periodic re-scan from the last re-scan minus an overlap, without cursor,
   deduplicated on (number, dateDerniereModification): it catches a change
   committed late with an `updated_at` older than the cursor.
3. `pendingDeletedDossiers` (trash: hidden, restorable) and `deletedDossiers`
   (gone: tombstone), keyed by dossier number, with their own cursors.
4. After DS publishes a revision, the dossiers not yet decided that the
   local copy still shows on another one are read again by number: DS moves
   them onto it without touching dateDerniereModification
   (docs/ds-revisions.md#rebase), so neither 1 nor 2 brings them back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, true, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from connector import store
from connector.batch import BatchItem, BatchLimits, split
from connector.client import DSClient
from connector.datetimes import ds_datetime, format_ds_datetime, parse_ds_datetime
from connector.errors import DSForbidden, DSGraphQLError, DSNotFound
from connector.pagination import (
    DOSSIER_REQUIRED,
    FailedNode,
    Page,
    PageInconsistent,
    execute_through_timeouts,
    iter_pages,
    prefetched,
    schema_break,
    schema_break_message,
)
from connector.storable import replace_unstorable
from core import models
from core.clock import utcnow

log = logging.getLogger(__name__)

# The fixed `updatedSince` DS recommends: older than any dossier.
FIXED_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
# Whole dossiers per request when a webhook points at several.
REFRESH_LIMITS = BatchLimits(max_items=20)
# DS moves the dossiers 30 s after publishing, as a queued job: a dossier read within this time of the publication
# may not have moved yet and is read again; one read later that is still on another revision stays there (DS did not
# move it), so it is not read at every sync (docs/ds-revisions.md#rebase).
REBASE_SETTLED = timedelta(minutes=10)
UNDECIDED = ("en_construction", "en_instruction")


@dataclass
class SyncSummary:
    demarche_number: int
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    trashed: int = 0
    deleted: int = 0
    removed: int = 0
    quarantined: int = 0  # dossiers in quarantine after the run (see `wif status`)
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    rescanned: bool = False
    rebased: int = 0  # dossiers read again because DS moved them onto a newly published revision
    push_line: str | None = None  # what the push after this sync did, if it ran
    push_held: bool = False  # that push was held by its circuit breaker (nothing sent)
    dossier_numbers: list[int] = field(default_factory=list, repr=False)

    def line(self) -> str:
        return (
            f"démarche {self.demarche_number}: fetched {self.fetched}, created {self.created}, "
            f"updated {self.updated}, unchanged {self.unchanged}, trashed {self.trashed}, "
            f"deleted {self.deleted}, "
            + (f"quarantined {self.quarantined} (see wif status), " if self.quarantined else "")
            + (f"read again after a new revision {self.rebased}, " if self.rebased else "")
            + f"requests {self.requests}, {self.seconds:.1f}s"
        )

    def lines(self) -> list[str]:
        return [self.line()] + ([self.push_line] if self.push_line else [])


@dataclass
class _Counts:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    written: list[int] = field(default_factory=list)
    set_aside: set[int] = field(default_factory=set)  # already in quarantine

    def add(self, other: _Counts) -> None:
        self.fetched += other.fetched
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.written += other.written
        self.set_aside |= other.set_aside


# The domain's rows for one raw dossier (mappings.pipeline.Evaluator.rows).
Evaluate = Callable[[dict], models.DossierRows]
Progress = Callable[[SyncSummary], None]


@dataclass
class Syncer:
    client: DSClient
    sessions: sessionmaker[Session]
    evaluate: Evaluate
    page_size: int = 50
    rescan_every: timedelta = timedelta(hours=6)
    rescan_overlap: timedelta = timedelta(minutes=15)
    dry_run: bool = False
    progress: Progress | None = None
    now: Callable[[], datetime] = utcnow
    # Called with the session and the numbers of the dossiers a page changed
    # (saved, trashed or deleted) before it commits, so that derived records
    # (e.g. validity) move in the same transaction.
    after_page: Callable[[Session, list[int]], None] | None = None
    # The démarche's published revision as this run read it (`connector.revision.published_revision`): its `id`
    # and `datePublication`. None: not read, no dossier is read again for a rebase.
    published_revision: dict | None = None

    def sync(self, demarche_number: int, *, full: bool = False, force_rescan: bool = False) -> SyncSummary:
        summary = SyncSummary(demarche_number)
        started = time.monotonic()
        requests_before = self.client.stats.requests
        run_started_at = self.now()
        state = self._state(demarche_number, reset=full)

        # A full run re-evaluates every dossier (e.g. after a rules change)
        # and covers what a re-scan would.
        # A run that starts without a cursor reads every dossier: no re-scan needed.
        first_pass = full or state.end_cursor is None
        self._sync_updates(state, summary, dedupe=not full)
        rescan_due = not first_pass and (force_rescan or self._rescan_due(state, run_started_at))
        if rescan_due or state.rescan_from is not None:
            starts = [state.last_rescan_at or state.updated_since] if rescan_due else []
            self._rescan(state, summary, min(starts + ([state.rescan_from] if state.rescan_from else [])))
        if first_pass or rescan_due:
            # Only once the whole re-scan is done: a crash means doing it again.
            self._mark_rescanned(demarche_number, run_started_at)
        self._reread_rebased(demarche_number, summary, run_started_at)
        self._retry_quarantined(demarche_number, summary)
        self._sync_deletions(state, summary, pending=True)
        self._sync_deletions(state, summary, pending=False)
        if full:
            self._remove_unseen(demarche_number, run_started_at, summary)
        self._finish(demarche_number, run_started_at)

        summary.requests = self.client.stats.requests - requests_before
        summary.seconds = time.monotonic() - started
        return summary

    # -- state ---------------------------------------------------------------

    def _state(self, demarche_number: int, reset: bool) -> models.SyncState:
        with self.sessions() as session, session.begin():
            state = session.get(models.SyncState, demarche_number)
            if state is None:
                state = models.SyncState(demarche_number=demarche_number, updated_since=FIXED_SINCE)
                session.add(state)
            if reset:
                state.end_cursor = state.deleted_cursor = state.pending_deleted_cursor = None
                state.last_rescan_at = state.rescan_from = None
            if self.dry_run:
                session.rollback()
                session.expunge_all()
        return state

    def _persisted_state(self, session: Session, demarche_number: int) -> models.SyncState:
        state = session.get(models.SyncState, demarche_number)
        if state is None:  # only in a dry run, where the first write was rolled back
            state = models.SyncState(demarche_number=demarche_number, updated_since=FIXED_SINCE)
            session.add(state)
        return state

    def _rescan_due(self, state: models.SyncState, now: datetime) -> bool:
        return state.last_rescan_at is None or now - state.last_rescan_at >= self.rescan_every

    def _commit(self, session: Session) -> None:
        if self.dry_run:
            session.rollback()
        else:
            session.commit()

    def _finish(self, demarche_number: int, run_started_at: datetime) -> None:
        with self.sessions() as session:
            session.execute(
                update(models.SyncState)
                .where(models.SyncState.demarche_number == demarche_number)
                .values(last_success_at=run_started_at)
            )
            self._commit(session)

    # -- dossiers ------------------------------------------------------------

    def _sync_updates(self, state: models.SyncState, summary: SyncSummary, dedupe: bool) -> None:
        pages = prefetched(
            iter_pages(
                self.client,
                "getDemarcheDossiers",
                {"demarcheNumber": state.demarche_number, "updatedSince": format_ds_datetime(state.updated_since)},
                ("demarche", "dossiers"),
                after=state.end_cursor,
                first=self.page_size,
                identify_operation="getDemarcheDossierNumbers",
                required=DOSSIER_REQUIRED,
            )
        )
        for page in pages:
            with self.sessions() as session:
                self._save_page(session, page, state.demarche_number, summary, dedupe=dedupe)
                persisted = self._persisted_state(session, state.demarche_number)
                if page.short:
                    # Pages come in (updated_at, id) order: what it left out was modified after the pages
                    # before it. Stored with the cursor that passes it (docs/ds-malformed-answers.md#a-short-page).
                    self._rescan_from(persisted, state, persisted.last_seen_updated_at or state.updated_since)
                # An empty page has no endCursor: keep the one we have
                # (docs/ds-sync.md#an-empty-page-carries-no-cursor).
                if page.end_cursor is not None:
                    persisted.end_cursor = page.end_cursor
                    state.end_cursor = page.end_cursor
                latest = max((ds_datetime(n["dateDerniereModification"]) for n in page.nodes), default=None)
                if latest and (persisted.last_seen_updated_at is None or latest > persisted.last_seen_updated_at):
                    persisted.last_seen_updated_at = latest
                self._commit(session)
            self._report(summary)

    @staticmethod
    def _rescan_from(persisted: models.SyncState, state: models.SyncState, moment: datetime | None) -> None:
        """Where the next re-scan must start (None: nothing left out); only ever earlier until cleared."""
        if moment is not None and persisted.rescan_from is not None:
            moment = min(moment, persisted.rescan_from)
        persisted.rescan_from = state.rescan_from = moment

    def _rescan(self, state: models.SyncState, summary: SyncSummary, start: datetime) -> None:
        """Re-scan from `start`; a short page in it means another re-scan from before that page, up to
        the client's `max_retries`, then `PageInconsistent` (the next run starts again from there)."""
        for attempt in range(self.client.max_retries + 1):
            missed = self._rescan_once(state, summary, start)
            if missed is None:
                if state.rescan_from is not None:
                    with self.sessions() as session:  # all it left out is read: cleared
                        self._rescan_from(self._persisted_state(session, state.demarche_number), state, None)
                        self._commit(session)
                summary.rescanned = True
                return
            start = missed
            self.client.backoff(attempt)
        raise PageInconsistent(
            f"getDemarcheDossiers: DS answered pages holding fewer dossiers than asked for in "
            f"{self.client.max_retries + 1} re-scans in a row; what they left out is read by the next run's re-scan"
        )

    def _rescan_once(self, state: models.SyncState, summary: SyncSummary, start: datetime) -> datetime | None:
        """One re-scan from `start`; returns where what a short page left out begins, or None."""
        since = start - self.rescan_overlap
        log.info("démarche %s: re-scan of dossiers updated since %s", state.demarche_number, format_ds_datetime(since))
        seen_until, missed = since, None
        pages = prefetched(
            iter_pages(
                self.client,
                "getDemarcheDossiers",
                {"demarcheNumber": state.demarche_number, "updatedSince": format_ds_datetime(since)},
                ("demarche", "dossiers"),
                first=self.page_size,
                identify_operation="getDemarcheDossierNumbers",
                required=DOSSIER_REQUIRED,
            )
        )
        for page in pages:
            with self.sessions() as session:
                self._save_page(session, page, state.demarche_number, summary, dedupe=True)
                if page.short and missed is None:
                    missed = seen_until
                    self._rescan_from(self._persisted_state(session, state.demarche_number), state, missed)
                self._commit(session)
            seen_until = max([seen_until, *(ds_datetime(n["dateDerniereModification"]) for n in page.nodes)])
            self._report(summary)
        return missed

    def _mark_rescanned(self, demarche_number: int, run_started_at: datetime) -> None:
        with self.sessions() as session:
            self._persisted_state(session, demarche_number).last_rescan_at = run_started_at
            self._commit(session)

    def _save_page(
        self, session: Session, page: Page, demarche_number: int, summary: SyncSummary, dedupe: bool
    ) -> list[int]:
        """Returns the dossiers the database refused (set aside)."""
        summary.pages += 1
        now = self.now()
        evaluated: dict[int, models.DossierRows] = {}  # so that the fallback does not evaluate twice
        unstorable: list[int] = []
        try:
            counts = self._write_nodes(session, page.nodes, demarche_number, dedupe, now, evaluated, page.unstorable)
        except Exception as error:  # noqa: BLE001 — only the values' errors are caught
            if not store.is_unstorable(error):
                raise
            # A value the database refuses: the page again, each dossier in its own savepoint,
            # so that only that one is set aside and its neighbours are saved. (Not every page
            # in a savepoint: on SQLite the SAVEPOINT would open the transaction before the
            # page's reads, and a push committing meanwhile would make its writes fail.)
            log.warning(
                "démarche %s: a page could not be stored at once (%s): one dossier at a time",
                demarche_number,
                type(error).__name__,
            )
            session.rollback()
            store.lock_for_writing(session, demarche_number)
            counts = _Counts()
            for node in page.nodes:
                try:
                    with session.begin_nested():
                        counts.add(
                            self._write_nodes(session, [node], demarche_number, dedupe, now, evaluated, page.unstorable)
                        )
                except Exception as refused:  # noqa: BLE001
                    if not store.is_unstorable(refused):
                        raise
                    counts.fetched += 1
                    unstorable.append(node["number"])
                    self._set_aside_unstorable(
                        session, demarche_number, node["number"], evaluated.get(node["number"]), refused, now
                    )
        summary.fetched += counts.fetched
        summary.created += counts.created
        summary.updated += counts.updated
        summary.unchanged += counts.unchanged
        written = counts.written
        store.release(
            session,
            demarche_number,
            [
                n["number"]
                for n in page.nodes
                if n["number"] in counts.set_aside
                and n["number"] not in unstorable
                and not n.get(models.UNREADABLE_KEY)
            ],
        )
        for failed in page.failed:
            # In the page's transaction: the cursor never passes a dossier neither saved nor set aside.
            log.warning(
                "démarche %s: dossier %s set aside: DS could not give it (%s at %s)",
                demarche_number,
                failed.number,
                failed.message,
                failed.path or "?",
            )
            store.quarantine(
                session, demarche_number, failed.number, models.Q_FAILING, failed.message, now, failed.path
            )
        if self.after_page and written:
            self.after_page(session, written)
        summary.dossier_numbers.extend(written)
        return unstorable

    def _write_nodes(
        self,
        session: Session,
        nodes: list[dict],
        demarche_number: int,
        dedupe: bool,
        now: datetime,
        evaluated: dict[int, models.DossierRows],
        unstorable: bool = False,
    ) -> _Counts:
        """`unstorable`: the nodes may hold a NUL or a lone surrogate; the domain
        reads them as DS sent them, the raw copy stored has them replaced."""
        counts = _Counts()
        numbers = [node["number"] for node in nodes]
        # Everything the page's upserts read, loaded up front in a few queries: a query inside
        # the loop would autoflush, i.e. write the page one dossier at a time.
        existing = {
            d.number: d
            for d in session.scalars(
                select(models.Dossier)
                .where(models.Dossier.number.in_(numbers))
                .options(
                    selectinload(models.Dossier.student),
                    selectinload(models.Dossier.employer),
                    selectinload(models.Dossier.contract),
                )
            )
        }
        history = store.recorded_history(session, numbers) if existing else {}
        # A quarantined dossier seen whole is stored again even if DS's date did not move.
        counts.set_aside = (
            set(
                session.scalars(
                    select(models.QuarantinedDossier.dossier_number).where(
                        models.QuarantinedDossier.demarche_number == demarche_number,
                        models.QuarantinedDossier.dossier_number.in_(numbers),
                    )
                )
            )
            if numbers
            else set()
        )
        new = []
        with session.no_autoflush:
            for node in nodes:
                counts.fetched += 1
                number = node["number"]
                dossier = existing.get(number)
                if (
                    dedupe
                    and dossier is not None
                    and number not in counts.set_aside
                    and store.is_unchanged(dossier, node)
                ):
                    counts.unchanged += 1
                    continue
                if number not in evaluated:
                    evaluated[number] = self.evaluate(node)
                rows = evaluated[number]
                if unstorable:
                    node = replace_unstorable(node)
                counts.written.append(number)
                if dossier is None:
                    new.append((node, rows))
                    counts.created += 1
                    continue
                known = history.get(number, set())
                store.save_dossier(session, dossier, node, demarche_number, rows, now, known_history=known)
                counts.updated += 1
        session.flush()
        if new:
            store.insert_new_dossiers(session, new, demarche_number, now)
        return counts

    def _set_aside_unstorable(
        self,
        session: Session,
        demarche_number: int,
        number: int,
        rows: models.DossierRows | None,
        error: BaseException,
        now: datetime,
    ) -> None:
        """The database refused this dossier's rows: quarantined with what it
        refused (the columns, never the values), retried at every sync."""
        cause = getattr(error, "orig", None) or error
        columns = store.unstorable_values(rows) if rows is not None else []
        log.error(
            "démarche %s: dossier %s could not be stored (%s%s); set aside",
            demarche_number,
            number,
            type(cause).__name__,
            f": {', '.join(columns)}" if columns else "",
        )
        store.quarantine(
            session,
            demarche_number,
            number,
            models.Q_UNSTORABLE,
            f"{type(cause).__name__} à l'enregistrement",
            now,
            None,
            "; ".join(columns) or None,
        )

    # -- dossiers DS moved onto a new revision ----------------------------------

    def _reread_rebased(self, demarche_number: int, summary: SyncSummary, run_started_at: datetime) -> None:
        """Read again, by number, each dossier not yet decided that the local copy shows on a revision other than
        the published one, unless it was read once DS's move was settled (docs/ds-revisions.md#rebase). What a
        read stores (the dossier's revision, when it was read) is what decides the next run: a crash loses
        nothing, and a dossier read before DS moved it is read again."""
        published = self.published_revision or {}
        revision_id = published.get("id")
        if not revision_id:
            return
        published_at = parse_ds_datetime(published.get("datePublication"))
        with self.sessions() as session:
            numbers = list(
                session.scalars(
                    select(models.Dossier.number)
                    .where(
                        models.Dossier.demarche_number == demarche_number,
                        models.Dossier.state.in_(UNDECIDED),
                        models.Dossier.deleted_at.is_(None),
                        models.Dossier.hidden_at.is_(None),
                        or_(models.Dossier.revision_id.is_(None), models.Dossier.revision_id != revision_id),
                        models.Dossier.synced_at < run_started_at,
                        models.Dossier.synced_at < published_at + REBASE_SETTLED if published_at else true(),
                    )
                    .order_by(models.Dossier.number)
                )
            )
        if numbers:
            log.info(
                "démarche %s: %d dossier(s) not yet decided on another revision than the published one: read again",
                demarche_number,
                len(numbers),
            )
        items = [BatchItem("getDossier", {"dossierNumber": n}) for n in numbers]
        for chunk in split(items, REFRESH_LIMITS):
            nodes = [
                result.data
                for result in self.client.execute_batch(chunk).results
                if result.data is not None and schema_break(result.data, DOSSIER_REQUIRED) is None
            ]
            if not nodes:
                continue  # left as they are: the next run asks again
            with self.sessions() as session:
                again = SyncSummary(demarche_number)
                # dateDerniereModification did not move: compared on it, every one would look unchanged.
                self._save_page(
                    session, Page(nodes, None, False, len(nodes), unstorable=True), demarche_number, again, dedupe=False
                )
                self._commit(session)
            summary.updated += again.updated
            summary.rebased += again.updated + again.created
            summary.dossier_numbers.extend(again.dossier_numbers)
            self._report(summary)

    # -- quarantine ------------------------------------------------------------

    def _retry_quarantined(self, demarche_number: int, summary: SyncSummary) -> None:
        """Each dossier set aside, fetched alone: whole (`getDossier`) it leaves
        the quarantine; if DS still fails on it, without the champs' objects
        (`getDossierReduced`) it is stored « À vérifier » with the champ named.
        One stored so already is only asked whole: its reduced copy stands until
        DS gives it whole, or it changes (then its page sets it aside again)."""
        with self.sessions() as session:
            rows = [(row.dossier_number, row.status, row.champ) for row in store.quarantined(session, demarche_number)]
        for number, status, champ in rows:
            partial = status == models.Q_PARTIAL
            node, failure = self._fetch_alone(number, reduced=not partial)
            with self.sessions() as session:
                if node is None:
                    if failure is None:  # DS no longer shows it: the deletions pass says why
                        store.release(session, demarche_number, [number])
                    else:
                        # Still broken: one attempt more; a partial dossier keeps its stored copy and status.
                        store.quarantine(
                            session,
                            demarche_number,
                            number,
                            status if partial else models.Q_FAILING,
                            failure.message,
                            self.now(),
                            failure.path,
                            champ if partial else None,
                        )
                else:
                    page = Page([node], None, False, 1, unstorable=True)  # one dossier: clean it to be sure
                    alone = SyncSummary(demarche_number)  # its page counted it as fetched already, or failed
                    refused = self._save_page(session, page, demarche_number, alone, dedupe=False)
                    summary.created += alone.created
                    summary.updated += alone.updated
                    summary.dossier_numbers.extend(alone.dossier_numbers)
                    if refused:
                        pass  # the database refused it again: set aside once more
                    elif failure is not None:
                        unreadable = node[models.UNREADABLE_KEY][0]
                        store.quarantine(
                            session,
                            demarche_number,
                            number,
                            models.Q_PARTIAL,
                            failure.message,
                            self.now(),
                            failure.path,
                            unreadable.get("label"),
                        )
                    else:
                        store.release(session, demarche_number, [number])
                self._commit(session)
        with self.sessions() as session:
            summary.quarantined = len(store.quarantined(session, demarche_number))

    def _fetch_alone(self, number: int, reduced: bool = True) -> tuple[dict | None, FailedNode | None]:
        """(dossier, None) when DS gives it whole; (reduced dossier, DS's error)
        when only without the champs' objects (not asked unless `reduced`);
        (None, error) when not at all; (None, None) when DS no longer shows it."""
        try:
            node = execute_through_timeouts(self.client, "getDossier", {"dossierNumber": number})["dossier"]
        except (DSNotFound, DSForbidden):
            return None, None
        except DSGraphQLError as error:
            failure = FailedNode(number, error.ds_message, _path_inside(error.path))
        else:
            missing = schema_break(node, DOSSIER_REQUIRED) if node is not None else None
            if missing is None:
                return node, None
            return None, FailedNode(number, schema_break_message(missing), missing)  # DS's fault: wait
        if not reduced:
            return None, failure
        try:
            answer = execute_through_timeouts(self.client, "getDossierReduced", {"dossierNumber": number})
            reduced_dossier = answer["dossier"]
        except (DSNotFound, DSForbidden):
            return None, None
        except DSGraphQLError as error:
            log.warning(
                "dossier %s: DS cannot give it, even without the champs' objects (%s)", number, error.ds_message
            )
            return None, failure
        champ = _champ_at(reduced_dossier, failure.path)
        reduced_dossier[models.UNREADABLE_KEY] = [
            {
                "path": failure.path,
                "message": failure.message,
                "label": champ.get("label"),
                "champDescriptorId": champ.get("champDescriptorId"),
            }
        ]
        return reduced_dossier, failure

    # -- deletions -----------------------------------------------------------

    def _sync_deletions(self, state: models.SyncState, summary: SyncSummary, pending: bool) -> None:
        operation = "getPendingDeletedDossiers" if pending else "getDeletedDossiers"
        connection = "pendingDeletedDossiers" if pending else "deletedDossiers"
        cursor_attribute = "pending_deleted_cursor" if pending else "deleted_cursor"
        pages = iter_pages(
            self.client,
            operation,
            {"demarcheNumber": state.demarche_number, "deletedSince": format_ds_datetime(state.updated_since)},
            ("demarche", connection),
            after=getattr(state, cursor_attribute),
            first=100,
        )
        for page in pages:
            with self.sessions() as session:
                numbers = [node["number"] for node in page.nodes]
                known = {
                    d.number: d
                    for d in session.scalars(select(models.Dossier).where(models.Dossier.number.in_(numbers)))
                }
                for node in page.nodes:
                    dossier = known.get(node["number"])
                    if dossier is None or dossier.deleted_at is not None:
                        continue  # never seen, or already a tombstone: nothing to hide
                    if pending:
                        if dossier.hidden_at is None:
                            store.mark_hidden(dossier, node)
                            summary.trashed += 1
                    else:
                        store.mark_deleted(session, dossier, node)
                        summary.deleted += 1
                changed = [n for n in numbers if n in known]
                if self.after_page and changed:
                    session.flush()
                    self.after_page(session, changed)
                persisted = self._persisted_state(session, state.demarche_number)
                if page.end_cursor is not None:
                    setattr(persisted, cursor_attribute, page.end_cursor)
                    setattr(state, cursor_attribute, page.end_cursor)
                self._commit(session)

    def _remove_unseen(self, demarche_number: int, run_started_at: datetime, summary: SyncSummary) -> None:
        """After a full rebuild, local dossiers DS no longer lists are stale."""
        with self.sessions() as session:
            stale = session.scalars(
                select(models.Dossier).where(
                    models.Dossier.demarche_number == demarche_number,
                    models.Dossier.synced_at < run_started_at,
                    models.Dossier.hidden_at.is_(None),
                    models.Dossier.deleted_at.is_(None),
                )
            ).all()
            for dossier in stale:
                session.delete(dossier)
            summary.removed = len(stale)
            self._commit(session)

    # -- dossiers a webhook pointed at ----------------------------------------

    def refresh(self, demarche_number: int, numbers: list[int]) -> SyncSummary:
        """Fetch these dossiers now (`getDossier`, several per request) and save
        them as a page of the poll would. A dossier DS no longer shows, or that
        belongs to another démarche, is left to the poll: a hint is not proof."""
        summary = SyncSummary(demarche_number)
        started = time.monotonic()
        requests_before = self.client.stats.requests
        items = [BatchItem("getDossier", {"dossierNumber": n}) for n in numbers]
        nodes = []
        for chunk in split(items, REFRESH_LIMITS):
            answer = self.client.execute_batch(chunk)
            for result in answer.results:
                node = result.data
                if (
                    node is not None
                    and (node.get("demarche") or {}).get("number") == demarche_number
                    and schema_break(node, DOSSIER_REQUIRED) is None
                ):  # else left to the poll, which sets it aside
                    nodes.append(node)
        if nodes:
            with self.sessions() as session:
                page = Page(nodes, None, False, len(nodes), unstorable=True)  # a few dossiers: clean them to be sure
                self._save_page(session, page, demarche_number, summary, dedupe=True)
                self._commit(session)
        summary.requests = self.client.stats.requests - requests_before
        summary.seconds = time.monotonic() - started
        return summary

    def _report(self, summary: SyncSummary) -> None:
        if self.progress:
            self.progress(summary)


def _path_inside(path: list | None) -> str:
    """DS's error path inside the dossier: ["dossier", "champs", 9, "commune", "code"] → champs.9.commune.code."""
    parts = list(path or [])
    if parts and parts[0] == "dossier":
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def _champ_at(node: dict, path: str) -> dict:
    """The innermost champ on `path` (e.g. champs.12.rows.0.champs.3.files.0), or {}."""
    found, value = {}, node
    for part in path.split(".") if path else ():
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            break
        if isinstance(value, dict) and "champDescriptorId" in value:
            found = value
    return found
