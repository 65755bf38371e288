"""Principals and their passwords on real stores: the lifecycle in the event log, the secret in the
credentials table only, argon2id hashes checked and renewed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta

import psycopg
import pyotp
import pytest

from api.runtime import Runtime
from application.access.api_keys import ApiKeyService
from application.access.mfa import MfaService
from application.access.passwords import PasswordService
from application.access.principals import DisablePrincipal, GrantRole, RegisterPrincipal
from application.access.sign_in import NOT_RIGHT, SignInRefusedError, SignInService
from application.commands import InvalidCommandError
from domain.errors import PrincipalError
from domain.ids import principal_id
from domain.principal import Principal
from domain.values import ActorKind, Role
from infrastructure.access.credentials import SqlApiKeyStore, SqlCredentialStore
from infrastructure.access.passwords import Argon2Passwords
from infrastructure.access.secrets import AesGcmBox, SecretBoxError
from infrastructure.settings import Settings
from tests.builders import context, next_id
from tests.fakes import SteppingClock

PASSWORD = "correct horse battery staple"
FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}  # tests need the shape of argon2id, not its cost


def register(runtime: Runtime, username: str = "quinn") -> None:
    runtime.bus.execute(
        RegisterPrincipal(
            command_id=next_id(),
            username=username,
            printed_name="Quinn Quality",
            kind=ActorKind.PERSON,
            roles=[Role.QUALITY],
        ),
        context(),
    )


def raw_events(settings: Settings) -> bytes:
    """Every stored event's bytes, as a database reader would see them."""
    if settings.is_postgres:
        target = settings.postgres(admin=True)
        with psycopg.connect(target.conninfo(), options=f"-c search_path={target.schema}") as conn:
            return b"".join(bytes(row[0]) for row in conn.execute("SELECT state FROM chronicle_events"))
    with closing(sqlite3.connect(settings.sqlite_path)) as conn:
        return b"".join(row[0] for row in conn.execute("SELECT state FROM stored_events"))


def test_a_password_is_kept_as_an_argon2id_hash_and_never_enters_the_event_log(
    runtime: Runtime, settings: Settings
) -> None:
    register(runtime)
    service = PasswordService(runtime.bus, SqlCredentialStore(settings), Argon2Passwords(**FAST))

    service.set_password("quinn", PASSWORD, context(), command_id=next_id(), reason="first sign-in")

    stored = SqlCredentialStore(settings).password_hash(principal_id("quinn"))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD.encode() not in raw_events(settings)
    assert stored.encode() not in raw_events(settings)
    assert service.check("quinn", PASSWORD)
    assert not service.check("quinn", PASSWORD.upper())
    assert not service.check("nobody", PASSWORD)
    account: Principal = runtime.app.repository.get(principal_id("quinn"))
    assert account.has_password
    assert [type(e).__name__ for e in runtime.app.history(principal_id("quinn"))] == ["Registered", "PasswordSet"]


def test_a_hash_made_with_older_parameters_is_made_anew_at_the_next_good_password(
    runtime: Runtime, settings: Settings
) -> None:
    register(runtime)
    credentials = SqlCredentialStore(settings)
    PasswordService(runtime.bus, credentials, Argon2Passwords(**FAST)).set_password(
        "quinn", PASSWORD, context(), command_id=next_id(), reason="first sign-in"
    )
    old = credentials.password_hash(principal_id("quinn"))
    stronger = PasswordService(runtime.bus, credentials, Argon2Passwords(time_cost=2, memory_cost=16, parallelism=1))

    assert stronger.check("quinn", PASSWORD)

    new = credentials.password_hash(principal_id("quinn"))
    assert new != old
    assert new is not None
    assert "t=2" in new
    assert stronger.check("quinn", PASSWORD)


@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaaaa", "abababababababab"])
def test_a_weak_password_is_refused_and_nothing_is_recorded(runtime: Runtime, settings: Settings, weak: str) -> None:
    register(runtime)
    before = runtime.app.max_position()
    service = PasswordService(runtime.bus, SqlCredentialStore(settings), Argon2Passwords(**FAST))

    with pytest.raises(InvalidCommandError) as refused:
        service.set_password("quinn", weak, context(), command_id=next_id(), reason="try")

    assert [field for field, _ in refused.value.errors] == ["password"]
    assert runtime.app.max_position() == before
    assert SqlCredentialStore(settings).password_hash(principal_id("quinn")) is None


def test_an_accounts_roles_are_replayed_from_its_events(runtime: Runtime) -> None:
    register(runtime)
    runtime.bus.execute(
        GrantRole(command_id=next_id(), username="quinn", role=Role.SUPERVISOR, reason="shift lead"), context()
    )
    runtime.bus.cache.evict([principal_id("quinn")])

    account: Principal = runtime.app.repository.get(principal_id("quinn"))

    assert account.roles == {Role.QUALITY, Role.SUPERVISOR}
    assert account.printed_name == "Quinn Quality"


def register_machine(runtime: Runtime, username: str = "erp-1") -> None:
    runtime.bus.execute(
        RegisterPrincipal(
            command_id=next_id(),
            username=username,
            printed_name="ERP",
            kind=ActorKind.MACHINE,
            roles=[Role.INTEGRATION],
        ),
        context(),
    )


def test_an_api_key_is_shown_once_stored_as_a_hash_and_checked_on_use(runtime: Runtime, settings: Settings) -> None:
    register_machine(runtime)
    keys = ApiKeyService(runtime.bus, SqlApiKeyStore(settings))

    issued = keys.issue("erp-1", valid_for=timedelta(days=90), context=context(), command_id=next_id())

    assert issued.key.startswith(f"chr_{issued.prefix}_")
    assert keys.authenticate(issued.key) == principal_id("erp-1")
    assert keys.authenticate(issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B")) is None
    assert keys.authenticate("chr_00000000_" + "x" * 43) is None
    assert keys.authenticate("Bearer nonsense") is None
    stored = SqlApiKeyStore(settings).find(issued.prefix)
    assert stored is not None
    assert stored.key_hash != issued.key
    assert issued.key.encode() not in raw_events(settings)
    (event,) = [e for e in runtime.app.history(principal_id("erp-1")) if type(e).__name__ == "ApiKeyIssued"]
    assert event.prefix == issued.prefix


def test_a_person_gets_no_api_key_and_nothing_is_stored(runtime: Runtime, settings: Settings) -> None:
    register(runtime)
    keys = ApiKeyService(runtime.bus, SqlApiKeyStore(settings))

    with pytest.raises(PrincipalError, match="is a person"):
        keys.issue("quinn", valid_for=timedelta(days=90), context=context(), command_id=next_id())


def test_a_revoked_key_stops_at_once_and_an_expired_one_when_its_time_is_up(
    runtime: Runtime, settings: Settings, clock: SteppingClock
) -> None:
    register_machine(runtime)
    keys = ApiKeyService(runtime.bus, SqlApiKeyStore(settings))
    revoked = keys.issue("erp-1", valid_for=timedelta(days=90), context=context(), command_id=next_id())
    short = keys.issue("erp-1", valid_for=timedelta(minutes=10), context=context(), command_id=next_id())

    keys.revoke("erp-1", revoked.prefix, reason="leaked in a ticket", context=context(), command_id=next_id())
    still_before = keys.authenticate(short.key)
    runtime.bus.clock.current += timedelta(minutes=11)  # type: ignore[attr-defined]

    assert keys.authenticate(revoked.key) is None
    assert still_before == principal_id("erp-1")
    assert keys.authenticate(short.key) is None


def test_a_rotated_key_keeps_working_for_the_overlap_then_only_the_new_one_does(
    runtime: Runtime, settings: Settings
) -> None:
    register_machine(runtime)
    keys = ApiKeyService(runtime.bus, SqlApiKeyStore(settings))
    old = keys.issue("erp-1", valid_for=timedelta(days=90), context=context(), command_id=next_id())

    new = keys.rotate(
        "erp-1",
        old.prefix,
        valid_for=timedelta(days=90),
        overlap=timedelta(hours=1),
        context=context(),
        command_ids=(next_id(), next_id()),
    )
    during = (keys.authenticate(old.key), keys.authenticate(new.key))
    runtime.bus.clock.current += timedelta(hours=2)  # type: ignore[attr-defined]
    after = (keys.authenticate(old.key), keys.authenticate(new.key))

    assert during == (principal_id("erp-1"), principal_id("erp-1"))
    assert after == (None, principal_id("erp-1"))
    account: Principal = runtime.app.repository.get(principal_id("erp-1"))
    assert set(account.api_keys) == {old.prefix, new.prefix}
    assert account.api_keys[old.prefix] < account.api_keys[new.prefix]


KEY = AesGcmBox(bytes(range(32)))


def mfa(runtime: Runtime, settings: Settings, box: AesGcmBox = KEY) -> MfaService:
    return MfaService(runtime.bus, SqlCredentialStore(settings), box)


def code_at(secret: str, runtime: Runtime, steps_ahead: int = 0) -> str:
    moment = runtime.bus.clock.now() + timedelta(seconds=30 * steps_ahead)  # type: ignore[attr-defined]
    return pyotp.TOTP(secret).at(moment)


def enrolled(runtime: Runtime, settings: Settings) -> tuple[str, list[str]]:
    register(runtime)
    enrolment = mfa(runtime, settings).begin("quinn")
    codes = mfa(runtime, settings).confirm("quinn", code_at(enrolment.secret, runtime), context(), command_id=next_id())
    return enrolment.secret, codes


def test_enrolment_answers_an_otpauth_uri_and_is_recorded_once_confirmed_by_a_first_code(
    runtime: Runtime, settings: Settings
) -> None:
    register(runtime)
    service = mfa(runtime, settings)

    enrolment = service.begin("quinn")
    with pytest.raises(InvalidCommandError, match="current code"):
        service.confirm(
            "quinn",
            "000000" if code_at(enrolment.secret, runtime) != "000000" else "111111",
            context(),
            command_id=next_id(),
        )
    before_confirming = [type(e).__name__ for e in runtime.app.history(principal_id("quinn"))]
    codes = service.confirm("quinn", code_at(enrolment.secret, runtime), context(), command_id=next_id())

    assert enrolment.uri.startswith("otpauth://totp/Chronicle%20MES:quinn?secret=")
    assert "MfaEnrolled" not in before_confirming
    assert [type(e).__name__ for e in runtime.app.history(principal_id("quinn"))][-1] == "MfaEnrolled"
    assert len(codes) == len(set(codes)) == 10
    stored = SqlCredentialStore(settings).second_factor(principal_id("quinn"))
    assert stored.secret is not None
    assert enrolment.secret.encode() not in stored.secret
    assert enrolment.secret.encode() not in raw_events(settings)


def test_a_code_is_accepted_once_within_a_step_of_drift_and_never_again(runtime: Runtime, settings: Settings) -> None:
    secret, _ = enrolled(runtime, settings)
    service = mfa(runtime, settings)
    runtime.bus.clock.current += timedelta(seconds=90)  # type: ignore[attr-defined]

    next_code = code_at(secret, runtime, steps_ahead=1)
    accepted = service.check("quinn", next_code)
    replayed = service.check("quinn", next_code)
    older = service.check("quinn", code_at(secret, runtime))  # a step before the one accepted
    too_far = service.check("quinn", code_at(secret, runtime, steps_ahead=3))

    assert (accepted, replayed, older, too_far) == (True, False, False, False)


def test_a_recovery_code_works_once(runtime: Runtime, settings: Settings) -> None:
    _, codes = enrolled(runtime, settings)
    service = mfa(runtime, settings)

    assert service.check("quinn", codes[3])
    assert not service.check("quinn", codes[3])
    assert service.check("quinn", codes[4].upper())


def test_a_secret_sealed_under_another_key_does_not_open(runtime: Runtime, settings: Settings) -> None:
    secret, _ = enrolled(runtime, settings)
    intruder = mfa(runtime, settings, AesGcmBox(bytes(32)))

    with pytest.raises(SecretBoxError):
        intruder.check("quinn", code_at(secret, runtime, steps_ahead=1))


def test_a_reset_removes_the_factor_and_a_machine_cannot_enrol(runtime: Runtime, settings: Settings) -> None:
    secret, _ = enrolled(runtime, settings)
    register_machine(runtime)
    service = mfa(runtime, settings)

    service.reset("quinn", reason="lost phone", context=context(), command_id=next_id())

    assert not service.check("quinn", code_at(secret, runtime, steps_ahead=1))
    assert [type(e).__name__ for e in runtime.app.history(principal_id("quinn"))][-1] == "MfaReset"
    with pytest.raises(PrincipalError, match="not an enabled person"):
        service.begin("erp-1")


def sign_in_service(runtime: Runtime, settings: Settings) -> SignInService:
    credentials = SqlCredentialStore(settings)
    return SignInService(
        PasswordService(runtime.bus, credentials, Argon2Passwords(**FAST)), MfaService(runtime.bus, credentials, KEY)
    )


def person_with_password(runtime: Runtime, settings: Settings, username: str, role: Role) -> None:
    runtime.bus.execute(
        RegisterPrincipal(
            command_id=next_id(), username=username, printed_name=username, kind=ActorKind.PERSON, roles=[role]
        ),
        context(),
    )
    PasswordService(runtime.bus, SqlCredentialStore(settings), Argon2Passwords(**FAST)).set_password(
        username, PASSWORD, context(), command_id=next_id(), reason="first sign-in"
    )


def test_a_wrong_password_and_an_unknown_name_are_refused_in_the_same_words(
    runtime: Runtime, settings: Settings
) -> None:
    person_with_password(runtime, settings, "olu", Role.OPERATOR)
    service = sign_in_service(runtime, settings)

    signed_in = service.sign_in("olu", PASSWORD, None)
    with pytest.raises(SignInRefusedError) as wrong:
        service.sign_in("olu", "not the password at all", None)
    with pytest.raises(SignInRefusedError) as unknown:
        service.sign_in("nobody-here", PASSWORD, None)

    assert signed_in.username == "olu"
    assert (wrong.value.kind, unknown.value.kind) == ("bad-password", "unknown-user")
    assert str(wrong.value) == str(unknown.value) == NOT_RIGHT


def test_a_role_that_requires_a_second_factor_signs_in_with_a_fresh_code_only(
    runtime: Runtime, settings: Settings
) -> None:
    person_with_password(runtime, settings, "quinn", Role.QUALITY)
    service = sign_in_service(runtime, settings)
    with pytest.raises(SignInRefusedError) as not_enrolled:
        service.sign_in("quinn", PASSWORD, None)
    enrolment = mfa(runtime, settings).begin("quinn")
    mfa(runtime, settings).confirm("quinn", code_at(enrolment.secret, runtime), context(), command_id=next_id())
    runtime.bus.clock.current += timedelta(seconds=60)  # type: ignore[attr-defined]
    code = code_at(enrolment.secret, runtime)

    with pytest.raises(SignInRefusedError) as without_code:
        service.sign_in("quinn", PASSWORD, None)
    signed_in = service.sign_in("quinn", PASSWORD, code)
    with pytest.raises(SignInRefusedError) as replayed:
        service.sign_in("quinn", PASSWORD, code)

    assert not_enrolled.value.kind == "mfa-not-enrolled"
    assert without_code.value.kind == "mfa-required"
    assert signed_in.username == "quinn"
    assert replayed.value.kind == "bad-code"


def test_failures_in_a_row_lock_the_account_for_a_growing_while(runtime: Runtime, settings: Settings) -> None:
    person_with_password(runtime, settings, "olu", Role.OPERATOR)
    service = sign_in_service(runtime, settings)

    kinds = []
    for _ in range(6):
        with pytest.raises(SignInRefusedError) as refused:
            service.sign_in("olu", "wrong password entirely", None)
        kinds.append(refused.value.kind)
    with pytest.raises(SignInRefusedError) as locked:
        service.sign_in("olu", PASSWORD, None)
    lock = locked.value.retry_after
    runtime.bus.clock.current += timedelta(minutes=2)  # type: ignore[attr-defined]
    after_the_lock = service.sign_in("olu", PASSWORD, None)

    assert kinds == ["bad-password"] * 5 + ["locked"]
    assert locked.value.kind == "locked"
    assert lock is not None
    assert after_the_lock.username == "olu"
    assert SqlCredentialStore(settings).sign_in_failures(principal_id("olu")) == (0, None)


def test_a_disabled_person_is_refused_in_the_same_words(runtime: Runtime, settings: Settings) -> None:
    person_with_password(runtime, settings, "olu", Role.OPERATOR)
    runtime.bus.execute(DisablePrincipal(command_id=next_id(), username="olu", reason="left the company"), context())

    with pytest.raises(SignInRefusedError) as refused:
        sign_in_service(runtime, settings).sign_in("olu", PASSWORD, None)

    assert (refused.value.kind, str(refused.value)) == ("disabled", NOT_RIGHT)
