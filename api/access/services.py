"""The access services of one running Chronicle, built once by the composition root."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from application.access.api_keys import ApiKeyService
from application.access.authentication import Authenticator
from application.access.directory import Directory
from application.access.mfa import MfaService, SecondFactorUnavailableError
from application.access.passwords import PasswordService
from application.access.principals import DisablePrincipal
from application.access.rate_limits import Rate, RateLimiter
from application.access.security_log import ACCOUNT_CHANGES
from application.access.sessions import SessionService, TokenPolicy
from application.access.sign_in import SignInService
from application.bus import CommandBus, CommandContext, CommandResult
from application.commands import Command
from application.ports import SecurityLog, SessionStore
from infrastructure.access.credentials import SqlApiKeyStore, SqlCredentialStore
from infrastructure.access.passwords import Argon2Passwords
from infrastructure.access.secrets import AesGcmBox
from infrastructure.access.sessions import SqlSecurityLog, SqlSessionStore
from infrastructure.settings import Settings


class _NoBox:
    """Stands in for the credentials key until one is configured: second factors need it."""

    def _refuse(self) -> bytes:
        msg = "second factors need MES_CREDENTIALS_KEY (`mes keys credentials` prints a new one)"
        raise SecondFactorUnavailableError(msg)

    def seal(self, plaintext: bytes, bound_to: bytes) -> bytes:
        return self._refuse()

    def open(self, sealed: bytes, bound_to: bytes) -> bytes:
        return self._refuse()


@dataclass
class Access:
    """Everything that authenticates, authorises and records security events in one process."""

    directory: Directory
    log: SecurityLog
    sessions: SessionService
    sign_in: SignInService
    mfa: MfaService
    keys: ApiKeyService
    passwords: PasswordService
    authenticator: Authenticator
    requests: RateLimiter  # per principal, every authenticated route
    sign_ins: RateLimiter  # per username named, on the sign-in routes
    sign_in_clients: RateLimiter  # per client address, on the sign-in routes (ten times as many)


def build_access(bus: CommandBus, directory: Directory, settings: Settings) -> Access:
    """The access services on the settings' store; account changes recorded by `bus` go to the
    security log, and a disabled account's sessions end."""
    log, session_store = SqlSecurityLog(settings), SqlSessionStore(settings)
    credentials = SqlCredentialStore(settings)
    box = AesGcmBox(base64.b64decode(settings.credentials_key)) if settings.credentials_key else _NoBox()
    passwords = PasswordService(bus, credentials, Argon2Passwords())
    mfa = MfaService(bus, credentials, box)
    sign_in = SignInService(passwords, mfa, mfa_roles=settings.mfa_roles)
    policy = TokenPolicy(
        access=timedelta(minutes=settings.access_token_minutes),
        refresh=timedelta(hours=settings.session_hours),
        idle=timedelta(minutes=settings.session_idle_minutes),
    )
    sessions = SessionService(sign_in, session_store, log, bus.clock.now, policy)
    keys = ApiKeyService(bus, SqlApiKeyStore(settings))
    authenticator = Authenticator(sessions, keys, directory, log, bus.clock.now)
    access = Access(
        directory=directory,
        log=log,
        sessions=sessions,
        sign_in=sign_in,
        mfa=mfa,
        keys=keys,
        passwords=passwords,
        authenticator=authenticator,
        requests=RateLimiter(Rate(settings.rate_per_second, settings.rate_burst)),
        sign_ins=RateLimiter(Rate(settings.sign_in_per_minute / 60, settings.sign_in_per_minute)),
        sign_in_clients=RateLimiter(Rate(settings.sign_in_per_minute / 6, settings.sign_in_per_minute * 10)),
    )
    bus.on_recorded.append(_forget_changed_accounts(access, session_store))
    return access


def _forget_changed_accounts(
    access: Access, store: SessionStore
) -> Callable[[Command, CommandContext, CommandResult], None]:
    """Forgets what was kept about an account that changed (roles, keys, enabled), and ends a
    disabled account's sessions at once."""

    def observe(command: Command, context: CommandContext, _: CommandResult) -> None:
        if type(command) not in ACCOUNT_CHANGES:
            return
        username = command.username  # type: ignore[attr-defined]
        if isinstance(command, DisablePrincipal):
            store.revoke_all(username, access.sessions.now())
        access.authenticator.forget(username=username)

    return observe
