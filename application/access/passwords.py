"""People's passwords: the policy a new one must meet, setting one, and checking one at sign-in.

The hash goes to the credentials store; the event log only records that a password was set, by
whom and why. The event is recorded first, so the account's rules (a person, enabled) decide
before any secret is written; should the process stop between the two, the password is simply
not set yet and is set again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from application.access.principals import RecordPasswordSet
from application.bus import CommandBus, CommandContext, CommandResult
from application.commands import InvalidCommandError
from application.ports import CredentialStore, Passwords
from domain.ids import principal_id

MIN_LENGTH = 12  # IEC 62443-4-2 CR 1.7 leaves the figure to the plant; NIST SP 800-63B asks for 8 at least
MAX_LENGTH = 256


@dataclass(frozen=True)
class PasswordPolicy:
    """What a password must be: long enough, not the username, not one character repeated."""

    min_length: int = MIN_LENGTH

    def refusal(self, password: str, username: str) -> str | None:
        if len(password) < self.min_length:
            return f"must be at least {self.min_length} characters long"
        if len(password) > MAX_LENGTH:
            return f"must be at most {MAX_LENGTH} characters long"
        if password.casefold() == username.casefold():
            return "must not be the username"
        if len(set(password)) < 4:  # noqa: PLR2004 - "aaaaaaaaaaaa", "abababababab"
            return "must not be a few characters repeated"
        return None


class PasswordService:
    """Sets people's passwords and checks them."""

    def __init__(
        self, bus: CommandBus, credentials: CredentialStore, passwords: Passwords, policy: PasswordPolicy | None = None
    ) -> None:
        self.bus = bus
        self.credentials = credentials
        self.passwords = passwords
        self.policy = policy or PasswordPolicy()
        self._decoy_hash: str | None = None

    def set_password(
        self, username: str, password: str, context: CommandContext, *, command_id: str, reason: str
    ) -> CommandResult:
        """Sets (or resets) a person's password; refused with the policy's reason if too weak."""
        refusal = self.policy.refusal(password, username)
        if refusal:
            raise InvalidCommandError([("password", refusal)])
        result = self.bus.execute(RecordPasswordSet(command_id=command_id, username=username, reason=reason), context)
        if not result.replayed:
            self.credentials.set_password_hash(
                principal_id(username), self.passwords.hash(password), self.bus.clock.now()
            )
        return result

    def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = self.passwords.hash(secrets.token_urlsafe(16))
        return self._decoy_hash

    def check(self, username: str, password: str) -> bool:
        """Whether the password is the person's; a hash made with older parameters is made anew."""
        key = principal_id(username)
        stored = self.credentials.password_hash(key)
        if stored is None:
            # The same work as for a known name: how long a refusal takes must not tell names apart.
            self.passwords.verify(self._decoy(), password)
            return False
        if not self.passwords.verify(stored, password):
            return False
        if self.passwords.needs_rehash(stored):
            self.credentials.set_password_hash(key, self.passwords.hash(password), self.bus.clock.now())
        return True
