"""The guard every route passes: who is calling (bearer token or API key), within their rate, with
a role the route's permission allows. Default deny: a route without a declared permission is refused.

The first check of a credential reads the store (in a worker thread); the answer is kept for a
second, so the write path pays a dictionary lookup per request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

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


def client_certificates(connection: ASGIConnection[Any, Any, Any, Any]) -> list[str]:
    """The client certificate chain the TLS handshake verified (mutual TLS), as PEM; empty if none."""
    extensions: Any = connection.scope.get("extensions") or {}
    chain: list[str] = (extensions.get("tls") or {}).get("client_cert_chain") or []
    return chain


def client_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return connection.client.host if connection.client else None


@dataclass
class Gate:
    """The app-wide guard; `routes` is filled by the composition root once the app's routes exist."""

    access: Access
    routes: dict[str, Permission | None] = field(default_factory=dict)
    anonymous: Caller | None = None  # the benchmark's baseline only: every request acts as this

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        scope = connection.scope
        method = scope["method"]  # type: ignore[typeddict-item]
        if method == "OPTIONS":
            return
        template = scope["path_template"]
        route = f"{'GET' if method == 'HEAD' else method} {template}"
        permission = self.routes.get(route)
        if (permission is not None and permission.public) or (permission is None and template.startswith(DOCS_PATH)):
            return
        caller = self.anonymous or await self._caller(connection)
        access = self.access
        if wait := access.requests.wait_s(caller.account.username):
            await self._log(SecurityKind.RATE_LIMITED, caller.account.username, connection, route)
            raise RateLimitedError(wait)
        if permission is None or not permission.allows(caller.account.roles):
            await self._log(SecurityKind.PERMISSION_DENIED, caller.account.username, connection, route)
            why = (
                "no permission is declared for it"
                if permission is None
                else f"it needs the permission {permission.name}"
            )
            msg = f"{caller.account.username} may not call {route}: {why}"
            raise PermissionDeniedError(msg)
        connection.state[CALLER] = caller

    async def _caller(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
        credential = bearer(connection.headers.get("authorization"))
        authenticator = self.access.authenticator
        if credential is None and (chain := client_certificates(connection)):
            return authenticator.kept(chain[0]) or await self._by_certificate(chain[0], connection)
        if credential is None:
            msg = "this route needs credentials: Authorization: Bearer <token or API key>"
            raise AuthenticationRequiredError(msg, invalid=False)
        kept = authenticator.kept(credential)
        if kept is not None:
            return kept
        try:
            return await asyncio.to_thread(authenticator.authenticate, credential, client_of(connection))
        except AuthenticationError:
            msg = "the credentials are not valid (expired, revoked or unknown): sign in again or use a current key"
            raise AuthenticationRequiredError(msg, invalid=True) from None

    async def _by_certificate(self, pem: str, connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
        authenticator = self.access.authenticator
        try:
            return await asyncio.to_thread(
                authenticator.authenticate_certificate, common_name(pem), pem, client_of(connection)
            )
        except AuthenticationError:
            msg = "the client certificate names no enabled machine account"
            raise AuthenticationRequiredError(msg, invalid=True) from None

    async def _log(
        self, kind: SecurityKind, principal: str, connection: ASGIConnection[Any, Any, Any, Any], route: str
    ) -> None:
        event = SecurityEvent(self.access.sessions.now(), kind, principal, client_of(connection), f"route={route}")
        await asyncio.to_thread(self.access.log.record, event)
