"""The credentials table on SQLite or PostgreSQL: one row of secrets per principal.

Reads and writes are rare (a sign-in, an administrator setting a password), so each opens its own
short connection instead of holding a pool.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from application.ports import SecondFactor, StoredKey, StoreUnavailableError
from infrastructure.settings import Settings


@contextmanager
def cursor(settings: Settings) -> Iterator[tuple[Any, str]]:
    """A cursor in a transaction of its own, and the placeholder its driver takes."""
    if settings.is_postgres:
        target = settings.postgres()
        options = f"-c search_path={target.schema}"
        try:
            conn = psycopg.connect(target.conninfo(), options=options, connect_timeout=5)
        except psycopg.OperationalError as error:
            msg = "the credentials store could not be reached; try again shortly"
            raise StoreUnavailableError(msg) from error
        with conn, conn.cursor() as cur:
            yield cur, "%s"
        return
    with closing(sqlite3.connect(settings.sqlite_path, timeout=30)) as db, db:
        yield db.cursor(), "?"


class SqlCredentialStore:
    """Password hashes by principal id, in the store's `credentials` table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def password_holders(self) -> list[UUID]:
        """The principals that have a password (people who can sign in)."""
        with cursor(self.settings) as (cur, _):
            cur.execute("SELECT principal_id FROM credentials WHERE password_hash IS NOT NULL")
            return [UUID(str(row[0])) for row in cur.fetchall()]

    def password_hash(self, principal_id: UUID) -> str | None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(f"SELECT password_hash FROM credentials WHERE principal_id = {mark}", (str(principal_id),))  # noqa: S608
            row = cur.fetchone()
        return None if row is None else row[0]

    def set_password_hash(self, principal_id: UUID, password_hash: str, at: datetime) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                "INSERT INTO credentials (principal_id, password_hash, password_set_at) "  # noqa: S608 - placeholders only
                f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (principal_id) DO UPDATE "
                "SET password_hash = excluded.password_hash, password_set_at = excluded.password_set_at",
                (str(principal_id), password_hash, at.isoformat() if not self.settings.is_postgres else at),
            )

    def second_factor(self, principal_id: UUID) -> SecondFactor:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                "SELECT totp_pending, totp_secret, totp_last_step, recovery_codes "  # noqa: S608
                f"FROM credentials WHERE principal_id = {mark}",
                (str(principal_id),),
            )
            row = cur.fetchone()
        if row is None:
            return SecondFactor(None, None, None, ())
        pending, secret, step, codes = row
        return SecondFactor(_bytes(pending), _bytes(secret), step, tuple(json.loads(codes or "[]")))

    def begin_second_factor(self, principal_id: UUID, sealed: bytes) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"INSERT INTO credentials (principal_id, totp_pending) VALUES ({mark}, {mark}) "  # noqa: S608
                "ON CONFLICT (principal_id) DO UPDATE SET totp_pending = excluded.totp_pending",
                (str(principal_id), sealed),
            )

    def confirm_second_factor(self, principal_id: UUID, step: int, recovery_codes: tuple[str, ...]) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                "UPDATE credentials SET totp_secret = totp_pending, totp_pending = NULL, "  # noqa: S608
                f"totp_last_step = {mark}, recovery_codes = {mark} WHERE principal_id = {mark}",
                (step, json.dumps(list(recovery_codes)), str(principal_id)),
            )

    def advance_step(self, principal_id: UUID, step: int) -> bool:
        # One statement compares and sets: two sign-ins with the same code cannot both win.
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE credentials SET totp_last_step = {mark} "  # noqa: S608
                f"WHERE principal_id = {mark} AND totp_secret IS NOT NULL "
                f"AND (totp_last_step IS NULL OR totp_last_step < {mark})",
                (step, str(principal_id), step),
            )
            return bool(cur.rowcount == 1)

    def use_recovery_code(self, principal_id: UUID, code_hash: str) -> bool:
        with cursor(self.settings) as (cur, mark):
            lock = " FOR UPDATE" if self.settings.is_postgres else ""
            cur.execute(
                f"SELECT recovery_codes FROM credentials WHERE principal_id = {mark}{lock}",  # noqa: S608
                (str(principal_id),),
            )
            row = cur.fetchone()
            codes = json.loads(row[0] or "[]") if row else []
            if code_hash not in codes:
                return False
            codes.remove(code_hash)
            cur.execute(
                f"UPDATE credentials SET recovery_codes = {mark} WHERE principal_id = {mark}",  # noqa: S608
                (json.dumps(codes), str(principal_id)),
            )
            return True

    def clear_second_factor(self, principal_id: UUID) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                "UPDATE credentials SET totp_pending = NULL, totp_secret = NULL, totp_last_step = NULL, "  # noqa: S608
                f"recovery_codes = NULL WHERE principal_id = {mark}",
                (str(principal_id),),
            )

    def sign_in_failures(self, principal_id: UUID) -> tuple[int, datetime | None]:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"SELECT failed_sign_ins, locked_until FROM credentials WHERE principal_id = {mark}",  # noqa: S608
                (str(principal_id),),
            )
            row = cur.fetchone()
        return (0, None) if row is None else (int(row[0]), moment(row[1]))

    def record_sign_in_failure(self, principal_id: UUID, locked_until: datetime | None) -> int:
        moment = (
            None if locked_until is None else (locked_until if self.settings.is_postgres else locked_until.isoformat())
        )
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"INSERT INTO credentials (principal_id, failed_sign_ins, locked_until) VALUES ({mark}, 1, {mark}) "  # noqa: S608
                "ON CONFLICT (principal_id) DO UPDATE SET failed_sign_ins = credentials.failed_sign_ins + 1, "
                "locked_until = excluded.locked_until RETURNING failed_sign_ins",
                (str(principal_id), moment),
            )
            return int(cur.fetchone()[0])

    def clear_sign_in_failures(self, principal_id: UUID) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE credentials SET failed_sign_ins = 0, locked_until = NULL WHERE principal_id = {mark}",  # noqa: S608
                (str(principal_id),),
            )


def _bytes(value: object) -> bytes | None:
    return None if value is None else bytes(value)  # type: ignore[call-overload]


class SqlApiKeyStore:
    """API key hashes by prefix, in the store's `api_keys` table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _time(self, moment: datetime) -> object:
        return moment if self.settings.is_postgres else moment.isoformat()

    def add(self, key: StoredKey, issued_at: datetime) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                "INSERT INTO api_keys (prefix, principal_id, key_hash, issued_at, expires_at) "  # noqa: S608
                f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
                (key.prefix, str(key.principal_id), key.key_hash, self._time(issued_at), self._time(key.expires_at)),
            )

    def find(self, prefix: str) -> StoredKey | None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"SELECT principal_id, key_hash, expires_at, revoked_at FROM api_keys WHERE prefix = {mark}",  # noqa: S608
                (prefix,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        principal, key_hash, expires_at, revoked_at = row
        return StoredKey(prefix, UUID(str(principal)), key_hash, moment(expires_at), moment(revoked_at))

    def revoke(self, prefix: str, at: datetime) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE api_keys SET revoked_at = {mark} WHERE prefix = {mark} AND revoked_at IS NULL",  # noqa: S608
                (self._time(at), prefix),
            )

    def shorten(self, prefix: str, expires_at: datetime) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE api_keys SET expires_at = {mark} WHERE prefix = {mark}",  # noqa: S608
                (self._time(expires_at), prefix),
            )


def moment(value: object) -> Any:
    """A stored time: PostgreSQL gives datetimes, SQLite the ISO text written."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
