"""The operations routes: the API's front page, health with each projection's position and lag, readiness.

Readiness is seen failing for real on a `mes serve --no-projections` process, whose projections never
move after a command, and on an app whose read store cannot be reached or does not answer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

import projections.status
from api.app import create_app
from api.capabilities import PROJECTIONS as ALL_PROJECTIONS
from infrastructure.migrations import migrate
from infrastructure.settings import Settings
from projections.store import ReadStore, Tx
from tests.builders import Plant
from tests.e2e.conftest import (
    Api,
    ServerProcess,
    assert_problem,
    fail_if_the_server_failed,
    running_server,
)

PROJECTION_NAMES = {p.name for p in ALL_PROJECTIONS}
DOCS = {"/api/v1/docs", "/api/v1/docs/swagger", "/api/v1/docs/openapi.json"}
PARTS = {"health", "ready", "equipment", "materials", "lots", "inventory", "work-orders", "wip", "genealogy"}
PARTS |= {"login", "security-events"}
CATCH_UP_TIMEOUT_S = 30.0


def server_without_projections(store: str, directory: Path) -> AbstractContextManager[ServerProcess]:
    """`mes serve --no-projections` on a fresh store: it records commands, and nothing projects them."""
    return running_server(store, directory, "--no-projections")


def ready_within(api: Api, timeout_s: float) -> httpx.Response:
    """Asks /ready until it answers 200 or `timeout_s` has passed; its last answer. Each ask waits on the
    server (up to a second) for the projections, so the loop needs no pause of its own."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = api.get("/api/v1/ready")
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer


@pytest.mark.parametrize("path", ["/", "/api/v1"])
def test_the_root_and_the_api_root_point_at_the_docs_and_list_the_parts(api: Api, path: str) -> None:
    index = api.read(path)

    assert {link["href"] for link in index["docs"]} == DOCS
    assert {link["name"] for link in index["parts"]} == PARTS
    for link in index["docs"]:
        assert api.get(link["href"]).status_code == 200, link
    for link in index["parts"]:
        if "{" not in link["href"]:  # genealogy is under a lot
            assert api.get(link["href"]).status_code != 404, link


def test_the_operations_routes_are_documented_under_their_tag(api: Api) -> None:
    document = api.read("/api/v1/docs/openapi.json")

    for path in ("/", "/api/v1", "/api/v1/health", "/api/v1/ready"):
        assert document["paths"][path]["get"]["tags"] == ["Operations"], path


def test_health_gives_each_projection_its_position_and_lag(api: Api, plant: Plant) -> None:
    health = api.read("/api/v1/health")

    assert health["status"] == "ok"
    assert {p["name"] for p in health["projections"]} == PROJECTION_NAMES
    for projection in health["projections"]:
        assert 0 <= projection["position"] <= health["position"]
        assert projection["lag"] == health["position"] - projection["position"]


def test_readiness_answers_200_once_the_projections_have_caught_up_after_a_command(api: Api) -> None:
    recorded = api.run(*Plant.named().commands())["position"]

    answer = ready_within(api, CATCH_UP_TIMEOUT_S)

    assert answer.status_code == 200, answer.text
    ready = answer.json()
    assert ready["ready"] is True
    assert ready["head"] >= recorded
    assert {p["name"] for p in ready["projections"]} == PROJECTION_NAMES
    assert all(p["lag"] == 0 and p["position"] == ready["head"] for p in ready["projections"])


def test_readiness_is_503_naming_each_projection_when_nothing_projects_the_commands(tmp_path: Path) -> None:
    with (
        server_without_projections("sqlite", tmp_path) as server,
        httpx.Client(base_url=server.base_url, timeout=30.0, headers=server.headers) as client,
    ):
        api = Api(client, server)
        api.run(*Plant.named().commands())
        answer = api.get("/api/v1/ready")
        health = api.read("/api/v1/health")
    fail_if_the_server_failed(server, "during this test")

    problem = assert_problem(answer, 503)
    assert answer.headers["Retry-After"]
    assert problem["type"].endswith("/not-ready")
    for name in PROJECTION_NAMES:
        assert f"{name} at 0 (lag {health['position']})" in problem["detail"]
    assert all(p["position"] == 0 and p["lag"] == health["position"] for p in health["projections"])


class UnreachableReadStore(ReadStore):
    """A read store whose database cannot be opened, as SQLite says when its file's directory is gone."""

    dialect = "sqlite"

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        msg = "unable to open database file"
        raise sqlite3.OperationalError(msg)
        yield  # pragma: no cover


class SilentReadStore(ReadStore):
    """A read store that never answers (a pool waiting for a connection) until the test lets it go."""

    dialect = "sqlite"

    def __init__(self) -> None:
        self.released = threading.Event()

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        self.released.wait(timeout=30)
        msg = "gave up"
        raise sqlite3.OperationalError(msg)
        yield  # pragma: no cover


@contextmanager
def client_with_read_store(tmp_path: Path, read_store: ReadStore) -> Iterator[TestClient[Any]]:
    """The app on a migrated SQLite store, its read store swapped for `read_store`."""
    settings = Settings.from_env({"MES_DATABASE_URL": f"sqlite:///{tmp_path / 'chronicle.db'}"})
    migrate(settings)
    app = create_app(settings, run_projections=False, read_store=read_store)
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/v1/ready", "/api/v1/health"])
def test_a_read_store_that_cannot_be_reached_answers_503_never_500(tmp_path: Path, path: str) -> None:
    with client_with_read_store(tmp_path, UnreachableReadStore()) as client:
        answer = client.get(path)

    problem = assert_problem(answer, 503)
    assert "read store did not answer (OperationalError)" in problem["detail"]


def test_a_read_store_that_does_not_answer_makes_readiness_503_in_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projections.status, "STORE_ANSWER_S", 0.2)
    silent = SilentReadStore()
    with client_with_read_store(tmp_path, silent) as client:
        try:
            answer = client.get("/api/v1/ready")
        finally:
            silent.released.set()  # lets the worker thread go before the client's loop waits for it

    problem = assert_problem(answer, 503)
    assert "read store did not answer (no answer within 0.2 s)" in problem["detail"]
