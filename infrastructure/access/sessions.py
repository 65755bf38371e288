"""Sessions and the security log on SQLite or PostgreSQL, in the store's `sessions` and
`security_events` tables (each call a short transaction of its own, as for credentials)."""

from __future__ import annotations

import logging
from datetime import datetime

from application.ports import SecurityEvent, StoredSession
from infrastructure.access.credentials import cursor, moment
from infrastructure.logs import SECURITY_LOGGER
from infrastructure.settings import Settings

security_log = logging.getLogger(SECURITY_LOGGER)

_SESSION = "session_id, username, access_expires_at, refresh_expires_at, last_seen_at, revoked_at"


class _Table:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _time(self, moment: datetime) -> object:
        # SQLite keeps ISO text: always with microseconds, so that text order is time order.
        return moment if self.settings.is_postgres else moment.isoformat(timespec="microseconds")


def _session(row: tuple[object, ...] | None) -> StoredSession | None:
    if row is None:
        return None
    session_id, username, access, refresh, seen, revoked = row
    return StoredSession(str(session_id), str(username), moment(access), moment(refresh), moment(seen), moment(revoked))


class SqlSessionStore(_Table):
    """Sessions by id, found by the hash of either token."""

    def open(self, session: StoredSession, access_hash: str, refresh_hash: str) -> None:
        t = self._time
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                "INSERT INTO sessions (session_id, username, access_hash, access_expires_at, refresh_hash, "  # noqa: S608
                f"refresh_expires_at, created_at, last_seen_at) VALUES ({', '.join([mark] * 8)})",
                (
                    session.session_id,
                    session.username,
                    access_hash,
                    t(session.access_expires_at),
                    refresh_hash,
                    t(session.refresh_expires_at),
                    t(session.last_seen_at),
                    t(session.last_seen_at),
                ),
            )

    def by_access(self, access_hash: str) -> StoredSession | None:
        return self._find("access_hash", access_hash)

    def by_refresh(self, refresh_hash: str) -> StoredSession | None:
        return self._find("refresh_hash", refresh_hash)

    def by_replaced_refresh(self, refresh_hash: str) -> StoredSession | None:
        return self._find("previous_refresh_hash", refresh_hash)

    def _find(self, column: str, value: str) -> StoredSession | None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(f"SELECT {_SESSION} FROM sessions WHERE {column} = {mark}", (value,))  # noqa: S608
            return _session(cur.fetchone())

    def renew(
        self, session_id: str, old_refresh_hash: str, access_hash: str, refresh_hash: str, access_expires_at: datetime
    ) -> bool:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE sessions SET access_hash = {mark}, refresh_hash = {mark}, access_expires_at = {mark}, "  # noqa: S608
                f"previous_refresh_hash = refresh_hash WHERE session_id = {mark} AND refresh_hash = {mark} "
                "AND revoked_at IS NULL",
                (access_hash, refresh_hash, self._time(access_expires_at), session_id, old_refresh_hash),
            )
            return bool(cur.rowcount == 1)

    def touch(self, session_id: str, at: datetime) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE sessions SET last_seen_at = {mark} WHERE session_id = {mark}",  # noqa: S608
                (self._time(at), session_id),
            )

    def revoke(self, session_id: str, at: datetime) -> None:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE sessions SET revoked_at = {mark} WHERE session_id = {mark} AND revoked_at IS NULL",  # noqa: S608
                (self._time(at), session_id),
            )

    def revoke_all(self, username: str, at: datetime) -> int:
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                f"UPDATE sessions SET revoked_at = {mark} WHERE username = {mark} AND revoked_at IS NULL",  # noqa: S608
                (self._time(at), username),
            )
            return int(cur.rowcount)


class SqlSecurityLog(_Table):
    """The security log: rows appended, read back by time, principal and kind."""

    def record(self, event: SecurityEvent) -> None:
        security_log.info(
            str(event.kind), extra={"principal": event.principal, "client": event.client, "detail": event.detail}
        )
        with cursor(self.settings) as (cur, mark):
            cur.execute(
                "INSERT INTO security_events (at, kind, principal, client, detail) "  # noqa: S608
                f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
                (self._time(event.at), str(event.kind), event.principal, event.client, event.detail),
            )

    def select(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        principal: str | None,
        kind: str | None,
        after: int | None,
        limit: int,
    ) -> list[SecurityEvent]:
        with cursor(self.settings) as (cur, mark):
            conditions, params = [], []
            for clause, value in (
                (f"at >= {mark}", None if since is None else self._time(since)),
                (f"at < {mark}", None if until is None else self._time(until)),
                (f"principal = {mark}", principal),
                (f"kind = {mark}", kind),
                (f"id > {mark}", after),
            ):
                if value is not None:
                    conditions.append(clause)
                    params.append(value)
            where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
            cur.execute(
                f"SELECT id, at, kind, principal, client, detail FROM security_events {where} ORDER BY id LIMIT {mark}",  # noqa: S608
                (*params, limit),
            )
            rows = cur.fetchall()
        return [
            SecurityEvent(moment(at), kind, who, client, detail, int(i)) for i, at, kind, who, client, detail in rows
        ]
