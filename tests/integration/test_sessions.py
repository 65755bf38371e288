"""People's sessions on real stores: tokens answered once and kept only as hashes, a bearer token
good until its expiry or an idle spell, a refresh token that works once, a logout that ends the
session at once, and a security log entry for each without the token in it."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta

import psycopg
import pytest

from api.runtime import Runtime, build_runtime
from application.access.api_keys import ApiKeyService
from application.access.authentication import AuthenticationError, Authenticator
from application.access.mfa import MfaService
from application.access.passwords import PasswordService
from application.access.principals import RegisterPrincipal
from application.access.security_log import ACCOUNT_CHANGES, SecurityKind
from application.access.sessions import SessionRefusedError, SessionService, TokenPolicy, Tokens
from application.access.sign_in import SignInRefusedError, SignInService
from application.ports import SecurityEvent
from domain.values import ActorKind, Role
from infrastructure.access.credentials import SqlApiKeyStore, SqlCredentialStore
from infrastructure.access.passwords import Argon2Passwords
from infrastructure.access.secrets import AesGcmBox
from infrastructure.access.sessions import SqlSecurityLog, SqlSessionStore
from infrastructure.settings import Settings
from tests.builders import context, next_id
from tests.fakes import SteppingClock

PASSWORD = "correct horse battery staple"
WRONG = "not the password at all"
FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}  # tests need the shape of argon2id, not its cost
CLIENT = "10.0.0.5"
# A bearer token that outlives the idle limit, so that idleness, not expiry, is what ends it.
LONG_BEARER = TokenPolicy(access=timedelta(hours=2), refresh=timedelta(hours=12), idle=timedelta(minutes=30))


@pytest.fixture
def runtime(settings: Settings, clock: SteppingClock) -> Iterator[Runtime]:
    """The store's runtime on the test's clock: sign-in and sessions read the same time."""
    opened = build_runtime(settings, clock=clock)
    yield opened
    opened.close()


def person(runtime: Runtime, settings: Settings, username: str = "olu") -> None:
    """An operator (no second factor required) with a password."""
    runtime.bus.execute(
        RegisterPrincipal(
            command_id=next_id(),
            username=username,
            printed_name="Olu Operator",
            kind=ActorKind.PERSON,
            roles=[Role.OPERATOR],
        ),
        context(),
    )
    PasswordService(runtime.bus, SqlCredentialStore(settings), Argon2Passwords(**FAST)).set_password(
        username, PASSWORD, context(), command_id=next_id(), reason="first sign-in"
    )


def session_service(
    runtime: Runtime, settings: Settings, clock: SteppingClock, policy: TokenPolicy | None = None
) -> SessionService:
    credentials = SqlCredentialStore(settings)
    sign_in = SignInService(
        PasswordService(runtime.bus, credentials, Argon2Passwords(**FAST)),
        MfaService(runtime.bus, credentials, AesGcmBox(bytes(range(32)))),
    )
    return SessionService(sign_in, SqlSessionStore(settings), SqlSecurityLog(settings), clock.now, policy)


def authenticator(
    runtime: Runtime, settings: Settings, clock: SteppingClock, sessions: SessionService
) -> Authenticator:
    keys = ApiKeyService(runtime.bus, SqlApiKeyStore(settings))
    return Authenticator(sessions, keys, runtime.directory, SqlSecurityLog(settings), clock.now)


def read_next(clock: SteppingClock, moment: datetime) -> None:
    """Sets the clock so that its next reading is `moment` (it steps a second each time it is read)."""
    clock.current = moment - timedelta(seconds=1)


def every_entry(settings: Settings) -> list[SecurityEvent]:
    return SqlSecurityLog(settings).select(since=None, until=None, principal=None, kind=None, after=None, limit=1000)


def security_log(settings: Settings) -> list[SecurityEvent]:
    """The entries signing in and sessions wrote (setting the test's accounts up writes others)."""
    set_up = set(ACCOUNT_CHANGES.values())
    return [entry for entry in every_entry(settings) if entry.kind not in set_up]


def kinds(settings: Settings) -> list[str]:
    return [entry.kind for entry in security_log(settings)]


def session_rows(settings: Settings) -> list[dict[str, object]]:
    """Every row of the sessions table, as a database reader would see it."""
    query = "SELECT * FROM sessions"
    if settings.is_postgres:
        target = settings.postgres(admin=True)
        with (
            psycopg.connect(target.conninfo(), options=f"-c search_path={target.schema}") as conn,
            conn.cursor() as cur,
        ):
            cur.execute(query)
            names = [column.name for column in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    with closing(sqlite3.connect(settings.sqlite_path)) as db:
        rows = db.execute(query)
        columns = [column[0] for column in rows.description]
        return [dict(zip(columns, row, strict=True)) for row in rows.fetchall()]


def assert_never_logged(settings: Settings, *secrets: str) -> None:
    for entry in every_entry(settings):
        for secret in secrets:
            assert secret not in entry.detail
            assert secret not in (entry.principal or "")
            assert secret not in (entry.client or "")


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_a_login_answers_tokens_and_the_store_keeps_only_their_hashes(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)

    tokens = sessions.login("olu", PASSWORD, None, CLIENT)

    assert tokens.access_token.startswith("cht_")
    assert tokens.refresh_token.startswith("chf_")
    (row,) = session_rows(settings)
    assert (row["session_id"], row["username"]) == (tokens.session_id, "olu")
    assert (row["access_hash"], row["refresh_hash"]) == (sha256(tokens.access_token), sha256(tokens.refresh_token))
    stored = " ".join(str(value) for value in row.values())
    assert tokens.access_token not in stored
    assert tokens.refresh_token not in stored
    assert sessions.session(tokens.access_token).username == "olu"
    (entry,) = security_log(settings)
    assert (entry.kind, entry.principal, entry.client) == (SecurityKind.LOGIN_OK, "olu", CLIENT)
    assert entry.detail == f"session={tokens.session_id}"
    assert_never_logged(settings, tokens.access_token, tokens.refresh_token, PASSWORD)


def test_a_bearer_token_works_until_its_expiry_then_is_refused_as_expired(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)
    tokens = sessions.login("olu", PASSWORD, None, CLIENT)
    opened = SqlSessionStore(settings).by_access(sha256(tokens.access_token))
    callers = authenticator(runtime, settings, clock, sessions)

    read_next(clock, tokens.expires_at - timedelta(seconds=1))
    before = callers.authenticate(tokens.access_token, CLIENT)
    read_next(clock, tokens.expires_at)
    with pytest.raises(AuthenticationError) as at_expiry:
        callers.authenticate(tokens.access_token, CLIENT)

    assert opened is not None
    assert tokens.expires_at - opened.last_seen_at == TokenPolicy().access
    assert (before.account.username, before.session_id) == ("olu", tokens.session_id)
    assert at_expiry.value.kind == "expired"
    with pytest.raises(SessionRefusedError, match="expired"):
        sessions.session(tokens.access_token)
    refused = security_log(settings)[-1]
    assert (refused.kind, refused.client, refused.detail) == (SecurityKind.TOKEN_REFUSED, CLIENT, "reason=expired")
    assert_never_logged(settings, tokens.access_token, tokens.refresh_token)


def test_an_idle_session_is_refused_and_cannot_be_refreshed(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock, LONG_BEARER)
    tokens = sessions.login("olu", PASSWORD, None, CLIENT)

    clock.current += timedelta(minutes=31)
    with pytest.raises(SessionRefusedError) as bearer:
        sessions.session(tokens.access_token)
    with pytest.raises(SessionRefusedError) as refresh:
        sessions.refresh(tokens.refresh_token, CLIENT)

    assert (bearer.value.kind, refresh.value.kind) == ("idle", "idle")
    refused = security_log(settings)[-1]
    assert (refused.kind, refused.principal, refused.detail) == (SecurityKind.TOKEN_REFUSED, "olu", "refresh idle")
    assert_never_logged(settings, tokens.access_token, tokens.refresh_token)


def test_a_session_in_use_does_not_go_idle(runtime: Runtime, settings: Settings, clock: SteppingClock) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock, LONG_BEARER)
    tokens = sessions.login("olu", PASSWORD, None, CLIENT)

    seen = []
    for _ in range(3):  # an hour in all, never more than 20 minutes apart
        clock.current += timedelta(minutes=20)
        seen.append(sessions.session(tokens.access_token).session_id)
    clock.current += timedelta(minutes=31)

    assert seen == [tokens.session_id] * 3
    with pytest.raises(SessionRefusedError, match="idle"):
        sessions.session(tokens.access_token)


def test_a_refresh_gives_new_tokens_and_the_old_refresh_token_used_again_ends_the_session(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)
    first = sessions.login("olu", PASSWORD, None, CLIENT)
    clock.current += timedelta(minutes=10)

    second = sessions.refresh(first.refresh_token, CLIENT)
    assert sessions.session(second.access_token).username == "olu"
    with pytest.raises(SessionRefusedError) as reused:
        sessions.refresh(first.refresh_token, CLIENT)  # a copy of the replaced token: RFC 9700 §4.14.2

    assert second.session_id == first.session_id
    assert {second.access_token, second.refresh_token}.isdisjoint({first.access_token, first.refresh_token})
    assert second.expires_at > first.expires_at
    assert (reused.value.kind, reused.value.session_id) == ("reused", first.session_id)
    with pytest.raises(SessionRefusedError, match="revoked"):
        sessions.session(second.access_token)
    with pytest.raises(SessionRefusedError, match="revoked"):
        sessions.refresh(second.refresh_token, CLIENT)
    (row,) = session_rows(settings)
    assert (row["access_hash"], row["refresh_hash"]) == (sha256(second.access_token), sha256(second.refresh_token))
    assert kinds(settings)[:3] == [SecurityKind.LOGIN_OK, SecurityKind.TOKEN_REFRESHED, SecurityKind.TOKEN_REFUSED]
    refreshed, ended = security_log(settings)[1:3]
    assert (refreshed.principal, refreshed.client, refreshed.detail) == ("olu", CLIENT, f"session={first.session_id}")
    assert (ended.principal, ended.detail) == ("olu", f"refresh reused session={first.session_id} ended")
    assert_never_logged(settings, *_secrets(first), *_secrets(second))


def test_a_refresh_after_the_bearer_token_expired_keeps_the_session_going(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)
    first = sessions.login("olu", PASSWORD, None, CLIENT)
    clock.current += timedelta(minutes=20)  # past the bearer's 15 minutes, within the idle 30
    with pytest.raises(SessionRefusedError, match="expired"):
        sessions.session(first.access_token)

    second = sessions.refresh(first.refresh_token, CLIENT)

    assert sessions.session(second.access_token).session_id == first.session_id


def test_a_session_ends_when_its_refresh_time_is_up_however_busy(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    policy = TokenPolicy(access=timedelta(minutes=15), refresh=timedelta(hours=1), idle=timedelta(minutes=30))
    sessions = session_service(runtime, settings, clock, policy)
    tokens = sessions.login("olu", PASSWORD, None, CLIENT)
    ends = tokens.expires_at - policy.access + policy.refresh

    for _ in range(5):  # every ten minutes, fifty in all
        clock.current += timedelta(minutes=10)
        tokens = sessions.refresh(tokens.refresh_token, CLIENT)
    last_bearer = tokens.expires_at
    read_next(clock, ends)
    with pytest.raises(SessionRefusedError) as refused:
        sessions.refresh(tokens.refresh_token, CLIENT)

    assert last_bearer == ends  # the last bearer token lives no longer than the session
    assert refused.value.kind == "expired"


def test_the_new_refresh_token_refreshes_again(runtime: Runtime, settings: Settings, clock: SteppingClock) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)
    first = sessions.login("olu", PASSWORD, None, CLIENT)

    second = sessions.refresh(first.refresh_token, CLIENT)
    third = sessions.refresh(second.refresh_token, CLIENT)

    assert sessions.session(third.access_token).session_id == first.session_id


def test_logout_ends_the_session_at_once(runtime: Runtime, settings: Settings, clock: SteppingClock) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)
    tokens = sessions.login("olu", PASSWORD, None, CLIENT)
    working = sessions.session(tokens.access_token)

    sessions.logout(tokens.session_id, "olu", CLIENT)

    assert working.session_id == tokens.session_id
    with pytest.raises(SessionRefusedError) as bearer:
        sessions.session(tokens.access_token)
    with pytest.raises(SessionRefusedError) as refresh:
        sessions.refresh(tokens.refresh_token, CLIENT)
    assert (bearer.value.kind, refresh.value.kind) == ("revoked", "revoked")
    (row,) = session_rows(settings)
    assert row["revoked_at"] is not None
    logout = security_log(settings)[1]
    assert (logout.kind, logout.principal, logout.client) == (SecurityKind.TOKEN_REVOKED, "olu", CLIENT)
    assert logout.detail == f"session={tokens.session_id} logout"
    assert_never_logged(settings, *_secrets(tokens))


def test_a_failed_login_is_logged_with_the_name_given_and_opens_no_session(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)

    with pytest.raises(SignInRefusedError):
        sessions.login("olu", WRONG, None, CLIENT)
    with pytest.raises(SignInRefusedError):
        sessions.login("nobody-here", PASSWORD, None, CLIENT)

    wrong, unknown = security_log(settings)
    assert (wrong.kind, wrong.principal, wrong.client, wrong.detail) == (
        SecurityKind.LOGIN_FAILED,
        "olu",
        CLIENT,
        "reason=bad-password",
    )
    assert (unknown.kind, unknown.principal, unknown.detail) == (
        SecurityKind.LOGIN_FAILED,
        "nobody-here",
        "reason=unknown-user",
    )
    assert session_rows(settings) == []
    assert_never_logged(settings, WRONG, PASSWORD)


def test_a_lockout_is_logged_as_locked_out_and_refuses_even_the_right_password(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    person(runtime, settings)
    sessions = session_service(runtime, settings, clock)

    for _ in range(6):
        with pytest.raises(SignInRefusedError):
            sessions.login("olu", WRONG, None, CLIENT)
    with pytest.raises(SignInRefusedError):
        sessions.login("olu", PASSWORD, None, CLIENT)

    assert kinds(settings) == [SecurityKind.LOGIN_FAILED] * 5 + [SecurityKind.LOCKED_OUT] * 2
    locked = security_log(settings)[-1]
    assert (locked.principal, locked.client, locked.detail) == ("olu", CLIENT, "reason=locked")
    assert session_rows(settings) == []
    assert_never_logged(settings, WRONG, PASSWORD)


def _secrets(tokens: Tokens) -> tuple[str, str]:
    return tokens.access_token, tokens.refresh_token
