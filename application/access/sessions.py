"""People's sessions: signed in with password and code, they carry a short-lived bearer token and a
refresh token; an idle session or a logout ends them.

Tokens are 256 random bits, `cht_...` (bearer) and `chf_...` (refresh). The store keeps their
SHA-256 only. Each refresh replaces both tokens: a refresh token works once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from application.access.security_log import SecurityKind
from application.access.sign_in import SignInRefusedError, SignInService
from application.ports import SecurityEvent, SecurityLog, SessionStore, StoredSession

ACCESS_PREFIX = "cht_"
REFRESH_PREFIX = "chf_"


@dataclass(frozen=True)
class TokenPolicy:
    """How long tokens live, and how long a session may sit idle before the password is needed again."""

    access: timedelta = timedelta(minutes=15)
    refresh: timedelta = timedelta(hours=12)  # a shift and then some: the session's longest life
    idle: timedelta = timedelta(minutes=30)


class Tokens(NamedTuple):
    """What a sign-in or a refresh answers: shown once, never stored as such."""

    session_id: str
    access_token: str
    refresh_token: str
    expires_at: datetime  # of the bearer token


class SessionRefusedError(Exception):
    """A token was refused; `kind` says why, for the security log (the client is told less)."""

    def __init__(self, kind: str, session_id: str | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.session_id = session_id  # of a session this refusal ended


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


class SessionService:
    """Signs people in and out, refreshes their tokens, and tells whose a bearer token is."""

    def __init__(
        self,
        sign_in: SignInService,
        store: SessionStore,
        log: SecurityLog,
        now: Callable[[], datetime],
        policy: TokenPolicy | None = None,
    ) -> None:
        self.sign_in = sign_in
        self.store = store
        self.log = log
        self.now = now
        self.policy = policy or TokenPolicy()

    def login(self, username: str, password: str, totp: str | None, client: str | None) -> Tokens:
        """A new session for the person, or SignInRefusedError (logged with what really went wrong)."""
        try:
            account = self.sign_in.sign_in(username, password, totp)
        except SignInRefusedError as refused:
            kind = {"locked": SecurityKind.LOCKED_OUT, "bad-code": SecurityKind.MFA_FAILED}.get(
                refused.kind, SecurityKind.LOGIN_FAILED
            )
            self._log(kind, username, client, f"reason={refused.kind}")
            raise
        now = self.now()
        access, refresh = _new(ACCESS_PREFIX), _new(REFRESH_PREFIX)
        session = StoredSession(
            str(uuid.uuid4()), account.username, now + self.policy.access, now + self.policy.refresh, now, None
        )
        self.store.open(session, token_hash(access), token_hash(refresh))
        self._log(SecurityKind.LOGIN_OK, account.username, client, f"session={session.session_id}")
        return Tokens(session.session_id, access, refresh, session.access_expires_at)

    def refresh(self, refresh_token: str, client: str | None) -> Tokens:
        """New tokens for a live, not idle session; the refresh token given stops working."""
        old_hash = token_hash(refresh_token)
        session = self.store.by_refresh(old_hash) if refresh_token.startswith(REFRESH_PREFIX) else None
        if session is None and (copied := self.store.by_replaced_refresh(old_hash)) is not None:
            self._end_copied(copied, client)
        now = self.now()
        refusal = self._refusal(session, now, session.refresh_expires_at if session else now)
        if session is None or refusal:
            self._log(SecurityKind.TOKEN_REFUSED, session.username if session else None, client, f"refresh {refusal}")
            raise SessionRefusedError(refusal or "unknown")
        access, refresh = _new(ACCESS_PREFIX), _new(REFRESH_PREFIX)
        expires_at = min(now + self.policy.access, session.refresh_expires_at)
        if not self.store.renew(session.session_id, old_hash, token_hash(access), token_hash(refresh), expires_at):
            raise SessionRefusedError("refreshed-meanwhile")
        self.store.touch(session.session_id, now)
        self._log(SecurityKind.TOKEN_REFRESHED, session.username, client, f"session={session.session_id}")
        return Tokens(session.session_id, access, refresh, expires_at)

    def _end_copied(self, session: StoredSession, client: str | None) -> None:
        """A refresh token used again after it was replaced was copied: the session ends, for the
        thief and the owner alike (the owner signs in again)."""
        self.store.revoke(session.session_id, self.now())
        detail = f"refresh reused session={session.session_id} ended"
        self._log(SecurityKind.TOKEN_REFUSED, session.username, client, detail)
        raise SessionRefusedError("reused", session.session_id)

    def session(self, access_token: str) -> StoredSession:
        """The live session a bearer token belongs to; SessionRefusedError if none."""
        found = self.store.by_access(token_hash(access_token))
        now = self.now()
        refusal = self._refusal(found, now, found.access_expires_at if found else now)
        if found is None or refusal:
            raise SessionRefusedError(refusal or "unknown")
        if now - found.last_seen_at > timedelta(minutes=1):  # idle time is kept to the minute
            self.store.touch(found.session_id, now)
        return found

    def logout(self, session_id: str, username: str, client: str | None) -> None:
        self.store.revoke(session_id, self.now())
        self._log(SecurityKind.TOKEN_REVOKED, username, client, f"session={session_id} logout")

    def _refusal(self, session: StoredSession | None, now: datetime, expires_at: datetime) -> str:
        if session is None:
            return "unknown"
        if session.revoked_at is not None:
            return "revoked"
        if now >= expires_at:
            return "expired"
        if now - session.last_seen_at > self.policy.idle:
            return "idle"
        return ""

    def _log(self, kind: SecurityKind, principal: str | None, client: str | None, detail: str) -> None:
        self.log.record(SecurityEvent(self.now(), kind, principal, client, detail))
