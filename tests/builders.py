"""Builders for test data: a small plant and the commands that run it, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from application import commands as c
from application.bus import CommandContext
from domain.values import Actor, ActorKind, EquipmentLevel, Provenance, Quantity, Source

_ids = itertools.count(1)
T0 = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
OPERATOR = Actor(id="u-7", name="Olu Operator", kind=ActorKind.PERSON)


def next_id(prefix: str = "cmd") -> str:
    return f"{prefix}-{next(_ids)}"


def context(actor: Actor = OPERATOR, source: Source = Source.API) -> CommandContext:
    return CommandContext(actor=actor, source=source)


def provenance(at: datetime = T0, command_id: str | None = None) -> Provenance:
    cid = command_id or next_id()
    return Provenance(actor=OPERATOR, source=Source.API, command_id=cid, correlation_id=cid, occurred_at=at)


def qty(value: str | int, unit: str) -> Quantity:
    return Quantity(Decimal(value), unit)


def q_in(value: str | int, unit: str) -> c.QuantityIn:
    return c.QuantityIn(Decimal(value), unit)


def plant_commands() -> list[c.Command]:
    """A site with one line and two work cells, three materials, and raw lots to make a blend from."""
    return [
        c.RegisterEquipment(command_id=next_id(), code="S1", name="Site", level=EquipmentLevel.SITE),
        c.RegisterEquipment(
            command_id=next_id(), code="S1.A", name="Area", level=EquipmentLevel.AREA, parent_code="S1"
        ),
        c.RegisterEquipment(
            command_id=next_id(), code="S1.A.L1", name="Line", level=EquipmentLevel.PRODUCTION_LINE, parent_code="S1.A"
        ),
        c.RegisterEquipment(
            command_id=next_id(), code="MIX", name="Mixer", level=EquipmentLevel.WORK_CELL, parent_code="S1.A.L1"
        ),
        c.RegisterEquipment(
            command_id=next_id(), code="FILL", name="Filler", level=EquipmentLevel.WORK_CELL, parent_code="S1.A.L1"
        ),
        c.DefineMaterial(
            command_id=next_id(),
            code="SUGAR",
            name="Sugar",
            base_unit="kg",
            conversions=[c.ConversionIn("bag", Decimal(25))],
        ),
        c.DefineMaterial(command_id=next_id(), code="WATER", name="Water", base_unit="L"),
        c.DefineMaterial(command_id=next_id(), code="SYRUP", name="Syrup", base_unit="L"),
    ]


def receive(
    lot_number: str,
    material: str = "SUGAR",
    value: str | int = 100,
    unit: str = "kg",
    expiry: date | None = None,
    quarantined: bool = False,
) -> c.ReceiveLot:
    return c.ReceiveLot(
        command_id=next_id(),
        lot_number=lot_number,
        material_code=material,
        quantity=q_in(value, unit),
        location="WH",
        supplier_lot=f"SUP-{lot_number}",
        expiry=expiry,
        quarantined=quarantined,
    )


def create_order(order_number: str, planned: int = 100) -> c.CreateWorkOrder:
    return c.CreateWorkOrder(
        command_id=next_id(),
        order_number=order_number,
        product_code="SYRUP",
        planned_quantity=q_in(planned, "L"),
        bill_of_materials=[c.BomLineIn("SUGAR", Decimal("0.2"), "kg"), c.BomLineIn("WATER", Decimal("0.8"), "L")],
        routing=[c.OperationIn(10, "Mix", "MIX", Decimal("0.5"))],
    )


def running_order(order_number: str, planned: int = 100) -> list[c.Command]:
    return [
        create_order(order_number, planned),
        c.ReleaseWorkOrder(command_id=next_id(), order_number=order_number),
        c.StartWorkOrder(command_id=next_id(), order_number=order_number),
    ]


def consume(order_number: str, lot_number: str, value: str | int, unit: str = "kg") -> c.ConsumeMaterial:
    return c.ConsumeMaterial(
        command_id=next_id(), order_number=order_number, lot_number=lot_number, quantity=q_in(value, unit), operation=10
    )


def produce(order_number: str, lot_number: str, good: str | int, scrap: str | int = 0) -> c.ReportProduction:
    return c.ReportProduction(
        command_id=next_id(),
        order_number=order_number,
        operation=10,
        good=c.AmountIn(Decimal(good), "L"),
        scrap=c.AmountIn(Decimal(scrap), "L"),
        lot_number=lot_number,
    )
