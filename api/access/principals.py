"""Accounts over HTTP (administrators): people and machine accounts, roles, passwords, second
factors and API keys; and the security log (auditors and administrators)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from api.access.services import Access
from api.access.sign_in import NO_STORE, TAG
from api.caller import caller_of
from api.command_routes import CommandRoute
from api.problems import error_responses
from api.query_routes import DATE_TIME, Limit, Moment, moment_of
from api.validation import KeyPath
from application.access.api_keys import IssuedKey
from application.access.passwords import MAX_LENGTH, MIN_LENGTH
from application.access.principals import (
    DisablePrincipal,
    EnablePrincipal,
    GrantRole,
    RegisterPrincipal,
    RevokeRole,
)
from application.bus import CommandContext
from application.commands import Reason
from domain.errors import NotFoundError, PasswordPolicyError
from domain.values import Source

PRINCIPAL_URL = "/api/v1/principals/{username}"
ROUTES = (
    CommandRoute("/principals", RegisterPrincipal, "Create a person or a machine account", TAG, created=PRINCIPAL_URL),
    *(
        CommandRoute(f"/principals/{{username:str}}/{verb}", command, summary, TAG, path_fields=("username",))
        for verb, command, summary in (
            ("roles", GrantRole, "Grant a role (reason required)"),
            ("roles/revoke", RevokeRole, "Revoke a role (reason required)"),
            ("disable", DisablePrincipal, "Disable an account: its sessions end (reason required)"),
            ("enable", EnablePrincipal, "Enable a disabled account (reason required)"),
        )
    ),
)
ADMIN_PROBLEMS = error_responses(400, 401, 403, 404, 409, 422, 429, 503)


class PrincipalView(msgspec.Struct, frozen=True):
    username: str
    printed_name: str
    kind: str
    roles: list[str]
    enabled: bool
    mfa_enrolled: bool


class NewPassword(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A password an administrator sets (the person's sessions end). Beyond its length, the
    password policy (not the username, not a few characters repeated) answers 409 password-policy."""

    password: Annotated[str, msgspec.Meta(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
    reason: Reason


class KeyRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How long the new key works."""

    valid_days: Annotated[int, msgspec.Meta(ge=1, le=730)] = 90


class RotationRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How long the new key works, and how long the old one keeps working beside it."""

    valid_days: Annotated[int, msgspec.Meta(ge=1, le=730)] = 90
    overlap_hours: Annotated[int, msgspec.Meta(ge=0, le=24 * 30)] = 24


class Revocation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class IssuedKeyView(msgspec.Struct, frozen=True):
    """The whole key, shown this once: send it as `Authorization: Bearer <key>`."""

    prefix: str
    key: str
    expires_at: datetime


class SecurityEventView(msgspec.Struct, frozen=True):
    id: int
    at: datetime
    kind: str
    principal: str | None
    client: str | None
    detail: str


class SecurityEventPage(msgspec.Struct, frozen=True):
    """Oldest first; pass `next_after` as `after` for the next page (null at the end)."""

    items: list[SecurityEventView]
    next_after: int | None


def _shown_once(issued: IssuedKey) -> Response[IssuedKeyView]:
    return Response(IssuedKeyView(issued.prefix, issued.key, issued.expires_at), status_code=201, headers=NO_STORE)


def _context(request: Request[Any, Any, Any]) -> CommandContext:
    account = caller_of(request).account
    return CommandContext(actor=account.actor, source=Source.API, roles=account.roles)


@get("/principals/{username:str}", tags=[TAG], summary="An account", responses=ADMIN_PROBLEMS)
async def get_principal(username: KeyPath, access: NamedDependency[Access]) -> PrincipalView:
    account = await asyncio.to_thread(access.directory.account, username)
    if account is None:
        raise NotFoundError("principal", username)
    return PrincipalView(
        account.username,
        account.printed_name,
        str(account.kind),
        sorted(account.roles),
        account.enabled,
        account.mfa_enrolled,
    )


@post(
    "/principals/{username:str}/password",
    status_code=204,
    tags=[TAG],
    summary="Set a person's password",
    responses=ADMIN_PROBLEMS,
)
async def set_password(
    request: Request[Any, Any, Any], username: KeyPath, data: JSONBody[NewPassword], access: NamedDependency[Access]
) -> Response[None]:
    """Sets or resets a person's password (the policy's rules apply); their open sessions end."""
    if refusal := access.passwords.policy.refusal(data.password, username):
        raise PasswordPolicyError(f"the password {refusal}")
    await asyncio.to_thread(
        access.passwords.set_password,
        username,
        data.password,
        _context(request),
        command_id=f"pw-{uuid.uuid4()}",
        reason=data.reason,
    )
    await asyncio.to_thread(access.sessions.store.revoke_all, username, access.sessions.now())
    access.authenticator.forget(username=username)
    return Response(content=None, status_code=204)


@post(
    "/principals/{username:str}/mfa/reset",
    status_code=204,
    tags=[TAG],
    summary="Reset a second factor",
    responses=ADMIN_PROBLEMS,
)
async def reset_mfa(
    request: Request[Any, Any, Any], username: KeyPath, data: JSONBody[Revocation], access: NamedDependency[Access]
) -> Response[None]:
    """Removes a person's second factor (a lost phone): they enrol again at their next sign-in."""
    await asyncio.to_thread(
        access.mfa.reset, username, reason=data.reason, context=_context(request), command_id=f"mfa-{uuid.uuid4()}"
    )
    return Response(content=None, status_code=204)


@post(
    "/principals/{username:str}/keys", status_code=201, tags=[TAG], summary="Issue an API key", responses=ADMIN_PROBLEMS
)
async def issue_key(
    request: Request[Any, Any, Any],
    username: KeyPath,
    access: NamedDependency[Access],
    data: JSONBody[KeyRequest | None] = None,
) -> Response[IssuedKeyView]:
    """A new key for a machine account, shown once; only its hash is kept."""
    valid_for = timedelta(days=(data or KeyRequest()).valid_days)
    issued = await asyncio.to_thread(
        access.keys.issue, username, valid_for=valid_for, context=_context(request), command_id=f"key-{uuid.uuid4()}"
    )
    return _shown_once(issued)


@post(
    "/principals/{username:str}/keys/{prefix:str}/rotate",
    status_code=201,
    tags=[TAG],
    summary="Rotate an API key",
    responses=ADMIN_PROBLEMS,
)
async def rotate_key(
    request: Request[Any, Any, Any],
    username: KeyPath,
    prefix: KeyPath,
    access: NamedDependency[Access],
    data: JSONBody[RotationRequest | None] = None,
) -> Response[IssuedKeyView]:
    """A new key; the old one keeps working for the overlap (while the machine is given the new one)."""
    asked = data or RotationRequest()
    issued = await asyncio.to_thread(
        access.keys.rotate,
        username,
        prefix,
        valid_for=timedelta(days=asked.valid_days),
        overlap=timedelta(hours=asked.overlap_hours),
        context=_context(request),
        command_ids=(f"key-{uuid.uuid4()}", f"key-{uuid.uuid4()}"),
    )
    return _shown_once(issued)


@post(
    "/principals/{username:str}/keys/{prefix:str}/revoke",
    status_code=204,
    tags=[TAG],
    summary="Revoke an API key at once",
    responses=ADMIN_PROBLEMS,
)
async def revoke_key(
    request: Request[Any, Any, Any],
    username: KeyPath,
    prefix: KeyPath,
    data: JSONBody[Revocation],
    access: NamedDependency[Access],
) -> Response[None]:
    await asyncio.to_thread(
        access.keys.revoke,
        username,
        prefix,
        reason=data.reason,
        context=_context(request),
        command_id=f"key-{uuid.uuid4()}",
    )
    access.authenticator.forget(key_prefix=prefix)
    return Response(content=None, status_code=204)


Principal = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="A username (as signed in with, unknown ones too; no control characters).",
    ),
]
Kind = Annotated[
    str | None, QueryParameter(min_length=1, max_length=40, pattern=r"^[a-z-]+$", description="e.g. login-failed")
]
After = Annotated[
    int, QueryParameter(ge=0, le=10**15, description="`next_after` of the previous page (0: from the start).")
]
From = Annotated[
    str | None,
    QueryParameter(name="from", max_length=40, schema_extra=DATE_TIME, description="ISO 8601; UTC without an offset"),
]


@get("/security/events", tags=[TAG], summary="The security log", responses=ADMIN_PROBLEMS)
async def security_events(
    access: NamedDependency[Access],
    from_: From = None,
    to: Moment = None,
    principal: Principal = None,
    kind: Kind = None,
    after: After = 0,
    limit: Limit = 100,
) -> SecurityEventPage:
    """Sign-ins, lockouts, second factors, tokens, keys, account and role changes, permission
    refusals and rate limits, oldest first."""
    since, until = moment_of(from_, "from"), moment_of(to, "to")
    events = await asyncio.to_thread(
        access.log.select, since=since, until=until, principal=principal, kind=kind, after=after, limit=limit
    )
    items = [SecurityEventView(e.id or 0, e.at, str(e.kind), e.principal, e.client, e.detail) for e in events]
    return SecurityEventPage(items, items[-1].id if len(items) == limit else None)


QUERY_ROUTES = [get_principal, set_password, reset_mfa, issue_key, rotate_key, revoke_key, security_events]
