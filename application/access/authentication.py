"""Who is calling: a bearer token (a person's session) or an API key (a machine account),
resolved to an enabled account with its current roles.

Answers are kept for a second, so that the write path pays a dictionary lookup, not a database
read, per request; a logout, a revoked key or a disabled account in this process is forgotten at
once, and in another process within that second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from application.access.api_keys import KEY, ApiKeyService, KeyRefusedError
from application.access.directory import KEEP_S, Account, Directory
from application.access.security_log import SecurityKind
from application.access.sessions import ACCESS_PREFIX, SessionRefusedError, SessionService
from application.ports import SecurityEvent, SecurityLog, StoreUnavailableError
from domain.values import ActorKind

STALE_S = 300.0


class Caller(NamedTuple):
    """An authenticated request's principal, and the session or key it came with."""

    account: Account
    session_id: str | None = None
    key_prefix: str | None = None
    certificate: str | None = None  # the common name of the client certificate it came with (mutual TLS)


class AuthenticationError(Exception):
    """No principal could be established; `kind` is for the security log, the client learns less."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail  # which key or account, never the credential


class Authenticator:
    """Resolves bearer credentials to a caller, logging every refusal."""

    def __init__(
        self,
        sessions: SessionService,
        keys: ApiKeyService,
        directory: Directory,
        log: SecurityLog,
        now: Callable[[], datetime],
        keep_s: float = KEEP_S,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.directory = directory
        self.log = log
        self.now = now
        self.keep_s = keep_s
        self._kept: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def kept(self, credential: str) -> Caller | None:
        """The caller of a credential checked within the last second (no I/O); else None."""
        kept = self._kept.get(credential)
        return kept[1] if kept is not None and time.monotonic() - kept[0] < self.keep_s else None

    def authenticate(self, credential: str, client: str | None) -> Caller:
        """The caller a bearer credential stands for; AuthenticationError (logged) if none.

        While the store cannot be reached, a credential checked within the last `STALE_S` keeps
        its answer: nothing can be revoked meanwhile (that needs the store too), and the commands
        a plant sends through an outage wait in the bus rather than fail at the door.
        """
        try:
            caller = self._resolve(credential)
        except StoreUnavailableError:
            kept = self._kept.get(credential)
            if kept is not None and time.monotonic() - kept[0] < STALE_S:
                return kept[1]
            raise
        except AuthenticationError as refused:
            kind = SecurityKind.KEY_REFUSED if KEY.match(credential) else SecurityKind.TOKEN_REFUSED
            detail = f"reason={refused.kind} {refused.detail}".strip()
            self.log.record(SecurityEvent(self.now(), kind, None, client, detail))
            raise
        with self._lock:
            if len(self._kept) > 10_000:  # noqa: PLR2004 - a bound, not a tuning figure
                self._kept.clear()
            self._kept[credential] = (time.monotonic(), caller)
        return caller

    def authenticate_certificate(self, common_name: str | None, kept_as: str, client: str | None) -> Caller:
        """The machine account a verified client certificate names (its common name); a person
        never signs in by certificate (they have a password and a second factor)."""
        account = self.directory.account(common_name) if common_name else None
        if account is None or not account.enabled or account.kind is not ActorKind.MACHINE:
            detail = f"reason=no-enabled-machine-account certificate={common_name}"
            self.log.record(SecurityEvent(self.now(), SecurityKind.CERTIFICATE_REFUSED, common_name, client, detail))
            raise AuthenticationError("certificate")
        caller = Caller(account, certificate=common_name)
        with self._lock:
            self._kept[kept_as] = (time.monotonic(), caller)
        return caller

    def forget(
        self, *, session_id: str | None = None, key_prefix: str | None = None, username: str | None = None
    ) -> None:
        """Drops kept answers for a session, a key or an account, at once (logout, revocation, disable)."""
        with self._lock:
            for credential, (_, caller) in list(self._kept.items()):
                if (
                    (session_id and caller.session_id == session_id)
                    or (key_prefix and caller.key_prefix == key_prefix)
                    or (username and caller.account.username == username)
                ):
                    del self._kept[credential]
        if username:
            self.directory.forget(username)

    def _resolve(self, credential: str) -> Caller:
        if KEY.match(credential):
            try:
                stored = self.keys.verify(credential)
            except KeyRefusedError as refused:
                raise AuthenticationError(refused.kind, f"key={refused.prefix}" if refused.prefix else "") from None
            account = self.directory.account_by_id(stored.principal_id)
            return Caller(self._usable(account), key_prefix=stored.prefix)
        if credential.startswith(ACCESS_PREFIX):
            try:
                session = self.sessions.session(credential)
            except SessionRefusedError as refused:
                raise AuthenticationError(refused.kind) from None
            return Caller(self._usable(self.directory.account(session.username)), session_id=session.session_id)
        raise AuthenticationError("malformed")

    @staticmethod
    def _usable(account: Account | None) -> Account:
        if account is None or not account.enabled:
            raise AuthenticationError("disabled", f"account={account.username}" if account else "")
        return account
