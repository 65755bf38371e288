"""The write side on real SQLite and PostgreSQL stores."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import msgspec
import psycopg
import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent

from api.runtime import Runtime, build_runtime
from application.bus import CommandResult
from application.traceability.work_orders import HoldWorkOrder
from domain.errors import IllegalTransitionError, InsufficientQuantityError
from domain.ids import lot_id, work_order_id
from domain.material_lot import MaterialLot
from domain.values import LotStatus, RequestState
from domain.work_order import WorkOrder
from infrastructure.migrations import migrate
from infrastructure.settings import Settings
from tests.builders import consume, context, next_id, plant_commands, provenance, qty, receive, running_order
from tests.fakes import SteppingClock


def run(runtime: Runtime, *commands: Any) -> list[CommandResult]:
    return [runtime.bus.execute(command, context()) for command in commands]


def seed(runtime: Runtime) -> None:
    run(runtime, *plant_commands(), receive("SUG-1", value=100), *running_order("WO-1"))


def test_consuming_saves_the_lot_and_the_order_in_one_transaction(runtime: Runtime) -> None:
    seed(runtime)
    before = runtime.app.max_position()
    (result,) = run(runtime, consume("WO-1", "SUG-1", 30))
    assert result.position == before + 2
    lot_events = runtime.app.history(lot_id("SUG-1"))
    order_events = runtime.app.history(work_order_id("WO-1"))
    assert type(lot_events[-1]).__name__ == "Consumed"
    assert type(order_events[-1]).__name__ == "MaterialConsumed"
    assert lot_events[-1].provenance.command_id == order_events[-1].provenance.command_id == result.command_id


def test_a_save_that_conflicts_on_one_aggregate_records_none_of_them(runtime: Runtime) -> None:
    seed(runtime)
    lot: MaterialLot = runtime.app.repository.get(lot_id("SUG-1"))
    stale_order: WorkOrder = runtime.app.repository.get(work_order_id("WO-1"))
    fresh_order: WorkOrder = runtime.app.repository.get(work_order_id("WO-1"))
    fresh_order.hold(reason="line stop", provenance=provenance())
    runtime.app.save(fresh_order)

    lot.consume(qty(10, "kg"), order_number="WO-1", operation=10, equipment_code="MIX", provenance=provenance())
    stale_order.report_consumption(
        lot_number="SUG-1",
        material_code="SUGAR",
        quantity=qty(10, "kg"),
        operation=10,
        equipment_code="MIX",
        provenance=provenance(),
    )
    with pytest.raises(IntegrityError):
        runtime.app.save(lot, stale_order)

    stored_lot: MaterialLot = runtime.app.repository.get(lot_id("SUG-1"))
    assert stored_lot.quantity == qty(100, "kg")
    assert stored_lot.version == 1


def test_two_writers_on_one_lot_never_take_more_than_it_holds(open_runtime: Callable[[], Runtime]) -> None:
    first, second = open_runtime(), open_runtime()
    seed(first)
    run(second, *running_order("WO-2"))
    run(second, consume("WO-2", "SUG-1", 1))  # the second writer now caches the lot at this version
    run(first, consume("WO-1", "SUG-1", 60))  # so its cached lot is stale from here on

    with pytest.raises(InsufficientQuantityError):
        run(second, consume("WO-2", "SUG-1", 60))

    lot: MaterialLot = second.app.repository.get(lot_id("SUG-1"))
    assert lot.quantity == qty(39, "kg")
    order: WorkOrder = second.app.repository.get(work_order_id("WO-2"))
    assert order.consumed["SUGAR"] == qty(1, "kg")


def test_a_stale_cache_is_retried_on_fresh_state_and_then_obeys_the_rules(
    open_runtime: Callable[[], Runtime],
) -> None:
    first, second = open_runtime(), open_runtime()
    seed(first)
    run(first, consume("WO-1", "SUG-1", 1))  # warms the first writer's cache with the order
    run(second, HoldWorkOrder(command_id=next_id(), order_number="WO-1", reason="QA alert"))
    with pytest.raises(IllegalTransitionError, match="Held"):
        run(first, consume("WO-1", "SUG-1", 5))
    lot: MaterialLot = first.app.repository.get(lot_id("SUG-1"))
    assert lot.quantity == qty(99, "kg")


def test_concurrent_writers_in_two_processes_lose_nothing(open_runtime: Callable[[], Runtime]) -> None:
    first, second = open_runtime(), open_runtime()
    seed(first)
    run(first, *[receive(f"W-{i}", material="WATER", value=1000, unit="L") for i in range(4)])
    commands = [consume("WO-1", f"W-{i % 4}", 1, unit="L") for i in range(80)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda ic: (first if ic[0] % 2 else second).bus.execute(ic[1], context()), enumerate(commands))
        )
    assert len({r.position for r in results}) == 80
    order: WorkOrder = first.app.repository.get(work_order_id("WO-1"))
    assert order.consumed["WATER"] == qty(80, "L")
    total_left = sum((first.app.repository.get(lot_id(f"W-{i}")).quantity.value for i in range(4)), Decimal(0))
    assert total_left == 4000 - 80


def test_a_repeated_command_after_a_restart_returns_the_first_answer(open_runtime: Callable[[], Runtime]) -> None:
    first = open_runtime()
    seed(first)
    command = consume("WO-1", "SUG-1", 25)
    (original,) = run(first, command)
    first.close()

    restarted = open_runtime()
    position_before = restarted.app.max_position()
    (again,) = run(restarted, command)
    assert again.replayed
    assert (again.position, again.result) == (original.position, original.result)
    assert restarted.app.max_position() == position_before
    lot: MaterialLot = restarted.app.repository.get(lot_id("SUG-1"))
    assert lot.quantity == qty(75, "kg")


def test_stored_events_cannot_be_updated_or_deleted(settings: Settings, runtime: Runtime) -> None:
    seed(runtime)
    if settings.is_postgres:
        app_role, admin = settings.postgres(), settings.postgres(admin=True)
        table = f'"{app_role.schema}".chronicle_events'
        with psycopg.connect(app_role.conninfo(), autocommit=True) as conn:
            for statement in (f"UPDATE {table} SET topic = 'x'", f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
        with psycopg.connect(admin.conninfo(), autocommit=True) as conn:  # even the owner is refused
            for statement in (f"UPDATE {table} SET topic = 'x'", f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    conn.execute(statement)
    else:
        with sqlite3.connect(settings.sqlite_path) as conn:
            for statement in ("UPDATE stored_events SET topic = 'x'", "DELETE FROM stored_events"):
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(statement)
    lot: MaterialLot = runtime.app.repository.get(lot_id("SUG-1"))
    assert lot.status is LotStatus.AVAILABLE
    assert runtime.app.max_position() == len(plant_commands()) + 1 + 3


class Sample(Aggregate):
    """A retained sample; its event gained a unit in version 2."""

    class Taken(Aggregate.Created):
        class_version = 2
        lot_number: str
        amount: Decimal
        unit: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["unit"] = "g"  # version 1 samples were always weighed in grams

    def __init__(self, lot_number: str, amount: Decimal, unit: str) -> None:
        self.lot_number = lot_number
        self.amount = amount
        self.unit = unit


def test_an_event_stored_by_an_older_version_is_upcast_when_read(runtime: Runtime) -> None:
    sample_id = lot_id("SAMPLE-1")
    v1_state = msgspec.json.encode(
        {
            "timestamp": "2025-01-02T03:04:05Z",
            "originator_topic": f"{__name__}:Sample",
            "lot_number": "L-9",
            "amount": "12.5",
        }
    )
    runtime.app.recorder.insert_events([StoredEvent(sample_id, 1, f"{__name__}:Sample.Taken", v1_state)])
    sample: Sample = runtime.app.repository.get(sample_id)
    assert (sample.lot_number, sample.amount, sample.unit) == ("L-9", Decimal("12.5"), "g")

    fresh = Sample(lot_number="L-10", amount=Decimal(3), unit="kg")
    runtime.app.save(fresh)
    stored = runtime.app.recorder.select_events(fresh.id)[0]
    assert msgspec.json.decode(stored.state)["class_version"] == 2
    assert runtime.app.repository.get(fresh.id).unit == "kg"


def test_the_order_keeps_its_state_across_a_restart(open_runtime: Callable[[], Runtime]) -> None:
    first = open_runtime()
    seed(first)
    first.close()
    order: WorkOrder = open_runtime().app.repository.get(work_order_id("WO-1"))
    assert order.state is RequestState.RUNNING


@pytest.fixture
def postgres_settings(postgres_schema: tuple[str, str]) -> Settings:
    app_url, admin_url = postgres_schema
    settings = Settings.from_env({"MES_DATABASE_URL": app_url, "MES_ADMIN_DATABASE_URL": admin_url})
    migrate(settings)
    return settings


def test_a_batch_that_fails_before_commit_records_nothing_and_the_next_one_commits(
    postgres_settings: Settings,
) -> None:
    runtime = build_runtime(postgres_settings, clock=SteppingClock())
    try:
        seed(runtime)
        recorder = runtime.app.recorder
        recorder.lock_statement = recorder.lock_statement.replace("'10s'", "'100ms'")  # type: ignore[attr-defined]
        key = int(recorder.lock_statement.split("pg_advisory_xact_lock(")[1].split(")")[0])  # type: ignore[attr-defined]
        before = runtime.app.max_position()
        with psycopg.connect(postgres_settings.postgres(admin=True).conninfo(), autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(%s)", (key,))  # another writer holds the events
            for _ in range(3):  # each on a new connection: the failed one is closed
                with pytest.raises(OperationalError, match="lock timeout"):
                    run(runtime, consume("WO-1", "SUG-1", 1))
            other.execute("SELECT pg_advisory_unlock(%s)", (key,))
        assert runtime.app.max_position() == before

        results = run(runtime, *(consume("WO-1", "SUG-1", 1) for _ in range(8)))
        assert [r.position for r in results] == list(range(before + 2, before + 17, 2))
        lot: MaterialLot = runtime.app.repository.get(lot_id("SUG-1"))
        assert lot.quantity == qty(92, "kg")
    finally:
        runtime.close()
