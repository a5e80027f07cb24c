from alembic import context

from core.db import make_engine
from core.models import Base

target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        # Called from the `alembic` command line: take the URL from alembic.ini
        # or DATABASE_URL through the settings.
        from core.settings import load_settings

        engine = make_engine(config.get_main_option("sqlalchemy.url") or load_settings().database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
