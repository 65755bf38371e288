"""The in-process supervisor: a view that keeps failing is retried with backoff and reported in
/health, while the other views keep up with the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import msgspec
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.capability import Capability
from api.demo import request_for
from api.runtime import Runtime
from api.traceability import CAPABILITY as TRACEABILITY
from application.traceability.lots import HoldLot
from domain.material_lot import MaterialLot
from infrastructure.settings import Settings
from projections.runner import ReadModelProjection, Recorded, applies
from projections.store import ReadStore, open_read_store
from projections.supervisor import ProjectionSupervisor
from projections.traceability.equipment import EquipmentProjection
from projections.traceability.lots import LotsProjection
from tests.accounts import bearer, provision_machine
from tests.builders import next_id, plant_commands, receive
from tests.integration.scenarios import run

T = TypeVar("T")
JSON = {"Content-Type": "application/json"}


class HoldsWatchProjection(ReadModelProjection):
    """A view with a bug: it fails on every hold until `mended` is set."""

    name = "holds_watch"
    tables = ()
    mended = False

    @applies(MaterialLot.Held)
    def held(self, r: Recorded) -> None:
        if not type(self).mended:
            msg = f"no column for the hold of {r.event.originator_id}"
            raise RuntimeError(msg)


@pytest.fixture
def broken_view() -> Iterator[type[HoldsWatchProjection]]:
    HoldsWatchProjection.mended = False
    yield HoldsWatchProjection
    HoldsWatchProjection.mended = False


def positions(store: ReadStore, *names: str) -> dict[str, int]:
    with store.reader() as tx:
        return {name: tx.position(name) or 0 for name in names}


def test_a_failing_view_is_retried_and_reported_while_the_others_keep_up(
    runtime: Runtime, settings: Settings, broken_view: type[HoldsWatchProjection]
) -> None:
    run(runtime, [*plant_commands(), receive("LOT-1"), HoldLot(command_id=next_id(), lot_number="LOT-1", reason="x")])
    head = runtime.app.max_position()
    store = open_read_store(settings)
    supervisor = ProjectionSupervisor(
        runtime.app, store, [EquipmentProjection, broken_view, LotsProjection], first_retry_s=0.0
    )
    try:
        supervisor.catch_up()
        first = supervisor.failing()
        supervisor.catch_up()  # no pause before the next attempt: tried again, failed again
        second = supervisor.failing()
        at_fault = positions(store, "equipment", "holds_watch", "lots")
        broken_view.mended = True
        supervisor.catch_up()
        mended = supervisor.failing()
        recovered = positions(store, "holds_watch")
    finally:
        store.close()

    assert [(f.name, f.failures) for f in first] == [("holds_watch", 1)]
    assert "no column for the hold" in first[0].error
    assert [(f.name, f.failures) for f in second] == [("holds_watch", 2)]
    assert at_fault["equipment"] == at_fault["lots"] == head
    assert at_fault["holds_watch"] < head
    assert mended == []
    assert recovered == {"holds_watch": head}


def test_health_names_a_failing_view_and_says_the_service_is_degraded(
    settings: Settings, broken_view: type[HoldsWatchProjection]
) -> None:
    watched = Capability("watch", handlers={}, command_routes=(), query_routes=(), projections=(broken_view,))
    app = create_app(settings, capabilities=(TRACEABILITY, watched))
    hold = HoldLot(command_id=next_id(), lot_number="LOT-1", reason="suspect")
    with TestClient(app) as client:
        client.headers.update(bearer(provision_machine(settings)))
        for command in (*plant_commands(), receive("LOT-1"), hold):
            path, body, headers = request_for(command)
            sent = client.post(path, content=msgspec.json.encode(body), headers=headers | JSON)
            assert sent.status_code in (201, 202), sent.text
        # The others keep up while the broken view fails: wait until both show.
        health = wait_for(
            lambda: client.get("/api/v1/health").json(),
            lambda h: bool(h["failing"]) and lags_of(h)["lots"] == lags_of(h)["equipment"] == 0,
        )

    assert health["status"] == "degraded"
    assert [f["name"] for f in health["failing"]] == ["holds_watch"]
    assert "no column for the hold" in health["failing"][0]["error"]
    assert lags_of(health)["holds_watch"] > 0


def lags_of(health: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["lag"] for p in health["projections"]}


def wait_for(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 15.0) -> T:
    """Reads until `done` holds, or fails the test after `timeout` seconds (a bounded poll)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            assert done(value), f"not within {timeout} s: {value}"
            return value
        threading.Event().wait(0.05)
