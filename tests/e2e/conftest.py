"""A real `mes serve` process on each store, the client that talks to it, and builders for a small plant.

The server is started as an operator would start it (`python -m api.cli serve`) on a free loopback
port, after the store is migrated, and stopped by its pid. Its stderr goes to a file that is read
after every test: a traceback or an 'unhandled error' there fails the test that caused it.

PostgreSQL is the server of tests/integration (MES_TEST_POSTGRES_URL); each server gets a fresh schema,
dropped when the server has stopped. Unreachable, the PostgreSQL half skips, or fails under CI=true.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg
import pytest

from api.demo import request_for
from application.commands import Command
from infrastructure.migrations import migrate
from infrastructure.settings import Settings, parse_postgres_url, postgres_url
from tests.accounts import bearer, provision_machine
from tests.builders import Plant, unique
from tests.integration.conftest import postgres_or_skip

REPO_ROOT = Path(__file__).resolve().parents[2]
STORES = ["sqlite", "postgres"]
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
POLL_S = 0.05
SERVER_FAILURE_MARKS = ("Traceback", "unhandled error")
PROBLEM_JSON = "application/problem+json"


@dataclass
class ServerProcess:
    """One running `mes serve`: where it listens, its process, and its stderr."""

    store: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    key: str = ""  # the API key of PRINCIPAL_ID (a server started by a test alone may have none)
    checked: int = field(default=0)

    @property
    def headers(self) -> dict[str, str]:
        """What a client sends to act as PRINCIPAL_ID."""
        return bearer(self.key)

    def unread_log(self) -> str:
        """What the server wrote to stderr since the last call."""
        data = self.log_path.read_bytes()
        text = data[self.checked :].decode(errors="replace")
        self.checked = len(data)
        return text


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_failures(log: str) -> str | None:
    """The log, if it shows that the server failed (a traceback, an unhandled error); None if clean."""
    return log if any(mark in log for mark in SERVER_FAILURE_MARKS) else None


def fail_if_the_server_failed(server: ServerProcess, when: str, request: pytest.FixtureRequest | None = None) -> None:
    """Fails the test if the server logged a failure since the last look.

    A test that documents a known product bug (xfail) may leave that bug's trace in the log.
    """
    failures = server_failures(server.unread_log())
    if failures and (request is None or request.node.get_closest_marker("xfail") is None):
        pytest.fail(f"mes serve ({server.store}) logged a failure {when}:\n{failures}")


@contextmanager
def store_environment(store: str, directory: Path) -> Iterator[dict[str, str]]:
    """The MES_* variables of a fresh store: an SQLite file in `directory`, or a PostgreSQL schema."""
    if store == "sqlite":
        yield {"MES_DATABASE_URL": f"sqlite:///{directory / 'chronicle.db'}"}
        return
    admin = parse_postgres_url(postgres_or_skip())
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    try:
        yield {
            "MES_DATABASE_URL": postgres_url(admin, user="chronicle_app", schema=schema),
            "MES_ADMIN_DATABASE_URL": postgres_url(admin, schema=schema),
        }
    finally:
        with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def wait_until_ready(server: ServerProcess, verify: ssl.SSLContext | bool = True) -> None:
    """Polls /health until it answers, the process dies, or READY_TIMEOUT_S has passed (over
    HTTPS, `verify` is the client's TLS context)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=server.base_url, timeout=2.0, verify=verify) as client:
        while True:
            if server.process.poll() is not None:
                pytest.fail(f"mes serve exited with {server.process.returncode}:\n{server.unread_log()}")
            try:
                if client.get("/api/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail(f"mes serve was not ready within {READY_TIMEOUT_S} s:\n{server.unread_log()}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=POLL_S)  # a short pause that also notices an early exit


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down gracefully), SIGKILL if it has not exited in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def running_server(
    store: str,
    directory: Path,
    *options: str,
    env_extra: dict[str, str] | None = None,
    setup: Callable[[Settings], None] | None = None,
) -> Iterator[ServerProcess]:
    """Migrates a fresh store in-process, with the tests' machine account (and what `setup` adds),
    serves it from a child process (`mes serve` with these options), stops it afterwards."""
    with store_environment(store, directory) as store_env:
        settings = Settings.from_env(store_env)
        migrate(settings)
        key = provision_machine(settings)
        if setup is not None:
            setup(settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
        # Every test signs in from 127.0.0.1: the sign-in limits are tested on a server of their own.
        env |= store_env | {"MES_SIGN_IN_PER_MINUTE": "100000"} | (env_extra or {})
        port = free_port()
        log_path = directory / f"mes-serve-{store}-{port}.stderr"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
                [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *options],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        server = ServerProcess(store, f"http://127.0.0.1:{port}", process, log_path, key)
        try:
            wait_until_ready(server)
            yield server
        finally:
            stop(process)


@pytest.fixture(scope="session", params=STORES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per store for the whole session; tests keep apart by naming everything uniquely."""
    with running_server(request.param, tmp_path_factory.mktemp(f"serve-{request.param}")) as running:
        yield running
    fail_if_the_server_failed(running, "after the last test")


@pytest.fixture(params=STORES)
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, for a test that may leave the server unable to serve others."""
    with running_server(request.param, tmp_path) as running:
        yield running
    fail_if_the_server_failed(running, "during this test", request)


class Api:
    """The HTTP API of one server as a client sees it, with shortcuts to send commands."""

    def __init__(self, client: httpx.Client, server: ServerProcess) -> None:
        self.client = client
        self.server = server

    def send(self, command: Command) -> httpx.Response:
        """POSTs a command to its route, its id as Idempotency-Key (the request `mes demo` sends)."""
        path, body, headers = request_for(command)
        return self.post(path, body, headers)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(
            path, content=msgspec.json.encode(body), headers={**(headers or {}), "Content-Type": "application/json"}
        )

    def run(self, *commands: Command) -> dict[str, Any]:
        """Sends each command, insisting that each is accepted; the last answer."""
        answer: dict[str, Any] = {}
        for command in commands:
            response = self.send(command)
            assert response.status_code in (201, 202), (
                f"{type(command).__name__} was refused: {response.status_code} {response.text}"
            )
            answer = response.json()
        return answer

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params={k: v for k, v in params.items() if v is not None})

    def read(self, path: str, **params: Any) -> Any:
        """GETs a view that must answer 200; its JSON."""
        response = self.get(path, **params)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def position(self) -> int:
        """The head of the notification log: it moves only when something is recorded."""
        return int(self.read("/api/v1/health")["position"])


@pytest.fixture
def api(server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[Api]:
    """A client of the session's server; the test fails if the server logged a failure meanwhile."""
    fail_if_the_server_failed(server, "before this test started")
    with httpx.Client(base_url=server.base_url, timeout=30.0, headers=server.headers) as client:
        yield Api(client, server)
    fail_if_the_server_failed(server, "during this test", request)


@pytest.fixture
def fresh_api(fresh_server: ServerProcess) -> Iterator[Api]:
    with httpx.Client(base_url=fresh_server.base_url, timeout=30.0, headers=fresh_server.headers) as client:
        yield Api(client, fresh_server)


@pytest.fixture
def plant(api: Api) -> Plant:
    """A plant of this test's own, registered through the API."""
    built = Plant.named()
    api.run(*built.commands())
    return built


def receipt_body(plant: Plant, **changes: Any) -> dict[str, Any]:
    """A valid ReceiveLot body, changed as given (a value of None removes the field)."""
    body: dict[str, Any] = {
        "lot_number": unique("LOT"),
        "material_code": plant.sugar,
        "quantity": {"value": "10", "unit": "kg"},
        "location": "WH-RAW",
        "supplier_lot": "NS-1",
    }
    body |= changes
    return {k: v for k, v in body.items() if v is not None}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; its body."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("https://")
    assert problem["title"]
    return problem
