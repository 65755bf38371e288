"""Alembic environment: migrates the store named by the settings the caller passes in.

`mes migrate` builds the settings and hands them over in `config.attributes["settings"]`; run by
hand (`alembic -c alembic.ini upgrade head`), the settings are read from the environment.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text

from alembic import context
from infrastructure.settings import Settings

settings: Settings = context.config.attributes.get("settings") or Settings.from_env()


def run_migrations_online() -> None:
    engine = create_engine(settings.sqlalchemy_url())
    with engine.connect() as connection:
        version_schema = None
        if settings.is_postgres:
            schema = settings.postgres().schema
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.execute(text(f'SET search_path TO "{schema}"'))
            connection.commit()
            version_schema = schema
        context.configure(
            connection=connection,
            version_table_schema=version_schema,
            transactional_ddl=True,
        )
        with context.begin_transaction():
            context.run_migrations(settings=settings)
    engine.dispose()


if context.is_offline_mode():
    msg = "offline migrations are not supported; run `mes migrate`"
    raise SystemExit(msg)
run_migrations_online()
