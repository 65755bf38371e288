"""Builders for the read-side tests: histories to project, the events behind them, and view snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from api.demo_plant import shift
from api.runtime import Runtime
from application.bus import CommandResult
from application.commands import AmountIn, Command
from application.traceability.lots import MergeLots, MoveLot, ReceiveLot, SplitLot
from application.traceability.work_orders import (
    BomLineIn,
    ConsumeMaterial,
    CreateWorkOrder,
    OperationIn,
    ReleaseWorkOrder,
    ReportProduction,
    StartWorkOrder,
)
from projections.runner import REBUILD_SUFFIX, ReadModelProjection, ReadModelRunner, Recorded
from projections.store import ReadStore, Row
from tests.builders import T0, context, next_id, q_in

SHIFT_START = T0
REFERENCE_SUFFIX = "__ref"


def run(runtime: Runtime, commands: Iterable[Command]) -> list[CommandResult]:
    """Sends commands one after another, as an operator would."""
    return [runtime.bus.execute(command, context()) for command in commands]


def run_together(runtime: Runtime, commands: Sequence[Command]) -> list[CommandResult]:
    """Sends commands all at once, so that the bus commits them in a few group transactions."""
    futures: list[Future[CommandResult]] = [runtime.bus.submit(command, context()) for command in commands]
    return [future.result(timeout=120) for future in futures]


def run_demo_shift(runtime: Runtime) -> datetime:
    """Runs the demo plant's scripted shift; returns the business time of its last command."""
    steps = shift(SHIFT_START)
    run(runtime, (step.command for step in steps))
    last = steps[-1].command.occurred_at
    assert last is not None
    return last


class Timeline:
    """Commands with business times a few minutes apart, continuing after `start`."""

    def __init__(self, start: datetime) -> None:
        self.time = start

    def at(self, command_type: type[Command], minutes: int = 3, **fields: Any) -> Command:
        self.time += timedelta(minutes=minutes)
        return command_type(command_id=next_id("scn"), occurred_at=self.time, **fields)

    def running_order(self, number: str, product: str, bom: Sequence[tuple[str, str, str]]) -> list[Command]:
        unit = {"SYRUP": "L", "COLA-BTL": "ea"}.get(product, "L")
        return [
            self.at(
                CreateWorkOrder,
                order_number=number,
                product_code=product,
                planned_quantity=q_in(10_000, unit),
                bill_of_materials=[BomLineIn(m, Decimal(per), u) for m, per, u in bom],
                routing=[OperationIn(10, "Mix", "MIXER-1", Decimal("0.5"))],
            ),
            self.at(ReleaseWorkOrder, order_number=number),
            self.at(StartWorkOrder, order_number=number),
        ]

    def consume(self, number: str, lot: str, value: str | int, unit: str) -> Command:
        return self.at(ConsumeMaterial, order_number=number, lot_number=lot, quantity=q_in(value, unit), operation=10)

    def produce(self, number: str, lot: str, good: str | int, unit: str) -> Command:
        return self.at(
            ReportProduction,
            minutes=20,
            order_number=number,
            operation=10,
            good=AmountIn(Decimal(good), unit),
            scrap=AmountIn(Decimal(0), unit),
            lot_number=lot,
        )

    def receive(self, lot: str, material: str, value: str | int, unit: str) -> Command:
        return self.at(
            ReceiveLot,
            minutes=1,
            lot_number=lot,
            material_code=material,
            quantity=q_in(value, unit),
            location="WH-RAW",
            supplier_lot=f"SUP-{lot}",
        )

    def split(self, lot: str, value: str | int, unit: str, into: str) -> Command:
        return self.at(SplitLot, lot_number=lot, quantity=q_in(value, unit), new_lot_number=into)

    def merge(self, lots: Sequence[str], into: str) -> Command:
        return self.at(MergeLots, lot_numbers=list(lots), new_lot_number=into, location="SILO-2")


def genealogy_extras(after: datetime) -> list[Command]:
    """After the demo shift: merges of merges, a lot split with both halves going into different
    orders, an output made with no consumption since the previous report, and outputs merged again."""
    t = Timeline(after)
    syrup_bom = [("SUGAR", "0.1", "kg"), ("WATER", "0.85", "L")]
    return [
        t.receive("X-SUG-A", "SUGAR", 500, "kg"),
        t.receive("X-SUG-B", "SUGAR", 300, "kg"),
        t.receive("X-SUG-C", "SUGAR", 300, "kg"),
        t.receive("X-SUG-D", "SUGAR", 200, "kg"),
        t.receive("X-WAT-1", "WATER", 5000, "L"),
        t.merge(["X-SUG-B", "X-SUG-C"], "X-M1"),
        t.merge(["X-M1", "X-SUG-D"], "X-M2"),
        t.split("X-M2", 100, "kg", "X-M2-S"),
        t.split("X-SUG-A", 200, "kg", "X-SUG-A-1"),
        *t.running_order("X-WO-1", "SYRUP", syrup_bom),
        *t.running_order("X-WO-2", "SYRUP", syrup_bom),
        *t.running_order("X-WO-3", "SYRUP", syrup_bom),
        t.consume("X-WO-1", "X-M2", 150, "kg"),
        t.consume("X-WO-1", "X-M2", 50, "kg"),
        t.consume("X-WO-1", "X-WAT-1", 1700, "L"),
        t.produce("X-WO-1", "X-SYR-1", 2000, "L"),
        t.produce("X-WO-1", "X-SYR-2", 500, "L"),  # nothing consumed in between: shares the inputs
        t.consume("X-WO-2", "X-M2-S", 100, "kg"),
        t.consume("X-WO-2", "X-SUG-A", 300, "kg"),
        t.consume("X-WO-2", "X-WAT-1", 1000, "L"),
        t.produce("X-WO-2", "X-SYR-3", 1200, "L"),
        t.consume("X-WO-3", "X-SUG-A-1", 200, "kg"),
        t.consume("X-WO-3", "X-WAT-1", 800, "L"),
        t.produce("X-WO-3", "X-SYR-4", 900, "L"),
        t.merge(["X-SYR-1", "X-SYR-3"], "X-SYR-M"),
        t.merge(["X-SYR-M", "X-SYR-4"], "X-SYR-MM"),
        t.split("X-SYR-MM", 1000, "L", "X-SYR-MM-1"),
        *t.running_order("X-WO-4", "COLA-BTL", [("SYRUP", "0.2", "L"), ("BOTTLE", "1", "ea")]),
        t.consume("X-WO-4", "X-SYR-MM-1", 600, "L"),
        t.consume("X-WO-4", "X-SYR-2", 400, "L"),
        t.produce("X-WO-4", "X-BTL-1", 3000, "ea"),
        t.consume("X-WO-4", "X-SYR-MM-1", 400, "L"),
        t.produce("X-WO-4", "X-BTL-2", 2000, "ea"),
    ]


def stock_movements(after: datetime, lots: int) -> tuple[list[Command], list[Command]]:
    """Receipts of `lots` bottle lots, then a move of each to the line: a long lots history."""
    t = Timeline(after)
    receipts = [t.receive(f"MV-{i:04d}", "BOTTLE", 100 + i, "ea") for i in range(lots)]
    moves = [t.at(MoveLot, minutes=1, lot_number=f"MV-{i:04d}", location=f"LINE-{i % 3}") for i in range(lots)]
    return receipts, moves


def recorded_events(runtime: Runtime, page: int = 500) -> Iterator[Recorded]:
    """Every event in the notification log, straight from the event store, oldest first."""
    recorder, mapper, position = runtime.app.recorder, runtime.app.mapper, 0
    while notifications := recorder.select_notifications(start=position, limit=page, inclusive_of_start=False):
        for notification in notifications:
            yield Recorded(notification.id, mapper.to_domain_event(notification))
        position = notifications[-1].id


def project(
    runtime: Runtime, store: ReadStore, projection_class: type[ReadModelProjection], page_size: int = 2000
) -> int:
    """Brings one view up to the log head with a single runner; returns its position."""
    runner = ReadModelRunner(runtime.app, store, projection_class(store), page_size=page_size)
    runner.catch_up()
    return runner.position


def reference_snapshot(
    runtime: Runtime, store: ReadStore, projection_class: type[ReadModelProjection]
) -> dict[str, list[Row]]:
    """A view built from scratch by one runner that never stopped, in copies of the view's tables
    (`<table>__ref`), keyed by the real table names so it compares with `snapshot()`."""
    with store.transaction() as tx:
        for table in projection_class.tables:
            store.copy_table(tx, table, table + REFERENCE_SUFFIX)
    runner = ReadModelRunner(
        runtime.app, store, projection_class(store, REFERENCE_SUFFIX), tracking_name=f"{projection_class.name}#ref"
    )
    runner.catch_up()
    return {table: rows_of(store, table + REFERENCE_SUFFIX) for table in projection_class.tables}


def snapshot(store: ReadStore, projection_class: type[ReadModelProjection]) -> dict[str, list[Row]]:
    return {table: rows_of(store, table) for table in projection_class.tables}


def rows_of(store: ReadStore, table: str) -> list[Row]:
    """All rows of a table in a stable order, values as text so that both stores compare alike."""
    with store.reader() as tx:
        rows = tx.execute(f"SELECT * FROM {table}")
    return sorted(({k: _text(v) for k, v in row.items()} for row in rows), key=lambda r: repr(sorted(r.items())))


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def position_of(store: ReadStore, name: str) -> int | None:
    with store.reader() as tx:
        return tx.position(name)


def shadow_tables(store: ReadStore) -> set[str]:
    return {t for t in store.table_names() if t.endswith(REBUILD_SUFFIX)}
