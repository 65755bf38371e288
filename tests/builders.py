"""Builders for test data, the one set the unit, integration, e2e tests and the write-path benchmark
share: a small plant and the commands that run it, with sensible defaults."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from application.bus import CommandContext
from application.commands import AmountIn, Command, QuantityIn
from application.traceability.equipment import RegisterEquipment
from application.traceability.lots import ReceiveLot
from application.traceability.materials import ConversionIn, DefineMaterial
from application.traceability.work_orders import (
    BomLineIn,
    ConsumeMaterial,
    CreateWorkOrder,
    OperationIn,
    ReleaseWorkOrder,
    ReportProduction,
    StartWorkOrder,
)
from domain.material_lot import MaterialLot
from domain.values import Actor, ActorKind, EquipmentLevel, Provenance, Quantity, Source

_ids = itertools.count(1)
T0 = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
# A local service principal, as the command line acts: these tests are about records, and the
# bus lets services through; tests/unit/test_authorization.py sends commands as people and machines.
OPERATOR = Actor(id="u-7", name="Olu Operator", kind=ActorKind.SERVICE)


def next_id(prefix: str = "cmd") -> str:
    return f"{prefix}-{next(_ids)}"


def context(actor: Actor = OPERATOR, source: Source = Source.API) -> CommandContext:
    return CommandContext(actor=actor, source=source)


def provenance(at: datetime = T0, command_id: str | None = None) -> Provenance:
    cid = command_id or next_id()
    return Provenance(actor=OPERATOR, source=Source.API, command_id=cid, correlation_id=cid, occurred_at=at)


def qty(value: str | int, unit: str) -> Quantity:
    return Quantity(Decimal(value), unit)


def q_in(value: str | int, unit: str) -> QuantityIn:
    return QuantityIn(Decimal(value), unit)


def new_id() -> str:
    """A command id no other test (or earlier run against the same server) has used."""
    return f"t-{uuid.uuid4()}"


def unique(prefix: str) -> str:
    """A code no other test uses: tests may share a server, never a lot, order or piece of equipment."""
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


@dataclass(frozen=True)
class Plant:
    """A site > area > line with a mixer and a filler, and sugar (in kg, 25 kg a bag), water and
    syrup (in L), and the commands that run it: syrup is mixed from sugar and water.

    `Plant.fixed()` has the same codes every time (tests on a store of their own); `Plant.named()`
    makes codes of its own (tests sharing a server). Each method builds commands with fresh ids."""

    site: str
    area: str
    line: str
    mixer: str
    filler: str
    sugar: str
    water: str
    syrup: str
    store_location: str = "WH"
    output_location: str = "WIP"
    ids: Callable[[], str] = next_id

    @classmethod
    def fixed(cls) -> Plant:
        return cls("S1", "S1.A", "S1.A.L1", "MIX", "FILL", "SUGAR", "WATER", "SYRUP")

    @classmethod
    def named(cls) -> Plant:
        site = unique("SITE")
        return cls(
            site=site,
            area=f"{site}.AREA",
            line=f"{site}.AREA.L1",
            mixer=unique("MIXER"),
            filler=unique("FILLER"),
            sugar=unique("SUGAR"),
            water=unique("WATER"),
            syrup=unique("SYRUP"),
            store_location="WH-RAW",
            output_location="TANK-1",
            ids=new_id,
        )

    def commands(self) -> list[Command]:
        """Registers the equipment and defines the materials."""
        equipment = (
            (self.site, "Site", EquipmentLevel.SITE, None),
            (self.area, "Area", EquipmentLevel.AREA, self.site),
            (self.line, "Line 1", EquipmentLevel.PRODUCTION_LINE, self.area),
            (self.mixer, "Mixer", EquipmentLevel.WORK_CELL, self.line),
            (self.filler, "Filler", EquipmentLevel.WORK_CELL, self.line),
        )
        return [
            *(
                RegisterEquipment(command_id=self.ids(), code=code, name=name, level=level, parent_code=parent)
                for code, name, level, parent in equipment
            ),
            DefineMaterial(
                command_id=self.ids(),
                code=self.sugar,
                name="Sugar",
                base_unit="kg",
                conversions=[ConversionIn("bag", Decimal(25))],
            ),
            DefineMaterial(command_id=self.ids(), code=self.water, name="Water", base_unit="L"),
            DefineMaterial(command_id=self.ids(), code=self.syrup, name="Syrup", base_unit="L"),
        ]

    def receive(
        self,
        lot_number: str,
        value: str | int = 100,
        unit: str = "kg",
        *,
        material: str | None = None,
        location: str | None = None,
        expiry: date | None = None,
        quarantined: bool = False,
    ) -> ReceiveLot:
        """A supplier lot of sugar (or `material`)."""
        return ReceiveLot(
            command_id=self.ids(),
            lot_number=lot_number,
            material_code=material or self.sugar,
            quantity=q_in(value, unit),
            location=location or self.store_location,
            supplier_lot=f"SUP-{lot_number}",
            expiry=expiry,
            quarantined=quarantined,
        )

    def create_order(self, order_number: str, planned: int = 100) -> CreateWorkOrder:
        """An order for syrup: 0.2 kg of sugar and 0.8 L of water a litre, mixed at 0.5 s a litre."""
        return CreateWorkOrder(
            command_id=self.ids(),
            order_number=order_number,
            product_code=self.syrup,
            planned_quantity=q_in(planned, "L"),
            bill_of_materials=[BomLineIn(self.sugar, Decimal("0.2"), "kg"), BomLineIn(self.water, Decimal("0.8"), "L")],
            routing=[OperationIn(10, "Mix", self.mixer, Decimal("0.5"))],
        )

    def running_order(self, order_number: str, planned: int = 100) -> list[Command]:
        return [
            self.create_order(order_number, planned),
            ReleaseWorkOrder(command_id=self.ids(), order_number=order_number),
            StartWorkOrder(command_id=self.ids(), order_number=order_number),
        ]

    def consume(self, order_number: str, lot_number: str, value: str | int, unit: str = "kg") -> ConsumeMaterial:
        return ConsumeMaterial(
            command_id=self.ids(),
            order_number=order_number,
            lot_number=lot_number,
            quantity=q_in(value, unit),
            operation=10,
        )

    def produce(self, order_number: str, lot_number: str, good: str | int, scrap: str | int = 0) -> ReportProduction:
        return ReportProduction(
            command_id=self.ids(),
            order_number=order_number,
            operation=10,
            good=AmountIn(Decimal(good), "L"),
            scrap=AmountIn(Decimal(scrap), "L"),
            lot_number=lot_number,
            location=self.output_location,
        )


FIXED = Plant.fixed()
plant_commands = FIXED.commands
receive = FIXED.receive
create_order = FIXED.create_order
running_order = FIXED.running_order
consume = FIXED.consume
produce = FIXED.produce


def received_lot(
    lot_number: str = "LOT-1",
    value: str | int = 100,
    unit: str = "kg",
    *,
    material: str = "SUGAR",
    expiry: date | None = None,
    quarantined: bool = False,
) -> MaterialLot:
    """A received lot (the aggregate, without the bus) with its creation event already collected,
    so a test sees only its own events."""
    received = MaterialLot.receive(
        lot_number=lot_number,
        material_code=material,
        quantity=qty(value, unit),
        location="WH",
        supplier_lot=f"SUP-{lot_number}",
        expiry=expiry,
        quarantined=quarantined,
        provenance=provenance(),
    )
    received.collect_events()
    return received
