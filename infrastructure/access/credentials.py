"""The credentials table on SQLite or PostgreSQL: one row of secrets per principal.

Reads and writes are rare (a sign-in, an administrator setting a password), so each opens its own
short connection instead of holding a pool.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from infrastructure.settings import Settings


class SqlCredentialStore:
    """Password hashes by principal id, in the store's `credentials` table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextmanager
    def _cursor(self) -> Iterator[tuple[Any, str]]:
        """A cursor in a transaction, and the placeholder its driver takes."""
        if self.settings.is_postgres:
            target = self.settings.postgres()
            options = f"-c search_path={target.schema}"
            with psycopg.connect(target.conninfo(), options=options, connect_timeout=5) as conn, conn.cursor() as cur:
                yield cur, "%s"
            return
        with closing(sqlite3.connect(self.settings.sqlite_path, timeout=30)) as db, db:
            yield db.cursor(), "?"

    def password_hash(self, principal_id: UUID) -> str | None:
        with self._cursor() as (cur, mark):
            cur.execute(f"SELECT password_hash FROM credentials WHERE principal_id = {mark}", (str(principal_id),))  # noqa: S608
            row = cur.fetchone()
        return None if row is None else row[0]

    def set_password_hash(self, principal_id: UUID, password_hash: str, at: datetime) -> None:
        with self._cursor() as (cur, mark):
            cur.execute(
                "INSERT INTO credentials (principal_id, password_hash, password_set_at) "  # noqa: S608 - placeholders only
                f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (principal_id) DO UPDATE "
                "SET password_hash = excluded.password_hash, password_set_at = excluded.password_set_at",
                (str(principal_id), password_hash, at.isoformat() if not self.settings.is_postgres else at),
            )
