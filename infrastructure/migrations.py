"""Runs the alembic migrations that create and upgrade every table Chronicle owns.

Alembic, SQLAlchemy and psycopg are imported where they are used: the command line imports this
module for its error and its names of stores, and `mes --help` should not wait for them.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlunsplit

from infrastructure.settings import PostgresTarget, Settings

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_DIR = Path(__file__).resolve().parents[1] / "alembic"
CONNECT_TIMEOUT_S = 5


class StoreUnopenableError(Exception):
    """The store cannot be opened: its server, database, role, folder or file is missing or refuses us."""

    def __init__(self, store: str, cause: object) -> None:
        super().__init__(f"cannot open the store {store}: {_one_line(cause)}")


def store_name(settings: Settings, *, admin: bool = False) -> str:
    """The store as an operator names it: the SQLite path, or the PostgreSQL URL with its password hidden."""
    if settings.is_memory:
        return "memory"
    if not settings.is_postgres:
        return str(settings.sqlite_path)
    return public_url(settings.postgres(admin=admin))


def public_url(target: PostgresTarget) -> str:
    """`postgresql://user:***@host:port/dbname`: fit for a terminal or a log, never the password."""
    auth = target.user + (":***" if target.password else "")
    host = f"[{target.host}]" if ":" in target.host else target.host
    query = "" if target.schema == "public" else urlencode({"schema": target.schema})
    return urlunsplit(("postgresql", f"{auth}@{host}:{target.port}", f"/{target.dbname}", query, ""))


def check_connection(settings: Settings, *, admin: bool = False) -> None:
    """Connects once as the role Chronicle will use, so that a wrong URL fails here, in one sentence."""
    if settings.is_memory:
        return
    if not settings.is_postgres:
        _open_sqlite(settings.sqlite_path, create=False)
        return
    import psycopg  # noqa: PLC0415 - see the module docstring

    target = settings.postgres(admin=admin)
    try:
        psycopg.connect(target.conninfo(), connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg.Error as error:  # a refused or unknown host, a missing database or role, a bad password
        raise StoreUnopenableError(public_url(target), _postgres_cause(error)) from error


def alembic_config(settings: Settings) -> Config:
    from alembic.config import Config  # noqa: PLC0415 - see the module docstring

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["settings"] = settings
    return config


def migrate(settings: Settings, revision: str = "head") -> None:
    """Brings the store up to `revision`; a store already there is left as it is."""
    from alembic.util import CommandError  # noqa: PLC0415 - see the module docstring

    from alembic import command  # noqa: PLC0415

    if settings.is_memory:
        return
    if settings.is_postgres:
        check_connection(settings, admin=True)
    else:
        _open_sqlite(settings.sqlite_path, create=True)
    try:
        command.upgrade(alembic_config(settings), revision)
    except CommandError as error:  # the store is at a revision this version does not know: a newer mes migrated it
        raise StoreUnopenableError(store_name(settings, admin=True), error) from error


def current_revision(settings: Settings) -> str | None:
    """The revision the store is at; None for a store never migrated (an SQLite file not there yet)."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - see the module docstring
    from sqlalchemy import create_engine  # noqa: PLC0415

    if settings.is_postgres:
        check_connection(settings, admin=True)
    elif not settings.sqlite_path.exists():
        return None
    else:
        _open_sqlite(settings.sqlite_path, create=False)
    engine = create_engine(settings.sqlalchemy_url())
    try:
        with engine.connect() as connection:
            opts = {"version_table_schema": settings.postgres().schema} if settings.is_postgres else {}
            return MigrationContext.configure(connection, opts=opts).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - see the module docstring

    return ScriptDirectory(str(ALEMBIC_DIR)).get_current_head()


def _open_sqlite(path: Path, *, create: bool) -> None:
    """Opens the file (creating its folder and the file itself if asked); a store that cannot be opened says why."""
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as conn:
            if create:
                # Write-ahead logging lets projections and API readers read while the writer commits. It
                # is a property of the file, set once here rather than by whichever connection comes first;
                # on a new file it is also the first write, so a folder we cannot write to is found here.
                conn.execute("PRAGMA journal_mode=WAL")
            else:
                conn.execute("PRAGMA schema_version").fetchone()  # reads the header: is it a database?
    except FileExistsError as error:  # mkdir(exist_ok=True) met a file where the folder should be
        raise StoreUnopenableError(str(path), f"{error.filename} is a file, not a folder") from error
    except OSError as error:
        raise StoreUnopenableError(str(path), f"{error.strerror or error}: {error.filename or path}") from error
    except sqlite3.Error as error:
        raise StoreUnopenableError(str(path), error) from error


def _postgres_cause(error: Exception) -> str:
    """The server's reason without libpq's preamble: 'Connection refused', 'database "x" does not exist'."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    reason = first.rpartition(" failed: ")[2]
    return reason.removeprefix("FATAL:").strip()


def _one_line(cause: object) -> str:
    return " ".join(str(cause).split())
