"""`wif` end to end on the sandbox: exit codes and messages a user reads."""

import pytest

from jobs.cli import main


def test_sync_then_push_then_nothing_to_do(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=80)
    env_for(server)
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync"]) == 0
    out = capsys.readouterr().out
    assert "démarche 1: fetched" in out and "push démarche 1" in out
    assert main(["sync", "--no-push"]) == 0
    assert "created 0" in capsys.readouterr().out
    assert main(["push", "--dry-run"]) == 0
    assert "0 mutations planned" in capsys.readouterr().out


@pytest.mark.parametrize(
    "overrides, code, message",
    [
        ({"DS_API_TOKEN": "bm90LWEtcmVhbC10b2tlbg"}, 3, "refused the token"),
        ({"DS_DEMARCHE_NUMBER": "999"}, 4, "not_found"),
        ({"DS_DEMARCHE_NUMBER": "un"}, 2, "DS_DEMARCHE_NUMBER"),
    ],
)
def test_bad_configuration_fails_fast_with_a_clear_message(make_sandbox, env_for, capsys, overrides, code, message):
    server = make_sandbox(dossiers=5)
    env_for(server, **overrides)
    assert main(["sync"]) == code
    captured = capsys.readouterr()
    assert message in captured.err
    assert "bm90LWEtcmVhbC10b2tlbg" not in captured.err + captured.out
    assert len(server.request_log) <= 1


def test_ds_unreachable_is_reported_after_retries(env_for, capsys):
    class Nowhere:
        url = "http://127.0.0.1:9/api/v2/graphql"
        token = "t"

    env_for(Nowhere(), DS_MAX_RETRIES="0")
    assert main(["sync"]) == 5
    assert "did not answer" in capsys.readouterr().err


def test_read_only_deployment_never_writes_to_ds(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=30)
    env_for(server, WIF_PUSH_ENABLED="false")
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync"]) == 0
    assert main(["push"]) == 0
    assert "disabled" in capsys.readouterr().out
    assert server.store.mutation_log == []


def test_the_employer_can_be_the_routing_key(make_sandbox, env_for, database_url):
    from sqlalchemy import select

    from core import models
    from core.db import make_engine

    server = make_sandbox(dossiers=60)
    env_for(server, WIF_ROUTING_KEY="employer")
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync", "--no-push"]) == 0
    engine = make_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(models.Dossier.departement, models.Dossier.employer_departement)).all()
    engine.dispose()
    assert rows and all(dep == employer for dep, employer in rows if employer)


def test_push_says_up_front_what_it_will_send_and_how_long_the_budget_makes_that(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=40)
    env_for(server)
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync", "--no-push"]) == 0
    capsys.readouterr()
    assert main(["push"]) == 0
    first, *rest = capsys.readouterr().out.splitlines()
    assert "mutations to send for" in first and "push requests/min the budget makes that" in first
    assert any(line.startswith("push démarche 1:") and "requests" in line for line in rest)


def test_a_held_push_exits_8_with_one_line_and_force_sends_it(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=80)
    # Old dossiers are messaged too: the messages --force sends are what this is about.
    env_for(
        server, WIF_PUSH_MAX_MESSAGE_SHARE="1%", WIF_PUSH_HOLD_MIN_MESSAGES="0", WIF_PUSH_MESSAGE_RECENT_DAYS="3650"
    )
    assert main(["procedure", "bind", "--yes"]) == 0
    capsys.readouterr()
    assert main(["sync"]) == 8
    out = capsys.readouterr().out
    assert "démarche 1: fetched" in out and "HELD, nothing sent" in out and "delivered" not in out
    assert main(["push", "--dry-run"]) == 0
    assert "a real run would HOLD" in capsys.readouterr().out
    assert main(["push"]) == 8
    assert server.store.mutation_log == []
    assert main(["push", "--force"]) == 0
    assert "circuit breaker overridden (--force)" in capsys.readouterr().out
    assert any(name == "dossierEnvoyerMessage" for name, _ in server.store.mutation_log)


def test_a_bad_message_share_is_refused_by_name(make_sandbox, env_for, capsys):
    env_for(make_sandbox(dossiers=5), WIF_PUSH_MAX_MESSAGE_SHARE="beaucoup")
    assert main(["push"]) == 2
    assert "WIF_PUSH_MAX_MESSAGE_SHARE" in capsys.readouterr().err


def test_status_says_which_demarche_is_not_bound_and_what_to_run(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=5)
    env_for(server)
    assert main(["status"]) == 0
    assert (
        "démarche 1: not bound: sync and push refuse it; run `wif procedure bind --demarche 1`"
        in capsys.readouterr().out
    )
    assert main(["procedure", "bind", "--yes"]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    bound = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("  démarche 1:") and "bound" in line
    ]
    assert len(bound) == 1 and "keys bound to revision" in bound[0] and "not bound" not in bound[0]


def test_a_database_with_our_tables_holding_rows_but_no_version_is_refused_untouched(env_for, database_url, capsys):
    from sqlalchemy import text

    from core.db import make_engine

    class NoServer:
        url, token = "http://127.0.0.1:9/api/v2/graphql", "dG9rZW4"

    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE dossiers (number INTEGER)"))
        connection.execute(text("INSERT INTO dossiers VALUES (42)"))
    env_for(NoServer())
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wif status: the database of DATABASE_URL holds rows in dossiers but no migration version")
    assert "Traceback" not in err
    with engine.connect() as connection:
        assert connection.execute(text("SELECT number FROM dossiers")).scalars().all() == [42]
    engine.dispose()


@pytest.mark.parametrize(
    "argv", [["sync"], ["push", "--dry-run"], ["notify", "--dry-run"], ["notify"], ["digest", "--dry-run"], ["status"]]
)
def test_one_engine_and_one_migration_per_command_and_the_engine_disposed(
    make_sandbox, env_for, tmp_path, monkeypatch, argv
):
    from alembic import command

    import core.db

    server = make_sandbox(dossiers=5)
    env_for(server, WIF_OUTBOX_DIR=str(tmp_path / "outbox"))
    assert main(["procedure", "bind", "--yes"]) == 0
    engines, migrations = [], []
    make, upgrade = core.db.create_engine, command.upgrade

    def counted_engine(*args, **kwargs):
        engine = make(*args, **kwargs)
        engine.disposed = False
        dispose = engine.dispose

        def disposing(*a, **k):
            engine.disposed = True
            return dispose(*a, **k)

        engine.dispose = disposing
        engines.append(engine)
        return engine

    monkeypatch.setattr(core.db, "create_engine", counted_engine)
    monkeypatch.setattr(command, "upgrade", lambda *a, **k: migrations.append(a) or upgrade(*a, **k))
    assert main(argv) in (0, 8)
    assert len(engines) == 1 and len(migrations) == 1 and engines[0].disposed
