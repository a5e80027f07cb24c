"""Input parsing, rate limiter and settings of the public validity check."""
from __future__ import annotations

from datetime import date

import pytest

from core.settings import ConfigError, load_settings

PEPPER_VARIABLE = "WIF_VALIDITY_PEPPER"
from validity.inputs import DATE_INVALID, DATE_MISSING, NUMBER_INVALID, NUMBER_MISSING, parse_birth_date, parse_dossier_number
from validity.ratelimit import TokenBucketLimiter

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    "raw, expected",
    [("1234567", 1234567), (" 12 345 ", 12345), ("12\u00a0345", 12345), (42, 42), ("000123", 123)],
)
def test_dossier_number_accepted(raw, expected):
    assert parse_dossier_number(raw) == (expected, None)


@pytest.mark.parametrize(
    "raw, error",
    [
        (None, NUMBER_MISSING),
        ("", NUMBER_MISSING),
        ("0", NUMBER_INVALID),
        ("-3", NUMBER_INVALID),
        ("12.5", NUMBER_INVALID),
        ("1e5", NUMBER_INVALID),
        ("１２３", NUMBER_INVALID),  # full-width digits: int() would take them
        ("9" * 13, NUMBER_INVALID),
        (True, NUMBER_MISSING),
        ([1], NUMBER_INVALID),
    ],
)
def test_dossier_number_refused(raw, error):
    assert parse_dossier_number(raw) == (None, error)


@pytest.mark.parametrize("raw", ["21/03/2001", "2001-03-21", " 21/3/2001 ", "21/03/2001"])
def test_birth_date_accepted(raw):
    assert parse_birth_date(raw, TODAY) == (date(2001, 3, 21), None)


@pytest.mark.parametrize(
    "raw, error",
    [
        ("", DATE_MISSING),
        (None, DATE_MISSING),
        ("29/02/2001", DATE_INVALID),
        ("2001-3-21", DATE_INVALID),
        ("21.03.2001", DATE_INVALID),
        ("02/06/2026", DATE_INVALID),  # in the future
        ("01/01/1899", DATE_INVALID),
        (20010321, DATE_INVALID),
        ("21/03/2001" * 10, DATE_INVALID),
    ],
)
def test_birth_date_refused(raw, error):
    assert parse_birth_date(raw, TODAY) == (None, error)


def test_token_bucket_refills_at_the_configured_rate():
    now = [0.0]
    limiter = TokenBucketLimiter(per_minute=30, burst=2, clock=lambda: now[0])
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 0
    assert limiter.acquire("a") == pytest.approx(2.0)
    now[0] += 1.0
    assert limiter.acquire("a") == pytest.approx(1.0)  # a refused try consumes nothing
    now[0] += 1.0
    assert limiter.acquire("a") == 0
    now[0] += 3600
    assert [limiter.acquire("a") for _ in range(3)][:2] == [0, 0]  # never more than the burst


def test_token_bucket_memory_is_bounded(monkeypatch):
    import validity.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "MAX_TRACKED_CLIENTS", 3)
    now = [0.0]
    limiter = TokenBucketLimiter(per_minute=1, burst=1, clock=lambda: now[0])
    for client in ("a", "b", "c", "d", "e"):
        limiter.acquire(client)
        now[0] += 0.1
    assert limiter.tracked_clients() == 3
    assert limiter.acquire("e") > 0  # the most recent client is still limited


def test_a_short_pepper_is_refused():
    assert load_settings({}).validity.pepper == b""
    with pytest.raises(ConfigError, match=f"{PEPPER_VARIABLE}: .*at least 32"):
        load_settings({PEPPER_VARIABLE: "short"})
    assert load_settings({PEPPER_VARIABLE: "p" * 32}).validity.pepper == b"p" * 32


def test_settings_from_environment():
    settings = load_settings(
        {PEPPER_VARIABLE: "p" * 40, "WIF_VALIDITY_LOOKUPS_PER_MINUTE": "20", "WIF_VALIDITY_TRUSTED_PROXIES": "1"}
    )
    validity = settings.validity
    assert (validity.lookups_per_minute, validity.burst, validity.trusted_proxies) == (20, 5, 1)
    assert "p" * 40 not in repr(settings)
    assert "p" * 40 not in str(settings.safe_dict())
    with pytest.raises(ConfigError, match="WIF_VALIDITY_BURST"):
        load_settings({PEPPER_VARIABLE: "p" * 40, "WIF_VALIDITY_BURST": "0"})


def test_serve_refuses_to_start_without_a_pepper(monkeypatch, capsys):
    import argparse

    from core.settings import Settings
    from jobs.verbs import serve as command

    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["--host", "127.0.0.1", "--port", "0"])
    with pytest.raises(ConfigError, match=PEPPER_VARIABLE):
        command.run(args, Settings(database_url="sqlite:///:memory:"), None)
