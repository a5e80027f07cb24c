"""The Alembic migrations build exactly the schema the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db import make_engine, upgrade
from core.models import Base


def test_upgrade_from_empty_matches_the_models(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), Base.metadata)
    assert diff == []
    assert "dossiers" in inspect(engine).get_table_names()
    engine.dispose()


def test_records_published_before_the_employers_name_was_kept_show_it_after_the_upgrade(database_url):
    """0012: a published record takes the raison sociale its dossier holds, as the next sync would give it; a
    withdrawn one answers nothing and gains nothing."""
    from alembic import command
    from sqlalchemy import text

    from core.db import alembic_config

    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0011_student_cursus")
    with engine.begin() as connection:
        for number, state in ((7001, "valid"), (7002, "withdrawn")):
            connection.execute(
                text(
                    "INSERT INTO dossiers (number, ds_id, demarche_number, state, archived, "
                    "date_derniere_modification, "
                    "out_of_scope, raw, synced_at) VALUES (:n, :id, 1, 'accepte', false, '2026-05-01 00:00:00', false, "
                    "'{}', '2026-05-01 00:00:00')"
                ),
                {"n": number, "id": f"D{number}"},
            )
            connection.execute(
                text("INSERT INTO employers (dossier_number, company_name) VALUES (:n, 'Hôtel Voltaire')"),
                {"n": number},
            )
            connection.execute(
                text(
                    "INSERT INTO validity_records (dossier_number, birth_date_hash, masked_name, siret, apt_start, "
                    "apt_end, "
                    "state, updated_at) VALUES (:n, 'h', 'Ka*** Be***', '73282932000074', '2026-01-05', '2026-12-31', "
                    ":state, '2026-05-01 00:00:00')"
                ),
                {"n": number, "state": state},
            )
    upgrade(engine)
    with engine.connect() as connection:
        names = dict(connection.execute(text("SELECT dossier_number, employer_name FROM validity_records")).all())
    assert names == {7001: "Hôtel Voltaire", 7002: None}
    engine.dispose()
