"""Signing a person in: password, then the second factor where their roles require one, with a
lockout that grows with failures in a row.

A refusal never tells whether the username exists (IEC 62443-4-2 CR 1.10): an unknown name costs
the same password check as a known one and answers the same words. What actually went wrong is
kept in the refusal's `kind`, for the security log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eventsourcing.application import AggregateNotFoundError

from application.access.mfa import MfaService
from application.access.passwords import PasswordService
from domain.ids import principal_id
from domain.principal import Principal
from domain.values import MFA_ROLES, Role

NOT_RIGHT = "the username, password or code is not right"


class SignInRefusedError(Exception):
    """A sign-in was refused; `public` is all a client is told, `kind` is for the security log."""

    def __init__(self, kind: str, public: str = NOT_RIGHT, retry_after: datetime | None = None) -> None:
        super().__init__(public)
        self.kind = kind
        self.public = public
        self.retry_after = retry_after


@dataclass(frozen=True)
class Lockout:
    """After `free` failures in a row, each failure locks the account for a delay that doubles,
    from `first` up to `longest` (CR 1.11)."""

    free: int = 5
    first: timedelta = timedelta(seconds=30)
    longest: timedelta = timedelta(hours=1)

    def until(self, failures: int, now: datetime) -> datetime | None:
        if failures < self.free:
            return None
        delay: timedelta = min(self.longest, self.first * 2 ** (failures - self.free))
        return now + delay


@dataclass
class SignInService:
    """Checks a person's password and second factor and answers their account, or refuses."""

    passwords: PasswordService
    mfa: MfaService
    lockout: Lockout = field(default_factory=Lockout)
    mfa_roles: frozenset[Role] = MFA_ROLES

    def sign_in(self, username: str, password: str, totp: str | None) -> Principal:
        account, failures = self._password_step(username, password)
        if account.mfa_enrolled or account.roles & self.mfa_roles:
            if not account.mfa_enrolled:
                raise SignInRefusedError("mfa-not-enrolled", "this account must enrol a second factor first")
            if totp is None:
                raise SignInRefusedError("mfa-required", "a code from the authenticator is required")
            if not self.mfa.check(username, totp):
                self._failed(account, failures, self.passwords.bus.clock.now(), "bad-code")
        if failures:
            self.passwords.credentials.clear_sign_in_failures(account.id)
        return account

    def check_password(self, username: str, password: str) -> Principal:
        """The enabled person whose password this is (enrolling a second factor asks for it), with
        the same lockout and the same refusals as a sign-in."""
        account, failures = self._password_step(username, password)
        if failures:
            self.passwords.credentials.clear_sign_in_failures(account.id)
        return account

    def _password_step(self, username: str, password: str) -> tuple[Principal, int]:
        credentials, now = self.passwords.credentials, self.passwords.bus.clock.now()
        account = self._account(username)
        key = principal_id(username)
        failures, locked_until = credentials.sign_in_failures(key) if account else (0, None)
        if locked_until is not None and now < locked_until:
            # The same words as any refusal: a lock only exists for a real account, so saying so
            # would tell which names exist (CR 1.10). The security log says it was a lock.
            raise SignInRefusedError("locked", retry_after=locked_until)
        if not self.passwords.check(username, password) or account is None:
            self._failed(account, failures, now, "unknown-user" if account is None else "bad-password")
        assert account is not None  # noqa: S101 - _failed raised otherwise
        if not account.enabled or not account.is_person:
            raise SignInRefusedError("disabled" if account.is_person else "not-a-person")
        return account, failures

    def _account(self, username: str) -> Principal | None:
        try:
            found: object = self.passwords.bus.app.repository.get(principal_id(username))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Principal) else None

    def _failed(self, account: Principal | None, failures: int, now: datetime, kind: str) -> None:
        if account is not None:
            self.passwords.credentials.record_sign_in_failure(account.id, self.lockout.until(failures + 1, now))
        raise SignInRefusedError(kind)
