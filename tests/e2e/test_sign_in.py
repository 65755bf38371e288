"""Signing in over HTTP against a real `mes serve`: second factors, replay, lockout, refresh,
logout, keys revoked and rotated, accounts disabled, the actor of a command, rate limits, and
the security log that records each of them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from domain.values import Role
from infrastructure.settings import Settings
from tests.accounts import bearer, provision_person
from tests.builders import Plant, unique
from tests.e2e.conftest import STORES, Api, ServerProcess, assert_problem, fail_if_the_server_failed, running_server

PASSWORD = "a sign-in passphrase"
CREDENTIALS_KEY = base64.b64encode(bytes(range(32))).decode()
PEOPLE = {
    "ada": (Role.ADMIN,),
    "aude": (Role.AUDITOR,),
    "quinn": (Role.QUALITY,),
    "olu": (Role.OPERATOR,),
    "lou": (Role.OPERATOR,),  # locked out
    "rita": (Role.OPERATOR,),  # refreshes and signs out
    "dan": (Role.OPERATOR,),  # disabled
}
NOT_RIGHT = "the username, password or code is not right"


def with_people(settings: Settings) -> None:
    for name, roles in PEOPLE.items():
        provision_person(settings, name, roles, PASSWORD)


@pytest.fixture(scope="module", params=STORES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp(f"sign-in-{request.param}")
    env = {"MES_CREDENTIALS_KEY": CREDENTIALS_KEY}
    with running_server(request.param, directory, env_extra=env, setup=with_people) as server:
        yield server


def login(server: ServerProcess, name: str, password: str = PASSWORD, totp: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"username": name, "password": password} | ({"totp": totp} if totp else {})
    return httpx.post(f"{server.base_url}/api/v1/auth/login", json=body, timeout=30)


def signed_in(server: ServerProcess, name: str, totp: str | None = None) -> dict[str, str]:
    answer = login(server, name, totp=totp)
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def code_at(secret: str, steps_ahead: int) -> str:
    """The authenticator's code `steps_ahead` 30-second steps from now (within the one step of drift)."""
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps_ahead))


def enrol(server: ServerProcess, name: str) -> tuple[str, list[str]]:
    """Enrols the person's second factor over HTTP; their secret and recovery codes."""
    begun = httpx.post(
        f"{server.base_url}/api/v1/auth/mfa/enrolment", json={"username": name, "password": PASSWORD}, timeout=30
    )
    assert begun.status_code == 200, begun.text
    secret = begun.json()["secret"]
    confirmed = httpx.post(
        f"{server.base_url}/api/v1/auth/mfa/confirmation",
        json={"username": name, "password": PASSWORD, "totp": code_at(secret, -1)},
        timeout=30,
    )
    assert confirmed.status_code == 201, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


@pytest.fixture(scope="module")
def admin(served: ServerProcess) -> dict[str, str]:
    secret, _ = enrol(served, "ada")
    return signed_in(served, "ada", totp=code_at(secret, 0))


def security_events(server: ServerProcess, **filters: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server.base_url}/api/v1/security/events",
        params=filters,
        headers=signed_in(server, "aude"),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_a_person_whose_role_needs_a_second_factor_enrols_then_signs_in_with_a_fresh_code_only(
    served: ServerProcess,
) -> None:
    before = login(served, "quinn")
    assert_problem(before, 401)
    assert "enrol a second factor" in before.json()["detail"]
    begun = httpx.post(
        f"{served.base_url}/api/v1/auth/mfa/enrolment", json={"username": "quinn", "password": PASSWORD}, timeout=30
    ).json()
    assert begun["otpauth_uri"].startswith("otpauth://totp/Chronicle%20MES:quinn?secret=")
    assert begun["qr_svg"].startswith("<svg")
    secret, recovery = enrol(served, "quinn")  # a second enrolment before confirming replaces the first

    without_code = login(served, "quinn")
    fresh = code_at(secret, 0)
    first = login(served, "quinn", totp=fresh)
    replayed = login(served, "quinn", totp=fresh)
    by_recovery = login(served, "quinn", totp=recovery[0])
    recovery_again = login(served, "quinn", totp=recovery[0])
    again = httpx.post(
        f"{served.base_url}/api/v1/auth/mfa/enrolment", json={"username": "quinn", "password": PASSWORD}, timeout=30
    )

    assert "code from the authenticator is required" in assert_problem(without_code, 401)["detail"]
    assert first.status_code == 200, first.text
    assert assert_problem(replayed, 401)["detail"] == NOT_RIGHT  # a code is never accepted twice
    assert by_recovery.status_code == 200, by_recovery.text
    assert assert_problem(recovery_again, 401)["detail"] == NOT_RIGHT
    assert assert_problem(again, 409)["type"].endswith("/mfa-enrolled")
    assert len(recovery) == 10
    kinds = [e["kind"] for e in security_events(served, principal="quinn")]
    assert {"mfa-enrolled", "login-ok", "mfa-failed"} <= set(kinds)


def test_a_wrong_password_and_an_unknown_name_are_refused_alike_and_answers_are_never_cached(
    served: ServerProcess,
) -> None:
    wrong = login(served, "olu", password="not the password")
    unknown = login(served, "nobody-here", password="not the password")
    right = login(served, "olu")

    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"] == NOT_RIGHT
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    for answer in (wrong, unknown, right):
        assert answer.headers["cache-control"] == "no-store"
    token = right.json()
    assert token["token_type"] == "Bearer"
    assert 0 < token["expires_in"] <= 15 * 60
    assert token["access_token"].startswith("cht_")
    assert token["refresh_token"].startswith("chf_")


def test_failures_in_a_row_lock_the_account_and_even_the_right_password_is_refused_alike(
    served: ServerProcess,
) -> None:
    for _ in range(5):
        assert_problem(login(served, "lou", password="guessing again"), 401)

    locked = login(served, "lou")

    assert assert_problem(locked, 401)["detail"] == NOT_RIGHT  # a lock would tell that the name exists
    kinds = [e["kind"] for e in security_events(served, principal="lou")]
    assert kinds.count("login-failed") == 5
    assert "locked-out" in kinds


def test_a_refresh_token_used_again_after_its_refresh_ends_the_session(served: ServerProcess) -> None:
    first = login(served, "rita").json()
    refreshed = httpx.post(
        f"{served.base_url}/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}, timeout=30
    )
    assert refreshed.status_code == 200, refreshed.text
    new = bearer(refreshed.json()["access_token"])
    me = httpx.get(f"{served.base_url}/api/v1/auth/me", headers=new, timeout=30)

    copied = httpx.post(
        f"{served.base_url}/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}, timeout=30
    )
    after = httpx.get(f"{served.base_url}/api/v1/lots", headers=new, timeout=30)

    assert (me.json()["username"], me.json()["session_id"]) == ("rita", first["session_id"])
    assert_problem(copied, 401)
    assert_problem(after, 401)  # the copy ended the session for its owner too: they sign in again
    details = [e["detail"] for e in security_events(served, principal="rita", kind="token-refused")]
    assert f"refresh reused session={first['session_id']} ended" in details


def test_logout_ends_the_session_at_once(served: ServerProcess) -> None:
    token = signed_in(served, "rita")
    before = httpx.get(f"{served.base_url}/api/v1/lots", headers=token, timeout=30)

    out = httpx.post(f"{served.base_url}/api/v1/auth/logout", headers=token, timeout=30)
    after = httpx.get(f"{served.base_url}/api/v1/lots", headers=token, timeout=30)

    assert before.status_code == 200
    assert out.status_code == 204
    assert_problem(after, 401)
    assert 'error="invalid_token"' in after.headers["www-authenticate"]
    assert "token-revoked" in {e["kind"] for e in security_events(served, principal="rita")}


def test_a_key_the_administrator_revokes_stops_at_once_and_a_rotated_one_overlaps(
    served: ServerProcess, admin: dict[str, str]
) -> None:
    machine = unique("plc")
    with httpx.Client(base_url=served.base_url, timeout=30, headers=admin) as client:
        made = client.post(
            "/api/v1/principals",
            json={"username": machine, "printed_name": "Filler PLC", "kind": "machine", "roles": ["integration"]},
        )
        assert made.status_code == 201, made.text
        issued = client.post(f"/api/v1/principals/{machine}/keys", json={"valid_days": 30})
        assert issued.status_code == 201, issued.text
        assert issued.headers["cache-control"] == "no-store"
        old = issued.json()
        rotated = client.post(f"/api/v1/principals/{machine}/keys/{old['prefix']}/rotate", json={"overlap_hours": 1})
        new = rotated.json()
        both = [httpx.get(f"{served.base_url}/api/v1/lots", headers=bearer(k["key"])) for k in (old, new)]
        revoked = client.post(f"/api/v1/principals/{machine}/keys/{new['prefix']}/revoke", json={"reason": "leaked"})
        after = httpx.get(f"{served.base_url}/api/v1/lots", headers=bearer(new["key"]))

    assert [answer.status_code for answer in both] == [200, 200]
    assert revoked.status_code == 204
    assert_problem(after, 401)
    log = security_events(served, principal=machine)
    assert {"account-created", "key-issued", "key-shortened", "key-revoked"} <= {e["kind"] for e in log}
    refused = security_events(served, kind="key-refused")
    assert any(f"key={new['prefix']}" in e["detail"] and "reason=revoked" in e["detail"] for e in refused)
    assert all(new["key"] not in e["detail"] for e in log + refused)  # never the key itself


def test_disabling_an_account_ends_its_sessions_at_once(served: ServerProcess, admin: dict[str, str]) -> None:
    dan = signed_in(served, "dan")
    assert httpx.get(f"{served.base_url}/api/v1/lots", headers=dan, timeout=30).status_code == 200

    disabled = httpx.post(
        f"{served.base_url}/api/v1/principals/dan/disable", json={"reason": "left the plant"}, headers=admin, timeout=30
    )
    after = httpx.get(f"{served.base_url}/api/v1/lots", headers=dan, timeout=30)

    assert disabled.status_code == 202, disabled.text
    assert_problem(after, 401)
    assert_problem(login(served, "dan"), 401)


def test_a_command_records_the_person_signed_in_as_its_actor(served: ServerProcess) -> None:
    plant = Plant.named()
    lot = unique("LOT")
    with httpx.Client(base_url=served.base_url, timeout=30, headers=served.headers) as client:
        machine = Api(client, served)
        machine.run(*plant.commands(), plant.receive(lot))
        olu = signed_in(served, "olu")
        held = client.post(f"/api/v1/lots/{lot}/hold", json={"reason": "seal broken"}, headers=olu)
        released = client.post(f"/api/v1/lots/{lot}/release", json={"reason": "checked"}, headers=olu)
        history = client.get(f"/api/v1/lots/{lot}/history").json()["events"]

    assert held.status_code == 202, held.text
    assert_problem(released, 403)  # releasing is quality's
    assert (history[-1]["actor_id"], history[-1]["actor_name"], history[-1]["source"]) == ("olu", "Olu", "api")
    assert history[0]["actor_id"] == "e2e-qa-0042"


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose sign-in limit is three a minute per name."""
    env = {"MES_SIGN_IN_PER_MINUTE": "3"}
    with running_server("sqlite", tmp_path, env_extra=env, setup=with_people) as server:
        yield server


def test_sign_ins_beyond_the_limit_answer_429_with_retry_after_and_are_logged(strict: ServerProcess) -> None:
    answers = [login(strict, "olu", password="guess") for _ in range(4)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    limited = assert_problem(answers[-1], 429)
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "too many requests" in limited["detail"]
    kinds = [e["kind"] for e in security_events(strict, principal="olu")]
    assert "rate-limited" in kinds


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that lets each principal make three requests at once, then one a second."""
    env = {"MES_RATE_PER_SECOND": "1", "MES_RATE_BURST": "3"}
    with running_server("sqlite", tmp_path, env_extra=env, setup=with_people) as server:
        yield server


def test_requests_beyond_a_principals_rate_answer_429_with_retry_after_and_are_logged(
    throttled: ServerProcess,
) -> None:
    with httpx.Client(base_url=throttled.base_url, timeout=30, headers=throttled.headers) as machine:
        answers = [machine.get("/api/v1/lots") for _ in range(4)]
    other = httpx.get(f"{throttled.base_url}/api/v1/lots", headers=signed_in(throttled, "olu"), timeout=30)

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert_problem(answers[-1], 429)
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert other.status_code == 200  # another principal has a bucket of its own
    logged = [e for e in security_events(throttled, kind="rate-limited") if e["principal"] == "e2e-qa-0042"]
    assert logged[0]["detail"] == "route=GET /api/v1/lots"


def test_without_a_credentials_key_enrolling_a_second_factor_is_503_saying_what_to_set(tmp_path: Path) -> None:
    with running_server("sqlite", tmp_path, setup=with_people) as server:
        answer = httpx.post(
            f"{server.base_url}/api/v1/auth/mfa/enrolment", json={"username": "quinn", "password": PASSWORD}, timeout=30
        )
        fail_if_the_server_failed(server, "during this test")

    problem = assert_problem(answer, 503)
    assert "MES_CREDENTIALS_KEY" in problem["detail"]
