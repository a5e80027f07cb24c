"""Every documented setting given nonsense: one line on stderr, exit 2, no traceback, nothing created.

The table is written by hand, per variable: a new setting without its nonsense values fails
`test_every_documented_setting_has_its_nonsense`. Each value is one of the kinds a value can go wrong
in (negative, text, huge, malformed URL, empty where empty is refused, ...) that applies to it.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import ConfigError, declared_settings, load_settings
from jobs.cli import main

ROOT = Path(__file__).resolve().parents[1]
HUGE = "9" * 30
NEGATIVE, TEXT = "-1", "douze"
NUMBER = [NEGATIVE, TEXT, HUGE, "1.5", "1e3", "\u0663"]  # the last, an Arabic-Indic 3
URL = ["javascript:alert(1)", "http//oups", "ftp://example.org/x", "https://", "https://example.org:port/"]
ADDRESS = ["not an address <<>>", "pas une adresse", "a@", "a@example.org, b@example.org"]
SECRET_SHAPE = "whsec_0123456789abcdef"
A_FILE = "{file}"  # replaced by the path of an existing file
UNDER_A_FILE = "{file}/sub"
# A DS URL nothing listens on: nothing is reached, the settings are refused first.
ON_DS = {"DS_API_URL": "http://127.0.0.1:9/api/v2/graphql", "DS_API_TOKEN": "jeton-de-test"}

# variable -> nonsense values; a value may be (value, other variables it needs to be nonsense).
NONSENSE = {
    "DATABASE_URL": [
        "nonsense://x",
        ":::",
        "postgresql+nodriver://u@h/db",
        "sqlite:///" + UNDER_A_FILE + "/x.db",
        "sqlite:///{dir}",
        "sqlite:///{dir}/absent/x.db",
    ],
    "DS_API_URL": [(value, {"DS_API_TOKEN": "jeton-de-test"}) for value in URL],
    "DS_API_TOKEN": [("", {"DS_API_URL": ON_DS["DS_API_URL"]}), ("deux mots", {"DS_API_URL": ON_DS["DS_API_URL"]})],
    "DS_DEMARCHE_NUMBER": [NEGATIVE, TEXT, HUGE, "0", "1,,deux", "1.5"],
    "DS_INSTRUCTEUR_ID": [TEXT, "SW5zdHJ1Y3RldXI=", "Instructeur-1", HUGE],
    "DS_REQUESTS_PER_MINUTE": NUMBER + ["0"],
    "DS_PAGE_SIZE": NUMBER + ["0", "101"],
    "DS_HTTP_TIMEOUT_SECONDS": NUMBER + ["0"],
    "DS_MAX_RETRIES": NUMBER,
    "WIF_DS_BASE_URL": URL + ["https://ds.example/?q=1", "https://user:pw@ds.example"],
    "WIF_DEMO_ANY_DATABASE": [TEXT, "2"],
    "WIF_RESCAN_EVERY_HOURS": NUMBER,
    "WIF_RESCAN_OVERLAP_MINUTES": NUMBER,
    "WIF_ROUTING_KEY": [TEXT, "PERMIT"],
    "WIF_PUSH_ENABLED": [TEXT, "2"],
    "WIF_PASS_TO_INSTRUCTION": [TEXT, "2"],
    "WIF_DISABLE_NOTIFICATION": [TEXT, "2"],
    "WIF_PUSH_BATCH_SIZE": NUMBER + ["0"],
    "WIF_PUSH_MAX_MESSAGE_SHARE": [NEGATIVE, TEXT, HUGE, "1e308", "nan", "inf", "150%", "%"],
    "WIF_PUSH_HOLD_MIN_MESSAGES": NUMBER,
    "WIF_PUSH_MESSAGE_RECENT_DAYS": NUMBER + ["0", "3651"],
    "SMTP_URL": [
        "smtp://mail.example:abc",
        "smtp://mail.example:99999",
        "http://mail.example",
        "smtp://",
        TEXT,
        "smtp://mail.example?timeout=jamais",
    ],
    "WIF_OUTBOX_DIR": [A_FILE, UNDER_A_FILE, "{dir}/absent/outbox"],
    "WIF_MAIL_FROM": ADDRESS + ["Work in France <a@example.org>\nBcc: x@example.org"],
    "WIF_NOTIFY_MAX_ATTEMPTS": NUMBER + ["0"],
    "WIF_NOTIFY_RETRY_SECONDS": NUMBER,
    "WIF_TEAM_EMAIL": ADDRESS + ["Équipe <equipe@example.org>"],
    "WIF_NOTIFY_TEMPLATES": ["bogus", "-nothing", "default,complet:nobody"],
    "WIF_NOTIFY_RECENT_DAYS": NUMBER,
    "WIF_DIGEST_DAYS_EN_CONSTRUCTION": NUMBER,
    "WIF_DIGEST_DAYS_EN_INSTRUCTION": NUMBER,
    "WIF_DIGEST_ALERT_DAYS": NUMBER,
    "WIF_SERVICE_EMAILS": ["MOE Paris", "MOE Paris=pas une adresse", "=a@example.org"],
    "WIF_FALLBACK_EMAIL": ADDRESS,
    "WIF_SYNC_EVERY_MINUTES": NUMBER + ["0"],
    "WIF_DIGEST_AT": [NEGATIVE, TEXT, HUGE, "25:00", "07:60", "7h30", "7:5"],
    "WIF_STATS_AT": [TEXT, "24:00"],
    "WIF_REPORT_AT": [TEXT, "24:00"],
    "WIF_STATS_ARGS": ['--out "/srv/stats', "--out 'x", "--bogus", "--help", "--out"],
    "WIF_JOB_LOCK_TTL_MINUTES": NUMBER + ["0"],
    "TZ": ["Mars/Olympus_Mons", "../../etc/passwd", "UTC+99", TEXT],
    "WIF_VALIDITY_PEPPER": ["court"],
    "WIF_VALIDITY_LOOKUPS_PER_MINUTE": NUMBER + ["0"],
    "WIF_VALIDITY_BURST": NUMBER + ["0"],
    "WIF_VALIDITY_TRUSTED_PROXIES": NUMBER,
    "WIF_VALIDITY_FORCE_HSTS": [TEXT, "2"],
    "WIF_VALIDITY_KEEP_DAYS": NUMBER,
    "WIF_VALIDITY_GLOBAL_LOOKUPS": NUMBER + ["0"],
    "WIF_VALIDITY_GLOBAL_WINDOW_MINUTES": NUMBER + ["0"],
    "WIF_VALIDITY_MISS_ALERT": NUMBER + ["0"],
    "WIF_DSFR_DIR": [A_FILE, "{dir}/absent", "{dir}"],
    "WIF_VALIDITY_URL": URL + ["https://apt.example/?q=1"],
    "WIF_STATS_URL": URL,
    "WIF_CONTACT_EMAIL": ADDRESS,
    "WIF_PUBLISHER": ["x" * 201],
    "WIF_PUBLISHER_ADDRESS": ["x" * 201, "Place Beauvau\n75008 Paris"],
    "WIF_PUBLICATION_DIRECTOR": ["x" * 201],
    "WIF_HOSTING": ["x" * 301],
    "WIF_DATA_PROTECTION_CONTACT": ["x" * 301],
    "WIF_ACCESSIBILITY_STATUS": ["conforme", "Non conforme", "partiellement"],
    "WIF_ACCESSIBILITY_DATE": ["x" * 41],
    "WIF_ACCESSIBILITY_AUDIT": ["x" * 301],
    "WIF_WEBHOOK_LEGACY_SECRET": ["court", f"{SECRET_SHAPE},{SECRET_SHAPE}x", f"{SECRET_SHAPE}/x", f"{SECRET_SHAPE} x"],
    "WIF_WEBHOOK_SECRETS": ["court", f"{SECRET_SHAPE},court", f"{SECRET_SHAPE} x"],
    "WIF_HINT_POLL_SECONDS": NUMBER + ["0"],
    "SENTRY_DSN": URL + ["https://sentry.example/42", TEXT],
    "WIF_ENVIRONMENT": ["deux mots", "a/b", "x" * 65],
    "SENTRY_RELEASE": ["deux mots", "a/b", "x" * 201],
}
# Refused empty: DS_API_TOKEN, with DS_API_URL set (above). Every other setting takes its default when empty.
SECRETS = {
    "DS_API_TOKEN",
    "SMTP_URL",
    "WIF_TEAM_EMAIL",
    "WIF_SERVICE_EMAILS",
    "WIF_FALLBACK_EMAIL",
    "WIF_VALIDITY_PEPPER",
    "WIF_WEBHOOK_LEGACY_SECRET",
    "WIF_WEBHOOK_SECRETS",
    "SENTRY_DSN",
    "DATABASE_URL",
}
SETTINGS_PREFIXES = ("WIF_", "DS_", "SMTP_", "SENTRY_")


def documented_variables() -> set[str]:
    """The variables of the README's settings tables (first column)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", readme, re.M))


def cases():
    for variable, values in NONSENSE.items():
        for value in values:
            value, others = value if isinstance(value, tuple) else (value, {})
            yield pytest.param(variable, value, others, id=f"{variable}={value[:40]!r}")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No setting from the outside; cwd an empty folder, so the default var/ would show up in it."""
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES) or name in ("DATABASE_URL", "TZ"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a-file").write_text("not a folder")
    return work, {"{file}": str(elsewhere / "a-file"), "{dir}": str(elsewhere)}


def _fill(value: str, places: dict[str, str]) -> str:
    for mark, path in places.items():
        value = value.replace(mark, path)
    return value


def test_every_documented_setting_has_its_nonsense():
    declared = {setting.variable for _, setting in declared_settings()}
    assert documented_variables() == declared
    assert set(NONSENSE) == declared


@pytest.mark.parametrize("variable, value, others", list(cases()))
def test_nonsense_stops_wif_with_one_line(clean_env, monkeypatch, capsys, variable, value, others):
    work, places = clean_env
    before = sorted(Path(places["{dir}"]).rglob("*"))
    value = _fill(value, places)
    for name, other in {**others, variable: value}.items():
        monkeypatch.setenv(name, other)
    assert main(["status"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"wif: configuration error: {variable}: ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert list(work.iterdir()) == []
    assert sorted(Path(places["{dir}"]).rglob("*")) == before
    if variable in SECRETS and len(value) > 10:
        assert value not in captured.err


@pytest.mark.parametrize("variable", sorted(set(NONSENSE) - {"DS_API_TOKEN"}))
def test_an_empty_value_means_the_default(clean_env, variable):
    assert load_settings({variable: ""}) == load_settings({}) == load_settings({variable: "  "})


def test_the_defaults_are_accepted_and_create_nothing(clean_env):
    work, _ = clean_env
    load_settings()
    assert list(work.iterdir()) == []


URLISH = st.from_regex(
    r"(smtps?|https?|sqlite|postgresql(\+psycopg)?|nonsense)://[a-z:@/.?=0-9%\[\]]{0,30}", fullmatch=True
)


@given(
    st.sampled_from([setting.variable for _, setting in declared_settings()]), st.one_of(st.text(max_size=40), URLISH)
)
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_text_is_a_value_or_one_configuration_error(variable, value):
    try:
        load_settings({variable: value})
    except ConfigError as error:
        # DS_API_URL alone is refused for its empty DS_API_TOKEN: the line names that one.
        assert "\n" not in str(error) and re.match(r"[A-Z][A-Z_]+: ", str(error))


@pytest.mark.parametrize(
    "argv, variable, value",
    [
        (["status"], "DATABASE_URL", "nonsense://x"),
        (["sync"], "DATABASE_URL", "sqlite:///{missing}/x.db"),
        (["notify"], "WIF_NOTIFY_TEMPLATES", "bogus"),
        (["digest"], "SMTP_URL", "smtp://mail.example:abc"),
        (["schedule", "--dry-run"], "WIF_SYNC_EVERY_MINUTES", HUGE),
        (["schedule", "--dry-run"], "TZ", "Mars/Olympus_Mons"),
        (["schedule", "--dry-run"], "WIF_STATS_ARGS", "--outt /srv/stats"),
    ],
)
def test_a_real_wif_process_says_it_in_one_line(tmp_path, argv, variable, value):
    env = {
        name: v
        for name, v in os.environ.items()
        if not (name.startswith(SETTINGS_PREFIXES) or name in ("DATABASE_URL", "TZ"))
    }
    env[variable] = value.replace("{missing}", str(tmp_path / "no" / "such" / "dir"))
    result = subprocess.run(
        [sys.executable, "-m", "jobs.cli", *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"wif: configuration error: {variable}: ")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("junk", ["a@\t[ @", "  .])[\x00?\\é", '\r\r\r:;)>@"<', ":\\)?;]"])
def test_junk_that_trips_the_mail_header_parser_is_one_configuration_error(junk):
    # Python's header parser raises AttributeError or TypeError on these, not ValueError.
    with pytest.raises(ConfigError, match=r"^WIF_TEAM_EMAIL: "):
        load_settings({"WIF_TEAM_EMAIL": junk})
