"""Input parsing, rate limiter and settings of the public validity check."""

from __future__ import annotations

from datetime import date

import pytest

from core.settings import ConfigError, load_settings
from validity.inputs import parse_birth_date, parse_dossier_number
from validity.ratelimit import TokenBucketLimiter

PEPPER_VARIABLE = "WIF_VALIDITY_PEPPER"

TODAY = date(2026, 6, 1)
NOT_DIGITS = "Le numéro de dossier ne comporte que des chiffres, par exemple 1234567."
NUMBER_MISSING = "Indiquez le numéro de dossier."
DATE_MISSING = "Indiquez la date de naissance de l'étudiant."
UNREADABLE = "La date de naissance doit indiquer le jour, le mois et l'année, par exemple 21/03/2001."
NOT_REAL = "Cette date de naissance n'existe pas : vérifiez le jour et le mois, par exemple 21/03/2001."
IN_FUTURE = "La date de naissance est dans le futur : vérifiez l'année, par exemple 21/03/2001."


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1234567", 1234567),
        (" 12 345 ", 12345),
        ("12\u00a0345", 12345),
        (42, 42),
        ("000123", 123),
        ("0000000000000001234567", 1234567),
    ],  # leading zeros are no digits of the number
)
def test_dossier_number_accepted(raw, expected):
    assert parse_dossier_number(raw) == (expected, None)


@pytest.mark.parametrize(
    "raw, error",
    [
        (None, NUMBER_MISSING),
        ("", NUMBER_MISSING),
        (
            "0",
            "Le numéro de dossier ne peut pas être 0 : il figure sur la décision d'autorisation, par exemple 1234567.",
        ),
        ("-3", NOT_DIGITS),
        ("12.5", NOT_DIGITS),
        ("1e5", NOT_DIGITS),
        ("１２３", NOT_DIGITS),  # full-width digits: int() would take them
        (
            "9" * 13,
            "Le numéro de dossier est trop long : 13 chiffres, alors qu'il en compte au plus 12, par exemple 1234567.",
        ),
        (
            "4" * 60,
            "Le numéro de dossier est trop long : 60 chiffres, alors qu'il en compte au plus 12, par exemple 1234567.",
        ),
        (True, NUMBER_MISSING),
        ([1], NOT_DIGITS),
    ],
)
def test_dossier_number_refused(raw, error):
    assert parse_dossier_number(raw) == (None, error)


@pytest.mark.parametrize(
    "raw",
    [
        "21/03/2001",
        "2001-03-21",
        " 21/3/2001 ",
        "21/03/2001",
        "21 03 2001",
        "21-03-2001",
        "21.03.2001",
        "21/3/01",
        "21 / 03 / 2001",
        "21  3  2001",
        "2001-3-21",
        "21.3.01",
    ],
)
def test_birth_date_accepted(raw):
    assert parse_birth_date(raw, TODAY) == (date(2001, 3, 21), None)


@pytest.mark.parametrize(
    "raw, today, expected",
    [
        # The examples of the issue, typed on 6 December 2026.
        ("30/1/96", date(2026, 12, 6), date(1996, 1, 30)),
        ("30 01 1996", date(2026, 12, 6), date(1996, 1, 30)),
        ("30-01-1996", date(2026, 12, 6), date(1996, 1, 30)),
        ("30.01.1996", date(2026, 12, 6), date(1996, 1, 30)),
        ("1996-01-30", date(2026, 12, 6), date(1996, 1, 30)),
        # A two-digit year is never in the future nor a child's: 11 is 2011 (15 this year), 12 is 1912, 00 is 2000.
        ("01/01/11", date(2026, 12, 6), date(2011, 1, 1)),
        ("31/12/11", date(2026, 12, 6), date(2011, 12, 31)),
        ("01/01/12", date(2026, 12, 6), date(1912, 1, 1)),
        ("15/06/00", date(2026, 12, 6), date(2000, 6, 15)),
        ("15/06/26", date(2026, 12, 6), date(1926, 6, 15)),
        ("15/06/12", date(2027, 1, 2), date(2012, 6, 15)),  # a year later, 12 is 2012
    ],
)
def test_a_birth_date_as_people_type_it(raw, today, expected):
    assert parse_birth_date(raw, today) == (expected, None)


@pytest.mark.parametrize(
    "raw, error",
    [
        ("", DATE_MISSING),
        (None, DATE_MISSING),
        ("29/02/2001", NOT_REAL),
        ("30/13/1996", NOT_REAL),
        ("02/06/2026", IN_FUTURE),
        ("30/01/2030", IN_FUTURE),
        ("2030-01-30", IN_FUTURE),
        ("01/01/1899", "La date de naissance est antérieure à 1900 : vérifiez l'année, par exemple 21/03/2001."),
        ("21/03/201", UNREADABLE),
        ("21032001", UNREADABLE),
        ("21 mars 2001", UNREADABLE),
        (20010321, UNREADABLE),
        ("21/03/2001" * 10, UNREADABLE),
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
