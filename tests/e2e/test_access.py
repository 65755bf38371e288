"""Every route, called as every role, answers as the permission table says; without credentials,
every route but the public ones answers 401 with a challenge.

A real `mes serve` per store, with one account per role (people sign in over HTTP; the
integration role is a machine with an API key). Second factors are off on this server: they
are tested in test_sign_in.py. Placeholder keys name nothing that exists, so an allowed route
answers what it answers a stranger's key (404, 409, 422...): never 401 or 403.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from api.access.permissions import access_markdown
from api.app import route_permissions
from api.capabilities import CAPABILITIES
from application.access.policy import Permission
from domain.values import Role
from infrastructure.settings import Settings
from tests.accounts import bearer, provision_machine, provision_person
from tests.e2e.conftest import REPO_ROOT, STORES, ServerProcess, assert_problem, running_server

PASSWORD = "every route as every role"
ROUTES = route_permissions()
PLACEHOLDER = "no-such-thing"
LAST = ("POST /api/v1/auth/logout",)  # ends the caller's session: called after every other route


def username(role: Role) -> str:
    return f"matrix-{role}"


@pytest.fixture(scope="module", params=STORES)
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    keys: dict[str, str] = {}

    def one_account_per_role(settings: Settings) -> None:
        for role in Role:
            if role is Role.INTEGRATION:
                keys[username(role)] = provision_machine(settings, username(role), "Matrix machine", (role,))
            else:
                provision_person(settings, username(role), (role,), PASSWORD)

    directory = tmp_path_factory.mktemp(f"matrix-{request.param}")
    with running_server(
        request.param, directory, env_extra={"MES_MFA_ROLES": "none"}, setup=one_account_per_role
    ) as server:
        server.key = keys[username(Role.INTEGRATION)]
        yield server


def credentials_of(server: ServerProcess, role: Role) -> dict[str, str]:
    if role is Role.INTEGRATION:
        return server.headers
    answer = httpx.post(
        f"{server.base_url}/api/v1/auth/login", json={"username": username(role), "password": PASSWORD}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def request_of(route: str) -> tuple[str, str]:
    method, path = route.split(" ", 1)
    return method, re.sub(r"\{\w+\}", PLACEHOLDER, path)


def in_order() -> list[str]:
    return sorted(ROUTES, key=lambda route: (route in LAST, route))


def test_every_route_declares_a_permission() -> None:
    undeclared = [route for route, permission in ROUTES.items() if permission is None]

    assert undeclared == []
    assert len(ROUTES) > 50


def test_docs_access_md_is_the_table_generated_from_the_routes() -> None:
    written = (REPO_ROOT / "docs" / "access.md").read_text(encoding="utf-8")

    assert written == access_markdown(ROUTES), "run: python -m api.access.permissions > docs/access.md"


def test_separation_of_duties_the_administrator_sends_no_production_command_and_the_auditor_none() -> None:
    production = {c.name for c in CAPABILITIES} - {"access"}
    for capability in CAPABILITIES:
        for command, roles in capability.command_roles.items():
            assert Role.AUDITOR not in roles, command
            if capability.name in production:
                assert Role.ADMIN not in roles, command


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_route_answers_each_role_as_the_permission_table_says(matrix: ServerProcess, role: Role) -> None:
    headers = credentials_of(matrix, role)
    refused, allowed = [], []
    with httpx.Client(base_url=matrix.base_url, timeout=30.0, headers=headers) as client:
        for route in in_order():
            permission: Permission | None = ROUTES[route]
            method, path = request_of(route)
            answer = client.request(method, path, json={} if method == "POST" else None)
            if permission is not None and permission.allows({role}):
                assert answer.status_code not in (401, 403), f"{route} as {role}: {answer.status_code} {answer.text}"
                allowed.append(route)
            else:
                problem = assert_problem(answer, 403)
                assert route.split(" ", 1)[1].split("{")[0].rstrip("/") in problem["detail"], problem
                refused.append(route)

    assert allowed, f"{role} may call nothing"
    if role is not Role.ADMIN:
        assert "POST /api/v1/principals" in refused


def test_without_credentials_every_route_but_the_public_ones_is_401_with_a_challenge(matrix: ServerProcess) -> None:
    with httpx.Client(base_url=matrix.base_url, timeout=30.0) as client:
        for route in in_order():
            permission = ROUTES[route]
            method, path = request_of(route)
            answer = client.request(method, path, json={} if method == "POST" else None)
            if permission is not None and permission.public:
                assert answer.status_code != 401, route
                continue
            assert_problem(answer, 401)
            assert answer.headers["www-authenticate"] == 'Bearer realm="chronicle"', route


@pytest.mark.parametrize(
    "credential",
    ["cht_" + "A" * 43, "chr_0badcafe_" + "B" * 43, "not-a-token", "chf_" + "C" * 43],
    ids=["unknown-token", "unknown-key", "garbage", "refresh-token-as-bearer"],
)
def test_a_credential_that_is_not_valid_is_401_saying_the_token_is_invalid(
    matrix: ServerProcess, credential: str
) -> None:
    answer = httpx.get(f"{matrix.base_url}/api/v1/lots", headers=bearer(credential), timeout=30)

    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"] == 'Bearer realm="chronicle", error="invalid_token"'


def test_a_refused_route_is_in_the_security_log_with_the_route(matrix: ServerProcess) -> None:
    operator = credentials_of(matrix, Role.OPERATOR)
    assert httpx.post(f"{matrix.base_url}/api/v1/materials", json={}, headers=operator, timeout=30).status_code == 403
    auditor = credentials_of(matrix, Role.AUDITOR)

    page = httpx.get(
        f"{matrix.base_url}/api/v1/security/events",
        params={"kind": "permission-denied", "principal": username(Role.OPERATOR)},
        headers=auditor,
        timeout=30,
    ).json()

    assert any(e["detail"] == "route=POST /api/v1/materials" for e in page["items"]), page
    assert all(e["client"] == "127.0.0.1" for e in page["items"])


def test_cross_origin_requests_are_not_allowed_unless_configured(matrix: ServerProcess) -> None:
    answer = httpx.options(
        f"{matrix.base_url}/api/v1/lots",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        timeout=30,
    )

    assert "access-control-allow-origin" not in answer.headers
