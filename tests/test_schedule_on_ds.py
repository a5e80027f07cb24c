"""`wif schedule` as it runs in a deployment: against a DS URL (here a sandbox over HTTP), push on its own thread
while the main thread runs notify, the dossiers DS's webhooks point at fetched on a third, for several cycles of
seconds instead of minutes. Every job run ends ok, each with its own summary; the schema is migrated once, in the
main thread, before any job starts (Alembic keeps its context in module globals: two threads migrating at once
broke each other with `KeyError: 'config'`)."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import schedule
from sqlalchemy import select
from werkzeug.serving import make_server

from connector.webhooks import HintInbox
from core import models
from core.db import Database
from core.jobruns import OK
from core.settings import DSSettings, MailSettings, NotifySettings, Settings, WebhookSettings
from jobs.runtime import make_client
from jobs.scheduler import SchedulerLoop, run_scheduler
from jobs.verbs.serve import build_app
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.webhooks import WebhookSender
from tests.sync_helpers import bind_sandbox

SECRET = "whsec_c2NoZWR1bGUtdGVzdC0wMTIzNDU2Nzg5"
CYCLES = 3


@pytest.fixture
def migrations(monkeypatch):
    """The thread of every Alembic upgrade."""
    from alembic import command

    threads: list[str] = []
    upgrade = command.upgrade

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return upgrade(*args, **kwargs)

    monkeypatch.setattr(command, "upgrade", spy)
    return threads


def job_runs(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(run.job, run.outcome, run.summary or "") for run in session.scalars(select(models.JobRun))]


def test_wif_schedule_against_ds_every_job_run_ends_ok(make_sandbox, database_url, tmp_path, migrations, capsys):
    server = make_sandbox(dossiers=40, seed=23)
    settings = Settings(
        database_url=database_url,
        ds=DSSettings(
            api_url=server.url,
            api_token=server.token,
            demarche_numbers=(1,),
            instructeur_id=CONNECTOR_INSTRUCTEUR_ID,
            max_retries=2,
        ),
        webhooks=WebhookSettings(secrets=(SECRET,), hint_poll_seconds=0.2),
        mail=MailSettings(outbox_dir=tmp_path / "outbox"),
        notify=NotifySettings(templates="all", recent_days=3650),
    )
    # `wif serve`'s webhooks, a process of their own in a deployment: their own database object.
    serve_database = Database(database_url)
    with make_client(settings) as client:
        bind_sandbox(client, serve_database.sessions)  # `wif procedure bind --yes`, before the first sync
    hooks = make_server("127.0.0.1", 0, build_app(settings, serve_database.sessions), threaded=True)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    sender = WebhookSender(
        server.store, url=f"http://127.0.0.1:{hooks.server_port}/webhooks/ds", secret=SECRET, lag=0.1
    ).start()
    inbox = HintInbox(serve_database.sessions)
    loop = SchedulerLoop(schedule.Scheduler(), max_wait_seconds=0.1)
    edited: list[int] = []

    def operator():
        """Once the first cycle is done, an applicant edits a dossier on DS; stop after a few cycles."""
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not loop.stopping.is_set():
            done = Counter(job for job, outcome, _ in job_runs(serve_database.sessions) if outcome != "running")
            if done["sync"] >= 1 and not edited:
                number = next(d.number for d in server.store.visible_dossiers(1) if d.state == "en_construction")
                server.store.set_state(number, "en_instruction")  # DS calls the webhook
                edited.append(number)
            if edited and min(done["sync"], done["notify"]) >= CYCLES and done["push"] >= 2 and not inbox.pending():
                break
            time.sleep(0.2)
        loop.request_stop()

    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    watcher = threading.Thread(target=operator, daemon=True)
    watcher.start()
    scheduler_database = Database(database_url)
    try:
        run_scheduler(settings, scheduler_database, sync_every=timedelta(seconds=2), loop=loop)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
        loop.request_stop()
        watcher.join(10)
        sender.stop()
        hooks.shutdown()

    scheduler_database.dispose()
    runs = job_runs(serve_database.sessions)
    done = Counter(job for job, _, _ in runs)
    assert done["sync"] >= CYCLES and done["notify"] >= CYCLES and done["push"] >= 2, done
    assert [run for run in runs if run[1] != OK] == []
    # Each job's summary is its own result, not a mix of what ran beside it.
    assert all(summary.startswith("notify: ") for job, _, summary in runs if job == "notify")
    assert all(
        summary.startswith("push démarche 1:") and "notify" not in summary for job, _, summary in runs if job == "push"
    )
    assert all(
        summary.startswith("démarche 1: fetched") and "notify" not in summary
        for job, _, summary in runs
        if job == "sync"
    )
    # The webhook's dossier was fetched from its hint; nothing is left waiting.
    assert edited and inbox.pending() == []
    with serve_database.sessions() as session:
        assert session.get(models.Dossier, edited[0]).state == "en_instruction"
    # Migrated in the main thread only: once by `wif serve`'s side, once by the scheduler before its first job.
    assert migrations == ["MainThread", "MainThread"]
    assert capsys.readouterr().out == ""  # no library code printed; the jobs' results went to their runs
    serve_database.dispose()
