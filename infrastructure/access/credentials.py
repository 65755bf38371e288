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

from application.ports import StoredKey
from infrastructure.settings import Settings


@contextmanager
def _cursor(settings: Settings) -> Iterator[tuple[Any, str]]:
    """A cursor in a transaction of its own, and the placeholder its driver takes."""
    if settings.is_postgres:
        target = settings.postgres()
        options = f"-c search_path={target.schema}"
        with psycopg.connect(target.conninfo(), options=options, connect_timeout=5) as conn, conn.cursor() as cur:
            yield cur, "%s"
        return
    with closing(sqlite3.connect(settings.sqlite_path, timeout=30)) as db, db:
        yield db.cursor(), "?"


class SqlCredentialStore:
    """Password hashes by principal id, in the store's `credentials` table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def password_hash(self, principal_id: UUID) -> str | None:
        with _cursor(self.settings) as (cur, mark):
            cur.execute(f"SELECT password_hash FROM credentials WHERE principal_id = {mark}", (str(principal_id),))  # noqa: S608
            row = cur.fetchone()
        return None if row is None else row[0]

    def set_password_hash(self, principal_id: UUID, password_hash: str, at: datetime) -> None:
        with _cursor(self.settings) as (cur, mark):
            cur.execute(
                "INSERT INTO credentials (principal_id, password_hash, password_set_at) "  # noqa: S608 - placeholders only
                f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (principal_id) DO UPDATE "
                "SET password_hash = excluded.password_hash, password_set_at = excluded.password_set_at",
                (str(principal_id), password_hash, at.isoformat() if not self.settings.is_postgres else at),
            )


class SqlApiKeyStore:
    """API key hashes by prefix, in the store's `api_keys` table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _time(self, moment: datetime) -> object:
        return moment if self.settings.is_postgres else moment.isoformat()

    def add(self, key: StoredKey, issued_at: datetime) -> None:
        with _cursor(self.settings) as (cur, mark):
            cur.execute(
                "INSERT INTO api_keys (prefix, principal_id, key_hash, issued_at, expires_at) "  # noqa: S608
                f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
                (key.prefix, str(key.principal_id), key.key_hash, self._time(issued_at), self._time(key.expires_at)),
            )

    def find(self, prefix: str) -> StoredKey | None:
        with _cursor(self.settings) as (cur, mark):
            cur.execute(
                f"SELECT principal_id, key_hash, expires_at, revoked_at FROM api_keys WHERE prefix = {mark}",  # noqa: S608
                (prefix,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        principal, key_hash, expires_at, revoked_at = row
        return StoredKey(prefix, UUID(str(principal)), key_hash, _moment(expires_at), _moment(revoked_at))

    def revoke(self, prefix: str, at: datetime) -> None:
        with _cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE api_keys SET revoked_at = {mark} WHERE prefix = {mark} AND revoked_at IS NULL",  # noqa: S608
                (self._time(at), prefix),
            )

    def shorten(self, prefix: str, expires_at: datetime) -> None:
        with _cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE api_keys SET expires_at = {mark} WHERE prefix = {mark}",  # noqa: S608
                (self._time(expires_at), prefix),
            )


def _moment(value: object) -> Any:
    """A stored time: PostgreSQL gives datetimes, SQLite the ISO text written."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
