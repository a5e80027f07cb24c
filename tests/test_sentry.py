"""Sentry: off without a DSN; events scrubbed of e-mails, names and tokens; cron check-ins."""

from __future__ import annotations

import json

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from core.settings import DSSettings, ObservabilitySettings, Settings
from jobs import observability
from jobs.observability import capture_job_failure, cron_checkin, init_sentry, scrub
from jobs.runner import FAILED, JobRunner, JobSpec

TOKEN = "ds-secret-token-0123456789"
EMAIL = "amina.testeuse@example.org"
FIRST, LAST = "Aminata", "Testeuse-Synthetique"


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def payloads(self) -> list[dict]:
        return [item.payload.json for envelope in self.envelopes for item in envelope.items if item.payload.json]

    def raw(self) -> str:
        return "\n".join(envelope.serialize().decode("utf-8", "replace") for envelope in self.envelopes)


@pytest.fixture
def transport():
    transport = CapturingTransport()
    settings = Settings(
        ds=DSSettings(api_token=TOKEN),
        observability=ObservabilitySettings(sentry_dsn="https://publickey@sentry.example/42", environment="test"),
    )
    assert init_sentry(settings, transport=transport)
    yield transport
    disable_sentry()


def disable_sentry():
    """Back to a process where init_sentry found no DSN: the SDK's non-recording client.

    (`sentry_sdk.init()` without a DSN would not do: its client still reports itself active.)
    """
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def test_no_dsn_no_sentry():
    assert init_sentry(Settings()) is False


def failing_sync():
    first_name, usager_email = FIRST, EMAIL  # local variables must not travel
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sentry_sdk.set_context(
        "dossier",
        {"number": 42, "first_name": first_name, "last_name": LAST, "usager_email": usager_email, "headers": headers},
    )
    sentry_sdk.set_extra("request", f"POST https://ds.example/api/v2/graphql Authorization: Bearer {TOKEN}")
    sentry_sdk.set_extra("nom", LAST)
    sentry_sdk.add_breadcrumb(message=f"sent to {EMAIL}", data={"prenom": FIRST, "token": TOKEN})
    raise RuntimeError(f"DS refused token {TOKEN} for {EMAIL}")


def test_a_job_failure_reaches_sentry_without_personal_data(transport, engine, sessions):
    runner = JobRunner(engine, sessions)
    assert runner.run(JobSpec("sync", failing_sync)) == FAILED
    sentry_sdk.flush()
    events = [p for p in transport.payloads() if p.get("exception")]
    assert len(events) == 1
    event = events[0]
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    assert event["tags"]["job"] == "sync"
    assert event["environment"] == "test" and event["release"].startswith("work-in-france-connector@")
    raw = transport.raw()
    for secret in (TOKEN, EMAIL, FIRST, LAST, "amina.testeuse"):
        assert secret not in raw
    assert "[Filtered]" in raw and "[email]" in raw
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert all("vars" not in frame for frame in frames)


def test_every_scheduled_run_sends_a_check_in(transport, engine, sessions):
    runner = JobRunner(engine, sessions)
    runner.run(JobSpec("digest", lambda: "ok"))
    runner.run(JobSpec("notify", failing_sync))
    sentry_sdk.flush()
    checkins = [(p["monitor_slug"], p["status"]) for p in transport.payloads() if p.get("type") == "check_in"]
    assert checkins == [
        ("wif-digest", "in_progress"),
        ("wif-digest", "ok"),
        ("wif-notify", "in_progress"),
        ("wif-notify", "error"),
    ]


def test_cron_checkin_is_silent_without_sentry(monkeypatch):
    disable_sentry()
    assert init_sentry(Settings()) is False
    assert not sentry_sdk.get_client().is_active()
    sent = []
    monkeypatch.setattr(observability, "capture_checkin", lambda **kwargs: sent.append(("check-in", kwargs)))
    monkeypatch.setattr(sentry_sdk, "capture_exception", lambda *args, **kwargs: sent.append(("exception", args)))
    monkeypatch.setattr(
        sentry_sdk.client.NonRecordingClient,
        "capture_event",
        lambda self, *args, **kwargs: sent.append(("event", args)),
    )

    runs = []
    with cron_checkin("sync"):
        runs.append("ok")
    with pytest.raises(RuntimeError, match="the body failed"):
        with cron_checkin("sync"):
            runs.append("failing")
            raise RuntimeError("the body failed")
    capture_job_failure("sync", RuntimeError("nothing is sent"))
    assert runs == ["ok", "failing"]
    assert sent == []


def test_scrub_is_recursive():
    event = {
        "request": {
            "headers": [["Authorization", f"Bearer {TOKEN}"], ["Accept", "application/json"]],
            "url": "smtp://user:motdepasse@mail.example:587",
        },
        "extra": {
            "students": [{"first_name": FIRST, "birth_date": "2001-02-03", "city": "Lyon"}],
            "note": f"contact {EMAIL}",
            "count": 3,
        },
    }
    cleaned = json.dumps(scrub(event, (TOKEN,)))
    for secret in (TOKEN, FIRST, "2001-02-03", EMAIL, "motdepasse"):
        assert secret not in cleaned
    assert "application/json" in cleaned and "Lyon" in cleaned and '"count": 3' in cleaned
