"""A generated production history with a five-level product structure, for benchmarks.

Raw sugar, water, bottles, caps and cartons (level 0) become syrup (1), filled bottles (2), cases
(3) and pallets (4, the finished units). Each pallet has its own chain of lots, made by orders that
each run a hundred chains, so the log looks like a plant's: orders released, started, consuming,
producing, completed and closed. A few giant sugar lots feed everything, so one raw lot reaches
thousands of finished units, as in a real recall.

The events are made by the real aggregates and saved through the application in large batches:
the history is the same as commands would make, just faster to produce.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from application.service import Chronicle
from domain.equipment import Equipment
from domain.material_definition import MaterialDefinition
from domain.material_lot import MaterialLot
from domain.values import (
    Actor,
    ActorKind,
    BomLine,
    EquipmentLevel,
    Operation,
    Provenance,
    Quantity,
    Source,
)
from domain.work_order import WorkOrder

CHAINS_PER_ORDER = 100
EVENTS_PER_CHAIN = 24  # consumptions and productions of one pallet's four levels
ACTOR = Actor("bench-gen", "History generator", ActorKind.SERVICE)
LEVELS = (
    # product, unit, work cell, inputs (material, per unit, unit)
    ("SYRUP", "L", "MIXER", (("SUGAR", "1", "kg"), ("WATER", "9", "L"))),
    ("BOTTLED", "ea", "FILLER", (("SYRUP", "1", "L"), ("BOTTLE", "1", "ea"), ("CAP", "1", "ea"))),
    ("CASE", "cs", "PACKER", (("BOTTLED", "1", "ea"), ("CARTON", "1", "ea"))),
    ("PALLET", "pal", "PALLETISER", (("CASE", "1", "cs"),)),
)
RAW = (("SUGAR", "kg"), ("WATER", "L"), ("BOTTLE", "ea"), ("CAP", "ea"), ("CARTON", "ea"))


@dataclass
class Generated:
    events: int = 0
    finished_lots: list[str] = field(default_factory=list)
    sugar_lots: list[str] = field(default_factory=list)
    chains: int = 0


class HistoryWriter:
    """Saves aggregates in batches and counts the events written."""

    def __init__(self, app: Chronicle, progress: Callable[[int], None] | None) -> None:
        self.app = app
        self.pending: dict[Any, Any] = {}
        self.events = 0
        self.progress = progress

    def touch(self, *aggregates: Any) -> None:
        for aggregate in aggregates:
            self.pending[aggregate.id] = aggregate

    def flush(self) -> None:
        if self.pending:
            recordings = self.app.save(*self.pending.values())
            self.events += len(recordings)
            self.pending.clear()
            if self.progress:
                self.progress(self.events)


def generate(
    app: Chronicle, target_events: int, *, sugar_lots: int = 4, progress: Callable[[int], None] | None = None
) -> Generated:
    """Writes at least `target_events` events; `sugar_lots` giant lots share all the syrup batches."""
    clock = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    counter = [0]

    def stamp() -> Provenance:
        counter[0] += 1
        moment = clock + timedelta(seconds=counter[0])
        return Provenance(ACTOR, Source.SYSTEM, f"gen-{counter[0]}", "generated-history", moment)

    writer = HistoryWriter(app, progress)
    out = Generated()
    site = Equipment.register(
        code="G", name="Generated site", level=EquipmentLevel.SITE, parent=None, provenance=stamp()
    )
    area = Equipment.register(code="G.A", name="Area", level=EquipmentLevel.AREA, parent=site, provenance=stamp())
    line = Equipment.register(
        code="G.A.L", name="Line", level=EquipmentLevel.PRODUCTION_LINE, parent=area, provenance=stamp()
    )
    cells = [
        Equipment.register(code=cell, name=cell, level=EquipmentLevel.WORK_CELL, parent=line, provenance=stamp())
        for _, _, cell, _ in LEVELS
    ]
    materials = [
        MaterialDefinition.define(code=code, name=code, base_unit=unit, provenance=stamp())
        for code, unit in (*RAW, *((p, u) for p, u, _, _ in LEVELS))
    ]
    writer.touch(site, area, line, *cells, *materials)

    total_chains = max(1, target_events // EVENTS_PER_CHAIN + 1)
    sugar = [_receive(f"G-SUGAR-{i}", "SUGAR", "kg", Decimal(total_chains), stamp()) for i in range(sugar_lots)]
    out.sugar_lots = [lot.lot_number for lot in sugar]
    writer.touch(*sugar)

    batch = 0
    while writer.events + len(writer.pending) < target_events or batch == 0:
        batch += 1
        raw = {
            code: _receive(f"G-{code}-{batch}", code, unit, Decimal(CHAINS_PER_ORDER * 10), stamp())
            for code, unit in RAW
            if code != "SUGAR"
        }
        raw["SUGAR"] = sugar[(batch - 1) % sugar_lots]
        writer.touch(*raw.values())
        outputs: dict[str, list[MaterialLot]] = {}
        for level, spec in enumerate(LEVELS):
            outputs[spec[0]] = _run_order(batch, level, raw, outputs, writer, stamp)
        out.finished_lots += [lot.lot_number for lot in outputs["PALLET"]]
        out.chains += CHAINS_PER_ORDER
        writer.flush()
    writer.flush()
    out.events = writer.events
    return out


def _run_order(
    batch: int,
    level: int,
    raw: dict[str, MaterialLot],
    outputs: dict[str, list[MaterialLot]],
    writer: HistoryWriter,
    stamp: Callable[[], Provenance],
) -> list[MaterialLot]:
    """One order of one level: a hundred chains, each consuming its inputs and producing one lot."""
    product, unit, cell, inputs = LEVELS[level]
    order = WorkOrder.create(
        order_number=f"G-WO-{batch}-{product}",
        product_code=product,
        planned_quantity=Quantity(Decimal(CHAINS_PER_ORDER), unit),
        bill_of_materials=[BomLine(m, Decimal(per), u) for m, per, u in inputs],
        routing=[Operation(10, product.title(), cell, Decimal(1))],
        provenance=stamp(),
    )
    order.release(provenance=stamp())
    order.start(provenance=stamp())
    made: list[MaterialLot] = []
    for chain in range(CHAINS_PER_ORDER):
        for material, per, in_unit in inputs:
            source = outputs[material][chain] if material in outputs else raw[material]
            amount = Quantity(Decimal(per), in_unit)
            p = stamp()
            order.report_consumption(
                lot_number=source.lot_number,
                material_code=material,
                quantity=amount,
                operation=10,
                equipment_code=cell,
                provenance=p,
            )
            source.consume(amount, order_number=order.order_number, operation=10, equipment_code=cell, provenance=p)
            writer.touch(source)
        p = stamp()
        lot_number = f"G-{product}-{batch}-{chain}"
        good = Quantity(Decimal(1), unit)
        inputs_used = order.current_inputs()
        order.report_production(
            lot_number=lot_number, good=good, scrap=Quantity.zero(unit), operation=10, equipment_code=cell, provenance=p
        )
        lot = MaterialLot.produce(
            lot_number=lot_number,
            material_code=product,
            quantity=good,
            location=f"WIP-{level}",
            order_number=order.order_number,
            operation=10,
            equipment_code=cell,
            inputs=inputs_used,
            provenance=p,
        )
        made.append(lot)
        writer.touch(lot)
    order.complete(provenance=stamp())
    order.close(provenance=stamp())
    writer.touch(order)
    return made


def _receive(lot_number: str, material: str, unit: str, value: Decimal, provenance: Provenance) -> MaterialLot:
    return MaterialLot.receive(
        lot_number=lot_number,
        material_code=material,
        quantity=Quantity(value, unit),
        location="WH",
        supplier_lot=f"SUP-{lot_number}",
        expiry=None,
        provenance=provenance,
    )


def print_progress(target: int) -> Callable[[int], None]:
    def show(events: int) -> None:
        sys.stderr.write(f"\r  generating history: {events:,}/{target:,} events")
        sys.stderr.flush()

    return show
