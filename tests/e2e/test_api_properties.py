"""Property-based: requests generated from the app's own OpenAPI document never make the server fail.

schemathesis reads /api/v1/docs/openapi.json from a real server (one per store, of this module's
own: generated data fills it, after the demo's shift) and sends valid and invalid requests to every
route, some of them aimed at the shift's own lots, orders and equipment. Whatever it sends, the
answer is below 500, every 4xx is problem+json, and nothing reaches the server's error log.

Every check schemathesis has runs on every answer (`call_and_validate`): status codes, content types
and bodies as documented, schema-valid requests accepted and schema-invalid ones refused.

The document is taken as the server gives it, with these changes, each for what a JSON schema cannot
state: `occurred_at` must lie within the business-time window around the server's clock (a year back
to five minutes ahead), so generated times are pinned to yesterday; a `from`-`to` range must run
forward and span at most a year, so `from` is pinned to yesterday morning and `to` to its
afternoon; `/oee` needs exactly one of `equipment` and `line`, so `equipment` is made required
and `line` left out (line OEE is tested in test_performance.py); `cursor` is valid only as the
server made it (an opaque key of a page's last item), so it is left out (paging is tested in
test_api_queries.py and test_api_shape.py); and so is `min_position` (a position ahead waits 5 s
for its 503, tested in test_api_errors.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation, BaseSchema

from api.app import route_permissions
from api.demo_plant import shift
from domain.values import Role
from infrastructure.settings import Settings
from tests.accounts import PRODUCTION_ROLES, bearer, provision_person
from tests.e2e.conftest import (
    PROBLEM_JSON,
    STORES,
    Api,
    ServerProcess,
    fail_if_the_server_failed,
    running_server,
    server_failures,
)

EXAMPLES_PER_ROUTE = 12


ADMIN, ADMIN_PASSWORD = "fuzz-admin", "fuzzing as the administrator"
TARGET = "fuzz-target"  # an account the administrator's routes may change at will


def with_administrator(settings: Settings) -> None:
    provision_person(settings, ADMIN, (Role.ADMIN, Role.AUDITOR), ADMIN_PASSWORD)


@pytest.fixture(scope="module", params=STORES)
def fuzzed_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Second factors are tested in test_access.py; here the administrator signs in with a password.
    directory = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with running_server(
        request.param, directory, env_extra={"MES_MFA_ROLES": "none"}, setup=with_administrator
    ) as running:
        yield running
    fail_if_the_server_failed(running, "after the last request")


@pytest.fixture(scope="module")
def credentials(fuzzed_server: ServerProcess) -> dict[str, dict[str, str]]:
    """What each route is called with: the production machine's key, or the administrator's token
    for the routes only an administrator or auditor may call."""
    with httpx.Client(base_url=fuzzed_server.base_url, timeout=30.0) as client:
        login = client.post("/api/v1/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        admin = bearer(login.json()["access_token"])
        made = client.post(
            "/api/v1/principals",
            json={"username": TARGET, "printed_name": "Fuzz Target", "kind": "machine", "roles": ["operator"]},
            headers=admin,
        )
        assert made.status_code == 201, made.text
    chosen = {}
    for route, permission in route_permissions().items():
        production = permission is not None and permission.allows(PRODUCTION_ROLES)
        chosen[route] = fuzzed_server.headers if production else admin
    return chosen


@pytest.fixture(scope="module")
def known_codes(fuzzed_server: ServerProcess) -> dict[str, list[str]]:
    """Runs the demo's shift on the server; the codes it made, by the path parameter that names them."""
    steps = shift((datetime.now(UTC) - timedelta(hours=12)).replace(minute=0, second=0, microsecond=0))
    with httpx.Client(base_url=fuzzed_server.base_url, timeout=30.0, headers=fuzzed_server.headers) as client:
        Api(client, fuzzed_server).run(*(step.command for step in steps))
    fields = {"lot_number": ("lot_number", "new_lot_number"), "order_number": ("order_number",), "code": ("code",)}
    known = {
        name: sorted({getattr(s.command, f) for s in steps for f in names if getattr(s.command, f, None)})
        for name, names in fields.items()
    }
    return known | {
        "equipment_code": known["code"],
        "calendar_code": known["code"],
        "equipment_class": ["FILLER", "PALLETISER"],
        "username": [TARGET],
        "prefix": ["0badcafe"],
    }


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: ServerProcess) -> BaseSchema:
    document = sharpened(httpx.get(f"{fuzzed_server.base_url}/api/v1/docs/openapi.json", timeout=10.0).json())
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=fuzzed_server.base_url, request_timeout=30)
    return schema


def sharpened(document: dict[str, Any]) -> dict[str, Any]:
    """The document without `min_position` and `cursor`, and with business times pinned inside the window."""
    for operation in (op for path in document["paths"].values() for op in path.values()):
        operation["parameters"] = [
            p for p in operation.get("parameters", []) if p["name"] not in ("min_position", "cursor")
        ]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    plausible = {"type": "string", "format": "date-time", "pattern": f"^{yesterday}T[01][0-9]:[0-5][0-9]:[0-5][0-9]Z$"}
    # A time range must run forward and span at most a year: `from` is pinned to yesterday's first
    # half, `to` to its second half.
    halves = {"from": "[01][0-1]", "to": "1[2-9]"}
    for operation in (op for path in document["paths"].values() for op in path.values()):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in halves and parameter.get("schema", {}).get("format") == "date-time":
                hours = halves[parameter["name"]]
                parameter["schema"] = {"type": "string", "pattern": f"^{yesterday}T{hours}:[0-5][0-9]:[0-5][0-9]Z$"}
    oee = document["paths"]["/api/v1/oee"]["get"]
    oee["parameters"] = [p | {"required": True} if p["name"] == "equipment" else p for p in oee["parameters"]]
    oee["parameters"] = [p for p in oee["parameters"] if p["name"] != "line"]
    for name, component in document["components"]["schemas"].items():
        if name.endswith("Request") and "occurred_at" in component.get("properties", {}):
            component["properties"]["occurred_at"] = {"oneOf": [plausible, {"type": "null"}]}
    return document


def test_no_request_makes_the_server_fail(
    api_schema: BaseSchema,
    fuzzed_server: ServerProcess,
    known_codes: dict[str, list[str]],
    credentials: dict[str, dict[str, str]],
    subtests: pytest.Subtests,
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30  # every route of the API, read from its own document

    for operation in operations:
        with subtests.test(msg=operation.label):
            headers = credentials[f"{operation.method.upper()} {operation.path}"]
            sends_nothing_that_fails(operation, fuzzed_server, known_codes, headers)


def requests_to(operation: APIOperation, known_codes: dict[str, list[str]]) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests, and valid ones naming a lot, order or equipment that exists."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    names = re.findall(r"{(\w+)}", operation.path)
    if names:
        existing = st.fixed_dictionaries({name: st.sampled_from(known_codes[name]) for name in names})
        strategies.append(
            existing.flatmap(lambda path: operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path))
        )
    return st.one_of(strategies)


def reused_key(response: Any) -> bool:
    """A key the generator happened to send before with another body is refused (422
    idempotency-key-reused), as it must be: the tool cannot know what the server remembers, so it
    would call that a schema-valid request rejected. Such answers skip its checks, not this test's."""
    if response.status_code != 422:
        return False
    return bool(response.json().get("rule") == "idempotency-key-reused")


def sends_nothing_that_fails(
    operation: APIOperation, server: ServerProcess, known_codes: dict[str, list[str]], headers: dict[str, str]
) -> None:
    """Requests to one operation: none answered >= 500, each 4xx a problem, nothing in the error log."""
    cases = requests_to(operation, known_codes)

    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def answers_without_failing(case: schemathesis.Case) -> None:
        note(case.as_curl_command())

        response = case.call(headers=headers)
        if not reused_key(response):
            case.validate_response(response)

        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
        )
        if response.status_code >= 400:
            assert response.headers.get("content-type", [""])[0].startswith(PROBLEM_JSON), response.headers
        assert server_failures(server.unread_log()) is None

    answers_without_failing()
