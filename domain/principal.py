"""Principal: a person or a machine account that may act in Chronicle, with its roles.

The lifecycle of access rights is recorded as events with who changed them and why (EU GMP Annex 11
§12). Secrets never are: an event says a password was set, an MFA enrolled or an API key issued,
never the secret itself, which lives in the credentials store only authentication reads.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import PrincipalError, ReasonRequiredError
from domain.ids import principal_id
from domain.values import ActorKind, Provenance, Role

KINDS = (ActorKind.PERSON, ActorKind.MACHINE)


def _require_reason(reason: str, action: str) -> None:
    if not reason.strip():
        raise ReasonRequiredError(action)


class Principal(Aggregate):
    """A person (who signs with a printed name) or a machine account (an ERP, an OT connector)."""

    record_name = "principal"

    username: str
    printed_name: str
    kind: ActorKind
    roles: frozenset[Role]
    enabled: bool
    has_password: bool
    mfa_enrolled: bool
    api_keys: dict[str, datetime]  # visible prefix -> expiry, of the keys not revoked

    @staticmethod
    def create_id(username: str) -> UUID:
        return principal_id(username)

    class Registered(Aggregate.Created):
        """The person or machine account was created with its first roles."""

        username: str
        printed_name: str
        kind: ActorKind
        roles: tuple[Role, ...]
        provenance: Provenance

    @classmethod
    def register(
        cls, *, username: str, printed_name: str, kind: ActorKind, roles: tuple[Role, ...], provenance: Provenance
    ) -> Principal:
        """Creates an account; a machine may not administer people (an admin is a person)."""
        if kind not in KINDS:
            msg = f"a principal is a person or a machine, not a {kind}"
            raise PrincipalError(msg)
        if not roles:
            msg = f"{username!r} needs at least one role"
            raise PrincipalError(msg)
        for role in roles:
            _ensure_role_fits(kind, role)
        return cls(
            username=username,
            printed_name=printed_name,
            kind=kind,
            roles=tuple(sorted(set(roles))),
            provenance=provenance,
        )

    @event(Registered)
    def __init__(
        self,
        username: str,
        printed_name: str,
        kind: ActorKind,
        roles: tuple[Role, ...],
        provenance: Provenance,
    ) -> None:
        self.username = username
        self.printed_name = printed_name
        self.kind = kind
        self.roles = frozenset(roles)
        self.enabled = True
        self.has_password = False
        self.mfa_enrolled = False
        self.api_keys = {}

    @property
    def is_person(self) -> bool:
        return self.kind is ActorKind.PERSON

    def grant_role(self, role: Role, *, reason: str, provenance: Provenance) -> None:
        """Gives the account one more role."""
        _require_reason(reason, "granting a role")
        _ensure_role_fits(self.kind, role)
        if role in self.roles:
            msg = f"{self.username!r} already has the role {role}"
            raise PrincipalError(msg)
        self._role_granted(role=role, reason=reason, provenance=provenance)

    class RoleGranted(Aggregate.Event):
        """A role was granted, by whom and why."""

        role: Role
        reason: str
        provenance: Provenance

    @event(RoleGranted)
    def _role_granted(self, role: Role, reason: str, provenance: Provenance) -> None:
        self.roles = self.roles | {role}

    def revoke_role(self, role: Role, *, reason: str, provenance: Provenance) -> None:
        """Takes a role away; the account keeps at least one."""
        _require_reason(reason, "revoking a role")
        if role not in self.roles:
            msg = f"{self.username!r} does not have the role {role}"
            raise PrincipalError(msg)
        if self.roles == {role}:
            msg = f"{role} is the last role of {self.username!r}: disable the account instead"
            raise PrincipalError(msg)
        self._role_revoked(role=role, reason=reason, provenance=provenance)

    class RoleRevoked(Aggregate.Event):
        """A role was revoked, by whom and why."""

        role: Role
        reason: str
        provenance: Provenance

    @event(RoleRevoked)
    def _role_revoked(self, role: Role, reason: str, provenance: Provenance) -> None:
        self.roles = self.roles - {role}

    def disable(self, *, reason: str, provenance: Provenance) -> None:
        """Stops the account from signing in or acting (a leaver, a lost badge, a retired machine)."""
        _require_reason(reason, "disabling an account")
        if not self.enabled:
            msg = f"{self.username!r} is already disabled"
            raise PrincipalError(msg)
        self._disabled(reason=reason, provenance=provenance)

    class Disabled(Aggregate.Event):
        """The account was disabled, by whom and why."""

        reason: str
        provenance: Provenance

    @event(Disabled)
    def _disabled(self, reason: str, provenance: Provenance) -> None:
        self.enabled = False

    def enable(self, *, reason: str, provenance: Provenance) -> None:
        """Lets a disabled account act again."""
        _require_reason(reason, "enabling an account")
        if self.enabled:
            msg = f"{self.username!r} is already enabled"
            raise PrincipalError(msg)
        self._enabled(reason=reason, provenance=provenance)

    class Enabled(Aggregate.Event):
        """The account was enabled again, by whom and why."""

        reason: str
        provenance: Provenance

    @event(Enabled)
    def _enabled(self, reason: str, provenance: Provenance) -> None:
        self.enabled = True

    def password_set(self, *, reason: str, provenance: Provenance) -> None:
        """Records that the person's password was set or reset (the hash is kept elsewhere)."""
        self._ensure_person("a password")
        _require_reason(reason, "setting a password")
        self._password_set(reason=reason, provenance=provenance)

    class PasswordSet(Aggregate.Event):
        """The person's password was set or reset; the event never holds it, nor its hash."""

        reason: str
        provenance: Provenance

    @event(PasswordSet)
    def _password_set(self, reason: str, provenance: Provenance) -> None:
        self.has_password = True

    def mfa_enrolled_now(self, *, provenance: Provenance) -> None:
        """Records that the person confirmed a second factor (its secret is kept elsewhere)."""
        self._ensure_person("a second factor")
        self._mfa_enrolled(provenance=provenance)

    class MfaEnrolled(Aggregate.Event):
        """The person enrolled a second factor (TOTP), confirmed by a first code."""

        provenance: Provenance

    @event(MfaEnrolled)
    def _mfa_enrolled(self, provenance: Provenance) -> None:
        self.mfa_enrolled = True

    def reset_mfa(self, *, reason: str, provenance: Provenance) -> None:
        """Removes the second factor (a lost phone); the person must enrol again."""
        _require_reason(reason, "resetting a second factor")
        if not self.mfa_enrolled:
            msg = f"{self.username!r} has no second factor to reset"
            raise PrincipalError(msg)
        self._mfa_reset(reason=reason, provenance=provenance)

    class MfaReset(Aggregate.Event):
        """The second factor was removed, by whom and why."""

        reason: str
        provenance: Provenance

    @event(MfaReset)
    def _mfa_reset(self, reason: str, provenance: Provenance) -> None:
        self.mfa_enrolled = False

    def issue_api_key(self, *, prefix: str, expires_at: datetime, provenance: Provenance) -> None:
        """Records a new API key of a machine account by its visible prefix and expiry."""
        if self.is_person:
            msg = f"{self.username!r} is a person: people sign in with a password and a second factor"
            raise PrincipalError(msg)
        if prefix in self.api_keys:
            msg = f"{self.username!r} already has a key {prefix}"
            raise PrincipalError(msg)
        self._api_key_issued(prefix=prefix, expires_at=expires_at, provenance=provenance)

    class ApiKeyIssued(Aggregate.Event):
        """A machine account got an API key; the event holds its visible prefix, never the key."""

        prefix: str
        expires_at: datetime
        provenance: Provenance

    @event(ApiKeyIssued)
    def _api_key_issued(self, prefix: str, expires_at: datetime, provenance: Provenance) -> None:
        self.api_keys = {**self.api_keys, prefix: expires_at}

    def revoke_api_key(self, *, prefix: str, reason: str, provenance: Provenance) -> None:
        """Revokes one key at once (a leaked key, a rotation's old key)."""
        _require_reason(reason, "revoking an API key")
        if prefix not in self.api_keys:
            msg = f"{self.username!r} has no key {prefix}"
            raise PrincipalError(msg)
        self._api_key_revoked(prefix=prefix, reason=reason, provenance=provenance)

    class ApiKeyRevoked(Aggregate.Event):
        """An API key was revoked, by whom and why."""

        prefix: str
        reason: str
        provenance: Provenance

    @event(ApiKeyRevoked)
    def _api_key_revoked(self, prefix: str, reason: str, provenance: Provenance) -> None:
        self.api_keys = {k: v for k, v in self.api_keys.items() if k != prefix}

    def shorten_api_key(self, *, prefix: str, expires_at: datetime, reason: str, provenance: Provenance) -> None:
        """Brings a key's expiry forward (a rotation's old key keeps working for an overlap, then stops)."""
        _require_reason(reason, "shortening an API key")
        if prefix not in self.api_keys:
            msg = f"{self.username!r} has no key {prefix}"
            raise PrincipalError(msg)
        if expires_at >= self.api_keys[prefix]:
            msg = f"key {prefix} already expires at {self.api_keys[prefix].isoformat()}"
            raise PrincipalError(msg)
        self._api_key_shortened(prefix=prefix, expires_at=expires_at, reason=reason, provenance=provenance)

    class ApiKeyShortened(Aggregate.Event):
        """An API key's expiry was brought forward, by whom and why."""

        prefix: str
        expires_at: datetime
        reason: str
        provenance: Provenance

    @event(ApiKeyShortened)
    def _api_key_shortened(self, prefix: str, expires_at: datetime, reason: str, provenance: Provenance) -> None:
        self.api_keys = {**self.api_keys, prefix: expires_at}

    def _ensure_person(self, what: str) -> None:
        if not self.is_person:
            msg = f"{self.username!r} is a machine account: machines authenticate with API keys, not {what}"
            raise PrincipalError(msg)


def _ensure_role_fits(kind: ActorKind, role: Role) -> None:
    """An administrator is a person; the integration role is for machines."""
    if kind is ActorKind.MACHINE and role is Role.ADMIN:
        msg = "a machine account may not be an administrator"
        raise PrincipalError(msg)
    if kind is ActorKind.PERSON and role is Role.INTEGRATION:
        msg = "the integration role is for machine accounts (an ERP, an OT connector)"
        raise PrincipalError(msg)
