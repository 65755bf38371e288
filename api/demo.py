"""`mes demo`: runs the scripted shift through the command bus and prints what was recorded."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time
from typing import TextIO

from api.demo_plant import FINISHED_PALLETS, shift
from api.runtime import Runtime
from application.bus import CommandContext
from application.service import Chronicle
from domain.ids import lot_id, work_order_id
from domain.material_lot import MaterialLot
from domain.values import Actor, ActorKind, Source
from domain.work_order import WorkOrder

SHIFT_LEAD = Actor(id="u-0042", name="Dana Shift-Lead", kind=ActorKind.PERSON)


def run_shift(runtime: Runtime, out: TextIO) -> None:
    start = datetime.combine(datetime.now(UTC).date(), time(6, 0), tzinfo=UTC)
    steps = shift(start)
    context = CommandContext(actor=SHIFT_LEAD, source=Source.API, correlation_id=f"demo-shift-{start:%Y%m%d}")
    replayed = 0
    for number, step in enumerate(steps, start=1):
        result = runtime.bus.execute(step.command, context)
        replayed += result.replayed
        mark = "=" if result.replayed else "+"
        out.write(f"[{number:3d}/{len(steps)}] {mark} {step.title:<58} position {result.position}\n")
    if replayed:
        out.write(
            f"\n{replayed} of {len(steps)} commands had run before: answered from their receipts, "
            "nothing recorded twice.\n"
        )


def print_summary(runtime: Runtime, out: TextIO) -> None:
    app = runtime.app
    topics: Counter[str] = Counter()
    lot_numbers: list[str] = []
    orders: list[str] = []
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        kind = notification.topic.rsplit(":", 1)[-1]
        topics[kind] += 1
        if kind in (
            "MaterialLot.Received",
            "MaterialLot.Produced",
            "MaterialLot.CreatedBySplit",
            "MaterialLot.CreatedByMerge",
        ):
            lot_numbers.append(app.repository.get(notification.originator_id).lot_number)
        if kind == "WorkOrder.Created":
            orders.append(app.repository.get(notification.originator_id).order_number)

    out.write(f"\nEvents recorded: {sum(topics.values())}\n")
    for kind, count in sorted(topics.items()):
        out.write(f"  {kind:<34} {count:5d}\n")

    out.write(f"\nLots ({len(lot_numbers)}):\n")
    out.write(f"  {'lot':<14} {'material':<12} {'quantity':>12}  {'status':<10} location\n")
    for number in lot_numbers:
        lot: MaterialLot = app.repository.get(lot_id(number))
        out.write(f"  {number:<14} {lot.material_code:<12} {lot.quantity!s:>12}  {lot.status:<10} {lot.location}\n")

    out.write(f"\nWork orders ({len(orders)}):\n")
    out.write(f"  {'order':<14} {'product':<10} {'state':<10} {'good':>10} {'scrap':>8}\n")
    for number in orders:
        order: WorkOrder = app.repository.get(work_order_id(number))
        out.write(
            f"  {number:<14} {order.product_code:<10} {order.state:<10} "
            f"{order.good_quantity!s:>10} {order.scrap_quantity.value:>8}\n"
        )

    pallet = FINISHED_PALLETS[0]
    out.write(f"\nWhat went into pallet {pallet} (from the events):\n")
    _print_inputs(app, pallet, out, depth=1)


def _print_inputs(app: Chronicle, lot_number: str, out: TextIO, depth: int) -> None:
    created = app.history(lot_id(lot_number))[0]
    portions = [*getattr(created, "inputs", ()), *getattr(created, "sources", ())]
    parents = [portion.lot_number for portion in portions]
    if getattr(created, "parent_lot", None):
        parents.append(created.parent_lot)
    for parent in parents:
        material = app.repository.get(lot_id(parent)).material_code
        out.write(f"  {'  ' * depth}<- {parent:<14} {material}\n")
        _print_inputs(app, parent, out, depth + 1)
