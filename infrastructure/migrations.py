"""Runs the alembic migrations that create and upgrade every table Chronicle owns."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from alembic.config import Config

from alembic import command
from infrastructure.settings import Settings

ALEMBIC_DIR = Path(__file__).resolve().parents[1] / "alembic"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["settings"] = settings
    return config


def migrate(settings: Settings, revision: str = "head") -> None:
    """Brings the store up to `revision`; a store already there is left as it is."""
    if settings.is_memory:
        return
    if not settings.is_postgres:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)
    if not settings.is_postgres:
        # Write-ahead logging lets projections and API readers read while the writer commits. It is
        # a property of the file, set once here rather than by whichever connection comes first.
        with closing(sqlite3.connect(settings.sqlite_path)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")


def current_revision(settings: Settings) -> str | None:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - only for this query
    from sqlalchemy import create_engine  # noqa: PLC0415

    engine = create_engine(settings.sqlalchemy_url())
    try:
        with engine.connect() as connection:
            opts = {"version_table_schema": settings.postgres().schema} if settings.is_postgres else {}
            return MigrationContext.configure(connection, opts=opts).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - only for this query

    return ScriptDirectory(str(ALEMBIC_DIR)).get_current_head()
