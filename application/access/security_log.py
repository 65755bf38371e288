"""What the security log records, and the observer that adds account changes to it whatever way
they were made (HTTP, the command line)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from application.access.principals import (
    DisablePrincipal,
    EnablePrincipal,
    GrantRole,
    RecordApiKeyIssued,
    RecordMfaEnrolled,
    RecordPasswordSet,
    RegisterPrincipal,
    ResetMfa,
    RevokeApiKey,
    RevokeRole,
    ShortenApiKey,
)
from application.bus import CommandContext, CommandResult
from application.commands import Command
from application.ports import SecurityEvent, SecurityLog


class SecurityKind(StrEnum):
    """The kinds of entry in the security log (IEC 62443-4-2 CR 2.8, auditable events)."""

    # S105 reads the "TOKEN" and "PASSWORD" names as secrets: these are kinds of log entry.

    LOGIN_OK = "login-ok"  # a session and its tokens were issued
    LOGIN_FAILED = "login-failed"
    LOCKED_OUT = "locked-out"
    MFA_ENROLLED = "mfa-enrolled"
    MFA_RESET = "mfa-reset"
    MFA_FAILED = "mfa-failed"
    TOKEN_REFRESHED = "token-refreshed"  # noqa: S105
    TOKEN_REVOKED = "token-revoked"  # noqa: S105
    TOKEN_REFUSED = "token-refused"  # noqa: S105 - expired, revoked, idle, or unknown
    KEY_ISSUED = "key-issued"
    KEY_REVOKED = "key-revoked"
    KEY_SHORTENED = "key-shortened"
    KEY_REFUSED = "key-refused"  # used after revocation or expiry, or unknown
    CERTIFICATE_REFUSED = "certificate-refused"  # a verified client certificate naming no machine account
    ACCOUNT_CREATED = "account-created"
    ACCOUNT_DISABLED = "account-disabled"
    ACCOUNT_ENABLED = "account-enabled"
    PASSWORD_SET = "password-set"  # noqa: S105
    ROLE_GRANTED = "role-granted"
    ROLE_REVOKED = "role-revoked"
    PERMISSION_DENIED = "permission-denied"
    RATE_LIMITED = "rate-limited"


def _detail(command: Command) -> str:
    parts = [f"{name}={getattr(command, name)}" for name in ("role", "prefix", "kind") if hasattr(command, name)]
    if isinstance(command, RegisterPrincipal):
        parts.append("roles=" + ",".join(sorted(command.roles)))
    if reason := getattr(command, "reason", None):
        parts.append(f"reason={reason}")
    return " ".join(parts)


ACCOUNT_CHANGES: dict[type[Command], SecurityKind] = {
    RegisterPrincipal: SecurityKind.ACCOUNT_CREATED,
    GrantRole: SecurityKind.ROLE_GRANTED,
    RevokeRole: SecurityKind.ROLE_REVOKED,
    DisablePrincipal: SecurityKind.ACCOUNT_DISABLED,
    EnablePrincipal: SecurityKind.ACCOUNT_ENABLED,
    RecordPasswordSet: SecurityKind.PASSWORD_SET,
    RecordMfaEnrolled: SecurityKind.MFA_ENROLLED,
    ResetMfa: SecurityKind.MFA_RESET,
    RecordApiKeyIssued: SecurityKind.KEY_ISSUED,
    RevokeApiKey: SecurityKind.KEY_REVOKED,
    ShortenApiKey: SecurityKind.KEY_SHORTENED,
}


def account_changes(
    log: SecurityLog, now: Callable[[], datetime]
) -> Callable[[Command, CommandContext, CommandResult], None]:
    """A bus observer writing each recorded account change to the security log, naming who made it."""

    def observe(command: Command, context: CommandContext, _: CommandResult) -> None:
        kind = ACCOUNT_CHANGES.get(type(command))
        if kind is None:
            return
        detail = f"by={context.actor.id} {_detail(command)}".strip()
        log.record(SecurityEvent(now(), kind, getattr(command, "username", None), None, detail))

    return observe
