"""The embedded demo (no DS_API_URL) never writes into a database it did not create (docs/embedded-demo.md)."""

import hashlib
import os
from pathlib import Path

import pytest

from jobs.cli import main

SETTINGS_PREFIXES = ("WIF_", "DS_", "SMTP_", "SENTRY_")


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    """No setting from the outside, cwd an empty folder: the default database is <cwd>/var/wif.db."""
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bound_production(monkeypatch, make_sandbox, database_url: str) -> None:
    """A deployment's database: a démarche on DS (here a sandbox whose ids are not the demo's), bound and synced."""
    server = make_sandbox(dossiers=5, seed=7)
    monkeypatch.setenv("DS_API_URL", server.url)
    monkeypatch.setenv("DS_API_TOKEN", server.token)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync", "--no-push"]) == 0
    for name in ("DS_API_URL", "DS_API_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(name)


@pytest.mark.parametrize("ds_api_url", [None, ""])
@pytest.mark.parametrize("verb", [["sync"], ["push"], ["procedure", "bind", "--yes"], ["schedule", "--dry-run"]])
def test_the_demo_refuses_another_database_and_creates_nothing(
    demo_env, monkeypatch, capsys, tmp_path, verb, ds_api_url
):
    if ds_api_url is not None:
        monkeypatch.setenv("DS_API_URL", ds_api_url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.db'}")
    assert main(verb) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("wif: configuration error: DATABASE_URL: without DS_API_URL")
    assert "unset DATABASE_URL" in captured.err and "set DS_API_URL" in captured.err
    assert not (tmp_path / "production.db").exists() and list(demo_env.iterdir()) == []


def test_the_demo_leaves_a_production_database_untouched(demo_env, monkeypatch, capsys, make_sandbox, tmp_path):
    production = tmp_path / "production.db"
    bound_production(monkeypatch, make_sandbox, f"sqlite:///{production}")
    before = digest(production)
    capsys.readouterr()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{production}")
    assert main(["sync"]) == 2
    assert "without DS_API_URL" in capsys.readouterr().err
    # Even with the tests' opt-in, a database holding a real démarche's binding is refused.
    monkeypatch.setenv("WIF_DEMO_ANY_DATABASE", "true")
    assert main(["sync"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "wif: configuration error: DATABASE_URL: the database holds the binding of démarche 1, "
        "not the embedded sandbox's"
    )
    assert err.count("\n") == 1
    assert digest(production) == before


def test_the_default_database_holding_a_real_binding_is_refused(demo_env, monkeypatch, capsys, make_sandbox):
    bound_production(monkeypatch, make_sandbox, "sqlite:///var/wif.db")
    default = demo_env / "var" / "wif.db"
    before = digest(default)
    capsys.readouterr()
    for verb in (["sync"], ["push"], ["procedure", "bind", "--yes"]):
        assert main(verb) == 2
        err = capsys.readouterr().err
        assert "holds the binding of démarche 1" in err and "set DS_API_URL" in err
    assert digest(default) == before


def test_the_demo_runs_on_its_default_database_again_and_again(demo_env, monkeypatch, capsys):
    assert main(["sync", "--sandbox-dossiers", "5"]) == 0
    # The default's file spelled out, as the Docker image does: the same database.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{demo_env / 'var' / 'wif.db'}")
    assert main(["sync", "--sandbox-dossiers", "5"]) == 0
    assert "embedded sandbox: démarche 1 bound" in capsys.readouterr().out
    assert (demo_env / "var" / "wif.db").is_file()


def test_tests_and_scripts_opt_in_to_a_database_of_their_own(demo_env, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'scratch.db'}")
    monkeypatch.setenv("WIF_DEMO_ANY_DATABASE", "true")
    assert main(["sync", "--sandbox-dossiers", "5"]) == 0
    assert "démarche 1: fetched 5" in capsys.readouterr().out
