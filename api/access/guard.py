"""The gate every route passes: who is calling (bearer token, API key or client certificate),
within their rate, with a role the route's permission allows. Default deny: a route without a
declared permission is refused.

It is an ASGI middleware on every route (after routing, so the route's template is known), reading
the raw scope: a litestar guard would copy the route handler on every request, and the write path
pays for each microsecond here. The first check of a credential reads the store (in a worker
thread); the answer is kept for a second, so a request pays a dictionary lookup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from api.access.services import Access
from api.caller import CALLER
from api.operations import DOCS_PATH
from api.problems import AuthenticationRequiredError, PermissionDeniedError, RateLimitedError
from application.access.authentication import AuthenticationError, Caller
from application.access.policy import Permission
from application.access.security_log import SecurityKind
from application.ports import SecurityEvent
from infrastructure.tls import common_name


def bearer(header: str | None) -> str | None:
    """The credential of an `Authorization: Bearer <credential>` header."""
    if header is None:
        return None
    scheme, _, credential = header.partition(" ")
    return credential.strip() or None if scheme.lower() == "bearer" else None


def authorization(scope: Scope) -> str | None:
    """The Authorization header, read from the scope's raw headers."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


def client_certificates(scope: Scope) -> list[str]:
    """The client certificate chain the TLS handshake verified (mutual TLS), as PEM; empty if none."""
    extensions: Any = scope.get("extensions") or {}
    chain: list[str] = (extensions.get("tls") or {}).get("client_cert_chain") or []
    return chain


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


@dataclass
class Gate:
    """The app-wide check; `routes` is filled by the composition root once the app's routes exist."""

    access: Access
    routes: dict[str, Permission | None] = field(default_factory=dict)
    # One check of a credential at a time: when its kept answer lapses, the requests that arrive
    # together (64 clients of one machine) wait for one read of the store, not one each.
    _checking: dict[str, asyncio.Future[Caller]] = field(default_factory=dict)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """The ASGI middleware that checks each HTTP request before its route runs."""

        async def gate(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                await self.check(scope)
            await app(scope, receive, send)

        return gate

    async def check(self, scope: Scope) -> None:
        method = scope["method"]  # type: ignore[typeddict-item]
        if method == "OPTIONS":
            return
        template = scope["path_template"]
        route = f"{'GET' if method == 'HEAD' else method} {template}"
        permission = self.routes.get(route)
        if (permission is not None and permission.public) or (permission is None and template.startswith(DOCS_PATH)):
            return
        caller = await self._caller(scope)
        username = caller.account.username
        if wait := self.access.requests.wait_s(username):
            await self._log(SecurityKind.RATE_LIMITED, username, scope, route)
            raise RateLimitedError(wait)
        if permission is None or not permission.allows(caller.account.roles):
            await self._log(SecurityKind.PERMISSION_DENIED, username, scope, route)
            why = "no permission is declared for it" if permission is None else f"it needs {permission.name}"
            msg = f"{username} may not call {route}: {why}"
            raise PermissionDeniedError(msg)
        scope["state"][CALLER] = caller

    async def _caller(self, scope: Scope) -> Caller:
        credential = bearer(authorization(scope))
        authenticator = self.access.authenticator
        if credential is None and (chain := client_certificates(scope)):
            return authenticator.kept(chain[0]) or await self._by_certificate(chain[0], scope)
        if credential is None:
            msg = "this route needs credentials: Authorization: Bearer <token or API key>"
            raise AuthenticationRequiredError(msg, invalid=False)
        kept = authenticator.kept(credential)
        if kept is not None:
            return kept
        checking = self._checking.get(credential)
        if checking is None:
            checking = asyncio.ensure_future(
                asyncio.to_thread(authenticator.authenticate, credential, client_address(scope))
            )
            self._checking[credential] = checking
            checking.add_done_callback(lambda _: self._checking.pop(credential, None))
        try:
            return await asyncio.shield(checking)
        except AuthenticationError:
            msg = "the credentials are not valid (expired, revoked or unknown): sign in again or use a current key"
            raise AuthenticationRequiredError(msg, invalid=True) from None

    async def _by_certificate(self, pem: str, scope: Scope) -> Caller:
        authenticate: Callable[..., Caller] = self.access.authenticator.authenticate_certificate
        try:
            return await asyncio.to_thread(authenticate, common_name(pem), pem, client_address(scope))
        except AuthenticationError:
            msg = "the client certificate names no enabled machine account"
            raise AuthenticationRequiredError(msg, invalid=True) from None

    async def _log(self, kind: SecurityKind, principal: str, scope: Scope, route: str) -> None:
        event = SecurityEvent(self.access.sessions.now(), kind, principal, client_address(scope), f"route={route}")
        await asyncio.to_thread(self.access.log.record, event)
