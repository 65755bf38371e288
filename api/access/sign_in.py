"""Signing in over HTTP: password and code for a bearer token and a refresh token, refresh, logout,
who am I, and enrolling a second factor.

Every answer here carries `Cache-Control: no-store`. Tokens travel in bodies and the
Authorization header only, never in URLs.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
import segno
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.access.guard import client_address
from api.access.services import Access
from api.caller import caller_of
from api.problems import AuthenticationRequiredError, RateLimitedError, error_responses, problem
from application.access.security_log import SecurityKind
from application.access.sessions import SessionRefusedError, Tokens
from application.access.sign_in import SignInRefusedError
from application.bus import CommandContext
from application.commands import CODE_PATTERN
from application.ports import SecurityEvent
from domain.values import Source

TAG = "Access"
NO_STORE = {"Cache-Control": "no-store"}
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=CODE_PATTERN)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
# Six digits, or a recovery code (four groups of five hex digits).
Code = Annotated[str, msgspec.Meta(min_length=6, max_length=32, pattern=r"^(?:[0-9]{6}|[0-9a-fA-F-]{20,32})$")]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
SIGN_IN_PROBLEMS = error_responses(400, 401, 422, 429, 503)


class LoginRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A person's username and password, and the authenticator's code where their roles need one."""

    username: Username
    password: Password
    totp: Code | None = None


class RefreshRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    refresh_token: Token


class EnrolmentRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The person's username and password: enrolling a second factor asks for the first."""

    username: Username
    password: Password


class ConfirmationRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    username: Username
    password: Password
    totp: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]


class TokenAnswer(msgspec.Struct, frozen=True):
    """A new session's tokens: send `access_token` as `Authorization: Bearer ...`; exchange
    `refresh_token` (once) at /auth/refresh for new ones before the session goes idle."""

    token_type: str
    access_token: str
    expires_in: int
    expires_at: datetime
    refresh_token: str
    session_id: str


class Me(msgspec.Struct, frozen=True):
    """The principal a request acts as."""

    username: str
    printed_name: str
    kind: str
    roles: list[str]
    mfa_enrolled: bool
    session_id: str | None
    key_prefix: str | None


class EnrolmentAnswer(msgspec.Struct, frozen=True):
    """Scan `qr_svg` (or type `secret`) into an authenticator app, then confirm with its first code."""

    otpauth_uri: str
    secret: str
    qr_svg: str


class RecoveryCodes(msgspec.Struct, frozen=True):
    """One-time codes for a lost authenticator: shown once, kept only as hashes."""

    recovery_codes: list[str]


def _answer(content: msgspec.Struct, status: int = 200) -> Response[Any]:
    return Response(content=content, status_code=status, headers=NO_STORE)


def _tokens(tokens: Tokens, now: datetime) -> Response[Any]:
    expires_in = max(0, int((tokens.expires_at - now).total_seconds()))
    return _answer(
        TokenAnswer(
            "Bearer", tokens.access_token, expires_in, tokens.expires_at, tokens.refresh_token, tokens.session_id
        )
    )


async def _within_sign_in_rate(access: Access, request: Request[Any, Any, Any], username: str | None) -> None:
    """Sign-ins are limited per username named and per client address (ten times as many)."""
    client = client_address(request.scope)
    waits = (
        access.sign_ins.wait_s(username) if username else 0,
        access.sign_in_clients.wait_s(client) if client else 0,
    )
    if wait := max(waits):
        route = f"route={request.method} {request.url.path}"
        event = SecurityEvent(access.sessions.now(), SecurityKind.RATE_LIMITED, username, client, route)
        await asyncio.to_thread(access.log.record, event)
        raise RateLimitedError(wait)


async def _signed_in(access: Access, request: Request[Any, Any, Any], username: str, password: str) -> None:
    await _within_sign_in_rate(access, request, username)
    try:
        await asyncio.to_thread(access.sign_in.check_password, username, password)
    except SignInRefusedError as refused:
        event = SecurityEvent(
            access.sessions.now(),
            SecurityKind.LOGIN_FAILED,
            username,
            client_address(request.scope),
            f"reason={refused.kind}",
        )
        await asyncio.to_thread(access.log.record, event)
        raise AuthenticationRequiredError(refused.public, invalid=False) from None


@post("/auth/login", status_code=200, tags=[TAG], summary="Sign a person in", responses=SIGN_IN_PROBLEMS)
async def login(
    request: Request[Any, Any, Any], data: JSONBody[LoginRequest], access: NamedDependency[Access]
) -> Response[TokenAnswer]:
    """Password, and the authenticator's code (or a recovery code) where the person's roles need a
    second factor. A refusal never says whether the username exists; failures in a row lock the
    account for a growing delay."""
    await _within_sign_in_rate(access, request, data.username)
    try:
        tokens = await asyncio.to_thread(
            access.sessions.login, data.username, data.password, data.totp, client_address(request.scope)
        )
    except SignInRefusedError as refused:
        raise AuthenticationRequiredError(refused.public, invalid=False) from None
    return _tokens(tokens, access.sessions.now())


@post("/auth/refresh", status_code=200, tags=[TAG], summary="New tokens for a live session", responses=SIGN_IN_PROBLEMS)
async def refresh(
    request: Request[Any, Any, Any], data: JSONBody[RefreshRequest], access: NamedDependency[Access]
) -> Response[TokenAnswer]:
    """Exchanges a refresh token (once) for new tokens; an idle, expired or ended session needs
    the password again."""
    await _within_sign_in_rate(access, request, None)
    try:
        tokens = await asyncio.to_thread(access.sessions.refresh, data.refresh_token, client_address(request.scope))
    except SessionRefusedError as refused:
        if refused.session_id:  # a copied refresh token ended its session
            access.authenticator.forget(session_id=refused.session_id)
        msg = "the session has ended (idle, expired or signed out): sign in again"
        raise AuthenticationRequiredError(msg, invalid=True) from None
    return _tokens(tokens, access.sessions.now())


@post("/auth/logout", status_code=204, tags=[TAG], summary="End this session", responses=error_responses(401, 409))
async def logout(request: Request[Any, Any, Any], access: NamedDependency[Access]) -> Response[None]:
    """Revokes the session's tokens at once."""
    caller = caller_of(request)
    if caller.session_id is None:
        return problem(request, 409, "not-a-session", "Not a session", "an API key is revoked by an administrator")
    await asyncio.to_thread(
        access.sessions.logout, caller.session_id, caller.account.username, client_address(request.scope)
    )
    access.authenticator.forget(session_id=caller.session_id)
    return Response(content=None, status_code=204, headers=NO_STORE)


@get("/auth/me", tags=[TAG], summary="Who this request acts as", responses=error_responses(401))
async def me(request: Request[Any, Any, Any]) -> Response[Me]:
    caller = caller_of(request)
    account = caller.account
    body = Me(
        account.username,
        account.printed_name,
        str(account.kind),
        sorted(account.roles),
        account.mfa_enrolled,
        caller.session_id,
        caller.key_prefix,
    )
    return _answer(body)


@post(
    "/auth/mfa/enrolment",
    status_code=200,
    tags=[TAG],
    summary="Begin a second factor",
    responses=SIGN_IN_PROBLEMS | error_responses(409),
)
async def begin_enrolment(
    request: Request[Any, Any, Any], data: JSONBody[EnrolmentRequest], access: NamedDependency[Access]
) -> Response[EnrolmentAnswer]:
    """A new TOTP secret for a person without one (after a reset, an administrator's), as an
    `otpauth://` URI and its QR code; confirm it with the first code."""
    await _signed_in(access, request, data.username, data.password)
    account = await asyncio.to_thread(access.directory.account, data.username)
    if account is not None and account.mfa_enrolled:
        detail = "a second factor is enrolled already; an administrator resets it before another is enrolled"
        return problem(request, 409, "mfa-enrolled", "Second factor enrolled", detail)
    enrolment = await asyncio.to_thread(access.mfa.begin, data.username)
    svg = segno.make(enrolment.uri, error="m").svg_inline(scale=4)
    return _answer(EnrolmentAnswer(enrolment.uri, enrolment.secret, svg))


@post(
    "/auth/mfa/confirmation", status_code=201, tags=[TAG], summary="Confirm a second factor", responses=SIGN_IN_PROBLEMS
)
async def confirm_enrolment(
    request: Request[Any, Any, Any], data: JSONBody[ConfirmationRequest], access: NamedDependency[Access]
) -> Response[RecoveryCodes]:
    """Confirms the enrolment with the authenticator's first code; answers the recovery codes."""
    await _signed_in(access, request, data.username, data.password)
    account = await asyncio.to_thread(access.directory.account, data.username)
    assert account is not None  # noqa: S101 - the password was just checked
    context = CommandContext(actor=account.actor, source=Source.API)
    codes = await asyncio.to_thread(
        access.mfa.confirm, data.username, data.totp, context, command_id=f"mfa-{uuid.uuid4()}"
    )
    return _answer(RecoveryCodes(codes), 201)


ROUTES = [login, refresh, logout, me, begin_enrolment, confirm_enrolment]
