"""A real `mes serve` on PostgreSQL while the database fails under it: backends terminated under load,
and a private server stopped and started. Counted: 5xx answers, acknowledged commands lost, commands
recorded twice. A command answered 503 is sent again with the same Idempotency-Key, as a client would.

The server is `mes serve` with a short store budget (MES_STORE_BUDGET_S) and PGAPPNAME set, so that
the test terminates its own server's connections and no one else's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
import psycopg
import pytest

from api.demo import request_for
from application.commands import Command
from application.traceability.lots import MoveLot
from infrastructure.migrations import migrate
from infrastructure.settings import Settings, parse_postgres_url, postgres_url
from tests.accounts import provision_machine
from tests.builders import Plant, new_id, unique
from tests.e2e.conftest import (
    REPO_ROOT,
    ServerProcess,
    assert_problem,
    free_port,
    server_failures,
    stop,
    store_environment,
    wait_until_ready,
)
from tests.private_postgres import PrivatePostgres, private_postgres

CLIENTS = 16
MOVES_PER_CLIENT = 12
WAIT_S = 60.0


@contextmanager
def serving(store_env: dict[str, str], directory: Path, *, budget: float, app_name: str) -> Iterator[ServerProcess]:
    """`mes serve` on a migrated store, with this store budget and application_name."""
    settings = Settings.from_env(store_env)
    migrate(settings)
    key = provision_machine(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
    env |= store_env | {
        "MES_STORE_BUDGET_S": str(budget),
        "PGAPPNAME": app_name,
    }
    port = free_port()
    log_path = directory / f"mes-serve-{port}.stderr"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
            [
                sys.executable,
                "-m",
                "api.cli",
                "--log-level",
                "INFO",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    server = ServerProcess("postgres", f"http://127.0.0.1:{port}", process, log_path, key)
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop(process)


@dataclass
class Tally:
    """What the clients saw: the commands acknowledged (id -> location), every status, and 503s."""

    acknowledged: dict[str, dict[str, str]] = field(default_factory=dict)  # lot -> {command id: location}
    statuses: list[int] = field(default_factory=list)
    unavailable: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)

    def count(self) -> int:
        with self.lock:
            return sum(len(moves) for moves in self.acknowledged.values())

    def wait_for(self, acknowledged: int, timeout: float = WAIT_S) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: self.count_locked() >= acknowledged, timeout), "the load stalled"

    def count_locked(self) -> int:
        return sum(len(moves) for moves in self.acknowledged.values())


def post(client: httpx.Client, command: Command) -> httpx.Response:
    """POSTs a command to its route with its id as Idempotency-Key."""
    path, body, headers = request_for(command)
    return client.post(path, content=msgspec.json.encode(body), headers={**headers, "Content-Type": "application/json"})


def send_until_answered(client: httpx.Client, command: Command, tally: Tally) -> httpx.Response:
    """Sends a command; after a 503, sends it again (same Idempotency-Key) once Retry-After has passed."""
    deadline = time.monotonic() + WAIT_S
    while True:
        response = post(client, command)
        with tally.lock:
            tally.statuses.append(response.status_code)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        assert_problem(response, 503)
        with tally.lock:
            tally.unavailable += 1
        # Retry-After is the server's own pacing, not a wait for the test's condition.
        threading.Event().wait(float(response.headers["Retry-After"]))


def client_load(server: ServerProcess, plant: Plant, tally: Tally, errors: list[BaseException]) -> None:
    """One client: receives a lot of its own, then moves it again and again, each move a new command."""
    try:
        with client_of(server) as client:
            lot = unique("LOT")
            response = send_until_answered(client, plant.receive(lot), tally)
            assert response.status_code == 201, response.text
            with tally.lock:
                tally.acknowledged[lot] = {}
            for n in range(MOVES_PER_CLIENT):
                move = MoveLot(command_id=new_id(), lot_number=lot, location=f"RACK-{n}")
                response = send_until_answered(client, move, tally)
                if response.status_code == 202:
                    with tally.lock:
                        tally.acknowledged[lot][move.command_id] = move.location
                        tally.lock.notify_all()
    except BaseException as error:
        errors.append(error)


def run_load(server: ServerProcess, plant: Plant, tally: Tally) -> tuple[list[threading.Thread], list[BaseException]]:
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=client_load, args=(server, plant, tally, errors), daemon=True) for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    return threads, errors


def client_of(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=WAIT_S, headers=server.headers)


def finish(threads: list[threading.Thread], errors: list[BaseException]) -> None:
    for thread in threads:
        thread.join(timeout=WAIT_S * 3)
        assert not thread.is_alive(), "a client never got its answers"
    assert not errors, errors


def assert_nothing_lost_or_doubled(client: httpx.Client, tally: Tally) -> None:
    """Every acknowledged command is in its lot's history once, and no command is there twice; the
    read model reaches the log's head."""
    assert all(status < 500 for status in tally.statuses), sorted(set(tally.statuses))
    head = 0
    for lot, moves in tally.acknowledged.items():
        response = client.get(f"/api/v1/lots/{lot}/history")
        assert response.status_code == 200, response.text
        recorded = [entry["command_id"] for entry in response.json()["events"]]
        assert len(recorded) == len(set(recorded)), f"{lot}: a command recorded twice: {recorded}"
        assert set(moves) <= set(recorded), f"{lot}: acknowledged moves lost: {set(moves) - set(recorded)}"
        assert len(recorded) <= 1 + MOVES_PER_CLIENT
        head = max(head, int(client.get("/api/v1/health").json()["position"]))
    for lot in tally.acknowledged:
        response = client.get(f"/api/v1/lots/{lot}", params={"min_position": head})
        assert response.status_code == 200, response.text


def assert_quiet_log(server: ServerProcess) -> str:
    """No traceback or unhandled error in the server's log; what it logged."""
    log = server.unread_log()
    assert server_failures(log) is None, log
    return log


def terminate_backends(admin_url: str, app_name: str) -> int:
    """Terminates every connection of the server under test (by its application_name)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
            "AND usename = 'chronicle_app' AND pid <> pg_backend_pid()",
            (app_name,),
        ).fetchall()
    return len(rows)


def setup_plant(server: ServerProcess) -> Plant:
    plant = Plant.named()
    with client_of(server) as client:
        for command in plant.commands():
            assert post(client, command).status_code == 201
    return plant


def test_commands_survive_terminated_connections_without_5xx_loss_or_duplicates(tmp_path: Path) -> None:
    app_name = f"chronicle-faults-{uuid.uuid4().hex[:8]}"
    with store_environment("postgres", tmp_path) as store_env:
        admin = parse_postgres_url(store_env["MES_ADMIN_DATABASE_URL"])
        with serving(store_env, tmp_path, budget=10.0, app_name=app_name) as server:
            plant = setup_plant(server)
            tally = Tally()
            threads, errors = run_load(server, plant, tally)
            terminated = 0
            total = CLIENTS * MOVES_PER_CLIENT
            for share in (0.15, 0.35, 0.55, 0.75):
                tally.wait_for(int(total * share))
                terminated += terminate_backends(admin.conninfo(), app_name)
            finish(threads, errors)
            assert terminated >= 4
            assert tally.count() == total, "a command was refused"
            with client_of(server) as client:
                assert_nothing_lost_or_doubled(client, tally)
            assert_quiet_log(server)


@pytest.fixture(scope="module")
def private_server() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


def private_store(server: PrivatePostgres) -> dict[str, str]:
    admin = parse_postgres_url(server.url())
    schema = f"f_{uuid.uuid4().hex[:10]}"
    return {
        "MES_DATABASE_URL": postgres_url(admin, user="chronicle_app", schema=schema),
        "MES_ADMIN_DATABASE_URL": postgres_url(admin, schema=schema),
    }


def test_commands_survive_a_restart_shorter_than_the_budget_without_5xx_loss_or_duplicates(
    private_server: PrivatePostgres, tmp_path: Path
) -> None:
    with serving(private_store(private_server), tmp_path, budget=15.0, app_name="chronicle-restart") as server:
        plant = setup_plant(server)
        tally = Tally()
        threads, errors = run_load(server, plant, tally)
        tally.wait_for(CLIENTS * MOVES_PER_CLIENT // 3)
        private_server.stop()
        private_server.start()
        finish(threads, errors)
        assert tally.unavailable == 0, "a command waited longer than the budget"
        assert tally.count() == CLIENTS * MOVES_PER_CLIENT
        with client_of(server) as client:
            assert_nothing_lost_or_doubled(client, tally)
        log = assert_quiet_log(server)
        assert log.count("paused: store unreachable") <= 1, log  # one warning, not one per attempt


def test_an_outage_longer_than_the_budget_answers_503_then_commands_reads_and_projections_recover(
    private_server: PrivatePostgres, tmp_path: Path
) -> None:
    with serving(private_store(private_server), tmp_path, budget=1.0, app_name="chronicle-outage") as server:
        plant = setup_plant(server)
        with client_of(server) as client:
            lot = unique("LOT")
            assert post(client, plant.receive(lot)).status_code == 201
            private_server.stop()
            try:
                moved = MoveLot(command_id=new_id(), lot_number=lot, location="RACK-OUTAGE")
                refused = post(client, moved)
                problem = assert_problem(refused, 503)
                assert int(refused.headers["Retry-After"]) >= 1
                assert "Idempotency-Key" in problem["detail"]
                assert_problem(client.get(f"/api/v1/lots/{lot}"), 503)
                assert_problem(client.get(f"/api/v1/lots/{lot}/history"), 503)
            finally:
                private_server.start()
            accepted = post(client, moved)  # the same key, sent again
            assert accepted.status_code == 202, accepted.text
            position = accepted.json()["position"]
            view = client.get(f"/api/v1/lots/{lot}", params={"min_position": position})
            assert view.status_code == 200, view.text
            assert view.json()["location"] == "RACK-OUTAGE"
            again = post(client, moved)
            assert again.headers.get("Idempotent-Replayed") == "true"
            history = client.get(f"/api/v1/lots/{lot}/history").json()["events"]
            assert [e["command_id"] for e in history].count(moved.command_id) == 1
        assert_quiet_log(server)
