"""Ports the application needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, Protocol
from uuid import UUID

from application.commands import Command
from domain.values import Actor, Role


class Clock(Protocol):
    """Tells business time when a command does not carry its own."""

    def now(self) -> datetime: ...


class CommandReceipt(NamedTuple):
    """What a command returned, and the last event it recorded (which gives its position)."""

    command_id: str
    command_type: str
    result: bytes
    originator_id: UUID | None
    originator_version: int | None
    fingerprint: bytes  # of the command's payload: a repeat under its id must send the same


class StoredReceipt(NamedTuple):
    """A receipt read back, with the position of the command's last event."""

    command_id: str
    command_type: str
    result: bytes
    position: int | None
    fingerprint: bytes | None  # None in receipts recorded before fingerprints were kept


class ReceiptStore(Protocol):
    """The event store's recorder keeps command receipts in the transaction of their events."""

    def select_receipts(self, command_ids: Sequence[str]) -> dict[str, StoredReceipt]: ...


class StoreKeyError(Exception):
    """The store's events cannot be read with the key configured (or without one); one line says why."""


class StoreUnavailableError(Exception):
    """The event store or the read store could not be reached (connection refused or lost) and
    stayed away for as long as a command or read may wait; nothing was recorded or read.

    `retry_after` is the number of seconds a client should wait before it tries again.
    """

    def __init__(self, detail: str, retry_after: int = 2) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class NotAuthorizedError(Exception):
    """The principal may not send this command; nothing was recorded."""

    def __init__(self, actor: Actor, command: Command, why: str) -> None:
        super().__init__(f"{actor.name} ({actor.id}) may not {type(command).__name__}: {why}")
        self.actor = actor
        self.command = command


class Authorizer(Protocol):
    """Decides whether a principal may send a command, whatever channel it came in through."""

    def authorize(self, actor: Actor, command: Command, roles: frozenset[Role] | None = None) -> None:
        """Returns if allowed; raises NotAuthorizedError if not. `roles` are the actor's roles as
        authentication just established them (None: the authorizer looks them up)."""


class AllowAll:
    """Every principal may send every command: the policy until the access capability arrives."""

    def authorize(self, actor: Actor, command: Command, roles: frozenset[Role] | None = None) -> None:
        return None


class SecondFactor(NamedTuple):
    """A person's TOTP as the credentials store keeps it: secrets sealed, recovery codes hashed."""

    pending: bytes | None  # sealed secret of an enrolment not yet confirmed
    secret: bytes | None  # sealed secret in use
    last_step: int | None  # the last time step a code was accepted for
    recovery_codes: tuple[str, ...]  # hashes of the one-time codes left


class CredentialStore(Protocol):
    """Where the secrets authentication checks are kept, out of the event log."""

    def password_hash(self, principal_id: UUID) -> str | None: ...

    def set_password_hash(self, principal_id: UUID, password_hash: str, at: datetime) -> None: ...

    def second_factor(self, principal_id: UUID) -> SecondFactor: ...

    def begin_second_factor(self, principal_id: UUID, sealed: bytes) -> None: ...

    def confirm_second_factor(self, principal_id: UUID, step: int, recovery_codes: tuple[str, ...]) -> None:
        """Makes the pending secret the one in use."""

    def advance_step(self, principal_id: UUID, step: int) -> bool:
        """Records `step` as the last accepted, if it is later than the one recorded; whether it was."""

    def use_recovery_code(self, principal_id: UUID, code_hash: str) -> bool:
        """Removes one recovery code; whether it was there (each works once)."""

    def clear_second_factor(self, principal_id: UUID) -> None: ...

    def sign_in_failures(self, principal_id: UUID) -> tuple[int, datetime | None]:
        """Failed sign-ins in a row, and until when the account is locked for them."""

    def record_sign_in_failure(self, principal_id: UUID, locked_until: datetime | None) -> int:
        """Counts one more failure (and sets the lock); answers the count."""

    def clear_sign_in_failures(self, principal_id: UUID) -> None: ...


class SecretBox(Protocol):
    """Seals secrets that must be read again (TOTP), bound to the row they belong to."""

    def seal(self, plaintext: bytes, bound_to: bytes) -> bytes: ...

    def open(self, sealed: bytes, bound_to: bytes) -> bytes: ...


class Passwords(Protocol):
    """How passwords are hashed and checked (argon2id in infrastructure)."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class StoredKey(NamedTuple):
    """An API key as the store keeps it: its hash, whose it is, and until when it works."""

    prefix: str
    principal_id: UUID
    key_hash: str
    expires_at: datetime
    revoked_at: datetime | None


class ApiKeyStore(Protocol):
    """Where API key hashes are kept, out of the event log."""

    def add(self, key: StoredKey, issued_at: datetime) -> None: ...

    def find(self, prefix: str) -> StoredKey | None: ...

    def revoke(self, prefix: str, at: datetime) -> None: ...

    def shorten(self, prefix: str, expires_at: datetime) -> None: ...


class StoredSession(NamedTuple):
    """A person's signed-in session as the store keeps it (tokens only as hashes)."""

    session_id: str
    username: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


class SessionStore(Protocol):
    """Where sessions and the hashes of their bearer and refresh tokens are kept."""

    def open(self, session: StoredSession, access_hash: str, refresh_hash: str) -> None: ...

    def by_access(self, access_hash: str) -> StoredSession | None: ...

    def by_refresh(self, refresh_hash: str) -> StoredSession | None: ...

    def by_replaced_refresh(self, refresh_hash: str) -> StoredSession | None:
        """The session whose last refresh replaced this refresh token."""

    def renew(
        self, session_id: str, old_refresh_hash: str, access_hash: str, refresh_hash: str, access_expires_at: datetime
    ) -> bool:
        """Replaces both tokens if `old_refresh_hash` is still the session's; whether it was."""

    def touch(self, session_id: str, at: datetime) -> None: ...

    def revoke(self, session_id: str, at: datetime) -> None: ...

    def revoke_all(self, username: str, at: datetime) -> int:
        """Revokes every open session of an account (disabled, password reset); how many."""


class SecurityEvent(NamedTuple):
    """One entry of the security log: what happened, to or by whom, from where, and details."""

    at: datetime
    kind: str
    principal: str | None  # the username concerned, as given (a failed sign-in may name no account)
    client: str | None  # the client's address
    detail: str  # one line: the route, the reason, a key prefix; never a secret
    id: int | None = None


class SecurityLog(Protocol):
    """The security log: appended to, never changed, read by auditors and administrators."""

    def record(self, event: SecurityEvent) -> None: ...

    def select(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        principal: str | None,
        kind: str | None,
        after: int | None,
        limit: int,
    ) -> list[SecurityEvent]: ...
