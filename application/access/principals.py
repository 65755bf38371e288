"""Principal commands: register people and machine accounts, grant and revoke roles, disable and
enable accounts, and record that a secret changed (never the secret itself)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.commands import Code, Command, Name, Reason
from application.handlers import Handles, registry
from application.unit_of_work import Scope
from domain.principal import Principal
from domain.values import ActorKind, Role

Username = Code


class RegisterPrincipal(Command, frozen=True):
    """Creates a person (with the printed name their signatures will show) or a machine account."""

    username: Username
    printed_name: Name
    kind: ActorKind
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=8)]


class GrantRole(Command, frozen=True):
    """Gives an account one more role (a reason is required)."""

    username: Username
    role: Role
    reason: Reason


class RevokeRole(Command, frozen=True):
    """Takes a role away from an account (a reason is required)."""

    username: Username
    role: Role
    reason: Reason


class DisablePrincipal(Command, frozen=True):
    """Stops an account from signing in or acting (a reason is required)."""

    username: Username
    reason: Reason


class EnablePrincipal(Command, frozen=True):
    """Lets a disabled account act again (a reason is required)."""

    username: Username
    reason: Reason


class RecordPasswordSet(Command, frozen=True):
    """Records that a person's password was set or reset; the credentials store holds its hash."""

    username: Username
    reason: Reason


class RecordMfaEnrolled(Command, frozen=True):
    """Records that a person confirmed a second factor; the credentials store holds its secret."""

    username: Username


class ResetMfa(Command, frozen=True):
    """Removes a person's second factor (a reason is required); they must enrol again."""

    username: Username
    reason: Reason


class RecordApiKeyIssued(Command, frozen=True):
    """Records a machine account's new API key by its visible prefix and expiry."""

    username: Username
    prefix: Code
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)]


class RevokeApiKey(Command, frozen=True):
    """Revokes one API key of a machine account at once (a reason is required)."""

    username: Username
    prefix: Code
    reason: Reason


class ShortenApiKey(Command, frozen=True):
    """Brings an API key's expiry forward (the old key of a rotation; a reason is required)."""

    username: Username
    prefix: Code
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)]
    reason: Reason


class PrincipalChanged(msgspec.Struct, frozen=True):
    """The account a command created or changed."""

    principal_id: str
    username: str


def changed(principal: Principal) -> PrincipalChanged:
    return PrincipalChanged(str(principal.id), principal.username)


def register_principal(cmd: RegisterPrincipal, scope: Scope) -> PrincipalChanged:
    scope.ensure_new(Principal, cmd.username)
    principal = Principal.register(
        username=cmd.username,
        printed_name=cmd.printed_name,
        kind=cmd.kind,
        roles=tuple(cmd.roles),
        provenance=scope.provenance,
    )
    scope.add(principal)
    return changed(principal)


def grant_role(cmd: GrantRole, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.grant_role(cmd.role, reason=cmd.reason, provenance=scope.provenance)
    return changed(principal)


def revoke_role(cmd: RevokeRole, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.revoke_role(cmd.role, reason=cmd.reason, provenance=scope.provenance)
    return changed(principal)


def disable_principal(cmd: DisablePrincipal, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.disable(reason=cmd.reason, provenance=scope.provenance)
    return changed(principal)


def enable_principal(cmd: EnablePrincipal, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.enable(reason=cmd.reason, provenance=scope.provenance)
    return changed(principal)


def record_password_set(cmd: RecordPasswordSet, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.password_set(reason=cmd.reason, provenance=scope.provenance)
    return changed(principal)


def record_mfa_enrolled(cmd: RecordMfaEnrolled, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.mfa_enrolled_now(provenance=scope.provenance)
    return changed(principal)


def reset_mfa(cmd: ResetMfa, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.reset_mfa(reason=cmd.reason, provenance=scope.provenance)
    return changed(principal)


def record_api_key_issued(cmd: RecordApiKeyIssued, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.issue_api_key(prefix=cmd.prefix, expires_at=cmd.expires_at, provenance=scope.provenance)
    return changed(principal)


def revoke_api_key(cmd: RevokeApiKey, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.revoke_api_key(prefix=cmd.prefix, reason=cmd.reason, provenance=scope.provenance)
    return changed(principal)


def shorten_api_key(cmd: ShortenApiKey, scope: Scope) -> PrincipalChanged:
    principal = scope.get(Principal, cmd.username)
    principal.shorten_api_key(
        prefix=cmd.prefix, expires_at=cmd.expires_at, reason=cmd.reason, provenance=scope.provenance
    )
    return changed(principal)


HANDLERS = registry(
    Handles(RegisterPrincipal, register_principal, PrincipalChanged),
    Handles(GrantRole, grant_role, PrincipalChanged),
    Handles(RevokeRole, revoke_role, PrincipalChanged),
    Handles(DisablePrincipal, disable_principal, PrincipalChanged),
    Handles(EnablePrincipal, enable_principal, PrincipalChanged),
    Handles(RecordPasswordSet, record_password_set, PrincipalChanged),
    Handles(RecordMfaEnrolled, record_mfa_enrolled, PrincipalChanged),
    Handles(ResetMfa, reset_mfa, PrincipalChanged),
    Handles(RecordApiKeyIssued, record_api_key_issued, PrincipalChanged),
    Handles(RevokeApiKey, revoke_api_key, PrincipalChanged),
    Handles(ShortenApiKey, shorten_api_key, PrincipalChanged),
)
