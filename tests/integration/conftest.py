"""Real stores: an SQLite file, and a fresh schema on the PostgreSQL server per test.

PostgreSQL is at MES_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test), used as
the admin role that migrates; the application connects as the restricted `chronicle_app` role.
Unreachable, these tests skip with a note, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from api.runtime import Runtime, build_runtime
from infrastructure.migrations import migrate
from infrastructure.settings import Settings, parse_postgres_url, postgres_url
from tests.fakes import SteppingClock
from tests.requirements import missing

POSTGRES_URL = os.environ.get("MES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_or_skip() -> str:
    target = parse_postgres_url(POSTGRES_URL)
    try:
        psycopg.connect(target.conninfo(), connect_timeout=3).close()
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {target.host}:{target.port} is unreachable ({error}); set MES_TEST_POSTGRES_URL"
        missing(message)
    return POSTGRES_URL


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    """(app URL, admin URL) for a fresh, migrated schema, dropped after the test."""
    admin = parse_postgres_url(postgres_or_skip())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin_url = postgres_url(admin, schema=schema)
    app_url = postgres_url(admin, user="chronicle_app", schema=schema)
    yield app_url, admin_url
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: object) -> Settings:
    """Migrated settings for each real store."""
    # Scenarios carry business times of their own, hours or days after the fake clock's start.
    window = {"MES_BUSINESS_TIME_MAX_AHEAD_S": str(366 * 24 * 3600)}
    if request.param == "sqlite":
        settings = Settings.from_env({"MES_DATABASE_URL": f"sqlite:///{tmp_path}/chronicle.db", **window})  # type: ignore[str-bytes-safe]
    else:
        app_url, admin_url = request.getfixturevalue("postgres_schema")
        settings = Settings.from_env({"MES_DATABASE_URL": app_url, "MES_ADMIN_DATABASE_URL": admin_url, **window})
    migrate(settings)
    return settings


@pytest.fixture
def open_runtime(settings: Settings) -> Iterator[Callable[[], Runtime]]:
    """Opens runtimes on the test's store (several to play several processes); all closed after."""
    opened: list[Runtime] = []

    def open_one() -> Runtime:
        runtime = build_runtime(settings, clock=SteppingClock())
        opened.append(runtime)
        return runtime

    yield open_one
    for runtime in opened:
        runtime.close()


@pytest.fixture
def runtime(open_runtime: Callable[[], Runtime]) -> Runtime:
    return open_runtime()
