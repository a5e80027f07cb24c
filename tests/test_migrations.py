"""The Alembic migrations build exactly the schema the models declare."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from connector.db import import_all_tables, make_engine, upgrade


def test_upgrade_from_empty_matches_the_models(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), import_all_tables())
    assert diff == []
    assert "dossiers" in inspect(engine).get_table_names()
    engine.dispose()
