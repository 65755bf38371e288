"""A small beverage plant and one scripted shift, as the commands its people and machines send.

Syrup is mixed from sugar, concentrate and water; filled into bottles that are capped and
labelled; packed 24 to a case; and stacked 100 cases to a pallet. Four levels of genealogy, a lot
split, a merge, a label lot put on hold, damaged caps scrapped, and an order held and resumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from application.commands import AmountIn, Command, QuantityIn
from application.performance.calendar import BreakIn, DefineShiftPattern, ShiftIn
from application.performance.counts import ReportCounts
from application.performance.reasons import AssignStopReason, DefineReasonTree, ReasonIn
from application.performance.states import ObserveState, SetMode
from application.traceability.equipment import RegisterEquipment
from application.traceability.lots import HoldLot, MergeLots, MoveLot, ReceiveLot, ScrapLot, SplitLot
from application.traceability.materials import ConversionIn, DefineMaterial
from application.traceability.work_orders import (
    BomLineIn,
    CloseWorkOrder,
    CompleteWorkOrder,
    ConsumeMaterial,
    CreateWorkOrder,
    HoldWorkOrder,
    OperationIn,
    ReleaseWorkOrder,
    ReportProduction,
    ResumeWorkOrder,
    StartWorkOrder,
)
from domain.packml import EquipmentMode, PackMLState
from domain.values import EquipmentLevel

SITE = "BEV-SPRINGFIELD"
LINE = f"{SITE}.PACK.L1"  # the bottling line
FINISHED_PALLETS = ("PAL-0001", "PAL-0002")
RAW_SUGAR_LOT = "SUG-24-0117"


def q(value: str | int, unit: str) -> QuantityIn:
    return QuantityIn(Decimal(value), unit)


def amount(value: str | int, unit: str) -> AmountIn:
    return AmountIn(Decimal(value), unit)


@dataclass(frozen=True)
class Step:
    """One command of the shift, with the line the demo prints while it runs."""

    title: str
    command: Command


class ShiftScript:
    """Builds the shift's commands with business times a few minutes apart from `start`."""

    def __init__(self, start: datetime) -> None:
        self.time = start
        self.count = 0
        self.day = start.date().isoformat()  # in every id: the same shift on another day is another shift

    def step(self, title: str, command_type: type[Command], minutes: int = 2, **fields: object) -> Step:
        self.time += timedelta(minutes=minutes)
        self.count += 1
        command_id = f"demo-{self.day}-{self.count:03d}-{command_type.__name__}"
        return Step(title, command_type(command_id=command_id, occurred_at=self.time, **fields))


def plant_model(s: ShiftScript) -> Iterator[Step]:
    yield s.step("site", RegisterEquipment, code=SITE, name="Springfield beverage plant", level=EquipmentLevel.SITE)
    for area, name in (("PROC", "Syrup room"), ("PACK", "Packaging hall")):
        yield s.step(
            f"area {area}",
            RegisterEquipment,
            code=f"{SITE}.{area}",
            name=name,
            level=EquipmentLevel.AREA,
            parent_code=SITE,
        )
    yield s.step(
        "line MIX",
        RegisterEquipment,
        code=f"{SITE}.PROC.MIX",
        name="Mixing",
        level=EquipmentLevel.PRODUCTION_LINE,
        parent_code=f"{SITE}.PROC",
    )
    yield s.step(
        "line L1",
        RegisterEquipment,
        code=f"{SITE}.PACK.L1",
        name="Bottling line 1",
        level=EquipmentLevel.PRODUCTION_LINE,
        parent_code=f"{SITE}.PACK",
    )
    yield s.step(
        "mixer",
        RegisterEquipment,
        code="MIXER-1",
        name="Syrup mixer 1",
        level=EquipmentLevel.WORK_CELL,
        parent_code=f"{SITE}.PROC.MIX",
    )
    for code, name in (
        ("FILLER-1", "Rotary filler"),
        ("CAPPER-1", "Capper"),
        ("PACKER-1", "Case packer"),
        ("PALLETISER-1", "Palletiser"),
    ):
        yield s.step(
            f"work cell {code}",
            RegisterEquipment,
            code=code,
            name=name,
            level=EquipmentLevel.WORK_CELL,
            parent_code=f"{SITE}.PACK.L1",
        )


def materials(s: ShiftScript) -> Iterator[Step]:
    for code, name, unit in (
        ("SUGAR", "Granulated sugar", "kg"),
        ("CONCENTRATE", "Cola concentrate", "L"),
        ("WATER", "Treated water", "L"),
        ("SYRUP", "Cola syrup", "L"),
        ("BOTTLE", "PET bottle 0.5 L", "ea"),
        ("CAP", "Closure 28 mm", "ea"),
        ("LABEL", "Wrap label", "ea"),
        ("CARTON", "Shipper carton", "ea"),
        ("COLA-BTL", "Cola 0.5 L bottle", "ea"),
        ("COLA-CS", "Cola case 24 x 0.5 L", "cs"),
        ("COLA-PAL", "Cola pallet 100 cases", "pal"),
    ):
        conversions = [ConversionIn("bag", Decimal(25))] if code == "SUGAR" else []
        yield s.step(
            f"material {code}",
            DefineMaterial,
            minutes=1,
            code=code,
            name=name,
            base_unit=unit,
            conversions=conversions,
        )


def receipts(s: ShiftScript, today: date) -> Iterator[Step]:
    expiry = today + timedelta(days=180)
    for lot, material, quantity, supplier in (
        (RAW_SUGAR_LOT, "SUGAR", q(8, "bag"), "NS-55821"),  # 8 bags of 25 kg
        ("SUG-24-0118", "SUGAR", q(60, "kg"), "NS-55822"),
        ("CON-24-0031", "CONCENTRATE", q(150, "L"), "FLV-9001"),
        ("WAT-TANK-7", "WATER", q("2000", "L"), "on-site"),
        ("BTL-24-0450", "BOTTLE", q(3000, "ea"), "PK-1203"),
        ("BTL-24-0451", "BOTTLE", q(2000, "ea"), "PK-1204"),
        ("CAP-24-0210", "CAP", q(6000, "ea"), "CL-778"),
        ("LBL-24-0099", "LABEL", q(5000, "ea"), "PR-311"),
        ("LBL-24-0100", "LABEL", q(5000, "ea"), "PR-312"),
        ("CTN-24-0077", "CARTON", q(400, "ea"), "BX-42"),
    ):
        yield s.step(
            f"receive {lot}",
            ReceiveLot,
            minutes=1,
            lot_number=lot,
            material_code=material,
            quantity=quantity,
            location="WH-RAW",
            supplier_lot=supplier,
            expiry=expiry,
        )
    yield s.step(
        "merge the two sugar lots into one silo",
        MergeLots,
        lot_numbers=[RAW_SUGAR_LOT, "SUG-24-0118"],
        new_lot_number="SUG-SILO-1",
        location="SILO-1",
    )
    yield s.step(
        "label lot LBL-24-0100 on hold",
        HoldLot,
        lot_number="LBL-24-0100",
        reason="print defect: barcode unreadable on sample of 20",
    )
    yield s.step(
        "scrap damaged caps",
        ScrapLot,
        lot_number="CAP-24-0210",
        quantity=q(200, "ea"),
        reason="forklift damage, crushed carton",
    )


def order(
    s: ShiftScript,
    number: str,
    product: str,
    planned: QuantityIn,
    bom: list[tuple[str, str, str]],
    ops: list[tuple[int, str, str, str]],
) -> Iterator[Step]:
    yield s.step(
        f"create {number}",
        CreateWorkOrder,
        order_number=number,
        product_code=product,
        planned_quantity=planned,
        bill_of_materials=[BomLineIn(m, Decimal(per), unit) for m, per, unit in bom],
        routing=[OperationIn(seq, name, eq, Decimal(ct)) for seq, name, eq, ct in ops],
    )
    yield s.step(f"release {number}", ReleaseWorkOrder, order_number=number)
    yield s.step(f"start {number}", StartWorkOrder, order_number=number)


def consume(s: ShiftScript, number: str, lot: str, quantity: QuantityIn, operation: int = 10) -> Step:
    return s.step(
        f"{number} consumes {quantity.value} {quantity.unit} of {lot}",
        ConsumeMaterial,
        order_number=number,
        lot_number=lot,
        quantity=quantity,
        operation=operation,
    )


def produce(
    s: ShiftScript,
    number: str,
    lot: str,
    good: int,
    unit: str,
    scrap: int = 0,
    operation: int = 10,
    location: str = "WIP",
) -> Step:
    return s.step(
        f"{number} produces {good} {unit} as {lot}",
        ReportProduction,
        minutes=20,
        order_number=number,
        operation=operation,
        good=amount(good, unit),
        scrap=amount(scrap, unit),
        lot_number=lot,
        location=location,
    )


def filler(s: ShiftScript, state: PackMLState, minutes: int = 2, fault: str | None = None) -> Step:
    """What the filler's connector reports: its PackML state (and the fault code it stopped with)."""
    return s.step(
        f"filler {state}", ObserveState, minutes=minutes, equipment_code="FILLER-1", state=state, raw_code=fault
    )


def line_set_up(s: ShiftScript) -> Iterator[Step]:
    """The filler's downtime reasons (its fault codes mapped onto them) and the line's shifts from
    tomorrow on (a calendar changes the future only)."""
    yield s.step(
        "filler reason tree",
        DefineReasonTree,
        equipment_class="ROTARY-FILLER",
        reasons=[
            ReasonIn("NOZZLE", "Filling valve dripping", "Filling valves", fault_codes=["F-207"]),
            ReasonIn("STARVED", "No bottles from the depalletiser", "Material shortage", fault_codes=["F-310"]),
            ReasonIn("CIP", "Cleaning in place", "Cleaning", planned=True),
            ReasonIn("FORMAT", "Format change", "Changeover", planned=True),
        ],
        equipment_codes=["FILLER-1"],
    )
    yield s.step(
        "line shifts",
        DefineShiftPattern,
        calendar_code=LINE,
        effective_from=datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(0), UTC),
        shifts=[
            ShiftIn("Early", "06:00", "14:00", [BreakIn("10:00", "10:30")]),
            ShiftIn("Late", "14:00", "22:00", [BreakIn("18:00", "18:30")]),
            ShiftIn("Night", "22:00", "06:00", [BreakIn("02:00", "02:30")]),
        ],
        working_days=[1, 2, 3, 4, 5],
    )


def finish(s: ShiftScript, number: str) -> Iterator[Step]:
    yield s.step(f"complete {number}", CompleteWorkOrder, order_number=number)
    yield s.step(f"close {number}", CloseWorkOrder, order_number=number)


def shift(start: datetime) -> list[Step]:
    """The whole demo: plant model, materials, receipts and four orders run to the pallet."""
    s = ShiftScript(start)
    steps = [*plant_model(s), *line_set_up(s), *materials(s), *receipts(s, start.date())]

    steps += order(
        s,
        "WO-SYRUP-001",
        "SYRUP",
        q(1000, "L"),
        [("SUGAR", "0.1", "kg"), ("CONCENTRATE", "0.05", "L"), ("WATER", "0.85", "L")],
        [(10, "Mix", "MIXER-1", "0.5")],
    )
    steps += [
        consume(s, "WO-SYRUP-001", "SUG-SILO-1", q(100, "kg")),
        consume(s, "WO-SYRUP-001", "CON-24-0031", q(50, "L")),
        consume(s, "WO-SYRUP-001", "WAT-TANK-7", q(850, "L")),
        produce(s, "WO-SYRUP-001", "SYR-0001", 1000, "L", location="TANK-3"),
        s.step(
            "transfer half the syrup to a second tank",
            SplitLot,
            lot_number="SYR-0001",
            quantity=q(400, "L"),
            new_lot_number="SYR-0001-B",
        ),
        s.step("move SYR-0001-B to tank 4", MoveLot, lot_number="SYR-0001-B", location="TANK-4"),
    ]
    steps += finish(s, "WO-SYRUP-001")

    steps += order(
        s,
        "WO-FILL-001",
        "COLA-BTL",
        q(4800, "ea"),
        [("SYRUP", "0.2", "L"), ("BOTTLE", "1", "ea"), ("CAP", "1", "ea"), ("LABEL", "1", "ea")],
        # 4,800 bottles an hour on the filler, the line's bottleneck; the capper could do 6,000
        [(10, "Fill", "FILLER-1", "0.75"), (20, "Cap and label", "CAPPER-1", "0.6")],
    )
    steps += [
        filler(s, PackMLState.STARTING),
        filler(s, PackMLState.EXECUTE, minutes=1),
        consume(s, "WO-FILL-001", "SYR-0001", q(600, "L")),
        consume(s, "WO-FILL-001", "BTL-24-0450", q(3000, "ea")),
        filler(s, PackMLState.SUSPENDED, fault="F-310"),  # starved of bottles for a minute: a micro-stop
        filler(s, PackMLState.EXECUTE, minutes=1),
        filler(s, PackMLState.SUSPENDED, minutes=5, fault="F-310"),  # and again
        filler(s, PackMLState.EXECUTE, minutes=1),
        consume(s, "WO-FILL-001", "CAP-24-0210", q(2410, "ea"), operation=20),
        consume(s, "WO-FILL-001", "LBL-24-0099", q(2410, "ea"), operation=20),
        s.step("filler counts", ReportCounts, equipment_code="FILLER-1", good=2400, reject=10),
        produce(s, "WO-FILL-001", "BTL-OUT-0001", 2400, "ea", scrap=10, operation=20),
        (held := filler(s, PackMLState.HELD)),  # the nozzle drips: a breakdown
        s.step(
            "the operator says why the filler stopped",
            AssignStopReason,
            equipment_code="FILLER-1",
            at=held.command.occurred_at,
            reason_code="NOZZLE",
            note="nozzle 7 dripping",
        ),
        s.step(
            "hold WO-FILL-001",
            HoldWorkOrder,
            order_number="WO-FILL-001",
            reason="filler nozzle 7 dripping: maintenance called",
        ),
        s.step("resume WO-FILL-001", ResumeWorkOrder, minutes=25, order_number="WO-FILL-001"),
        filler(s, PackMLState.EXECUTE, minutes=1),
        consume(s, "WO-FILL-001", "SYR-0001-B", q(400, "L")),
        consume(s, "WO-FILL-001", "BTL-24-0451", q(2000, "ea")),
        consume(s, "WO-FILL-001", "CAP-24-0210", q(2405, "ea"), operation=20),
        consume(s, "WO-FILL-001", "LBL-24-0099", q(2405, "ea"), operation=20),
        s.step("filler counts", ReportCounts, equipment_code="FILLER-1", good=2400, reject=5),
        produce(s, "WO-FILL-001", "BTL-OUT-0002", 2400, "ea", scrap=5, operation=20),
        filler(s, PackMLState.COMPLETING),
        filler(s, PackMLState.COMPLETE, minutes=1),
    ]
    steps += finish(s, "WO-FILL-001")
    steps.append(s.step("filler changeover", SetMode, equipment_code="FILLER-1", mode=EquipmentMode.CHANGEOVER))

    steps += order(
        s,
        "WO-PACK-001",
        "COLA-CS",
        q(200, "cs"),
        [("COLA-BTL", "24", "ea"), ("CARTON", "1", "ea")],
        [(10, "Case pack", "PACKER-1", "2")],
    )
    for i, bottles in enumerate(("BTL-OUT-0001", "BTL-OUT-0002"), start=1):
        steps += [
            consume(s, "WO-PACK-001", bottles, q(2400, "ea")),
            consume(s, "WO-PACK-001", "CTN-24-0077", q(100, "ea")),
            produce(s, "WO-PACK-001", f"CS-000{i}", 100, "cs"),
        ]
    steps += finish(s, "WO-PACK-001")

    steps += order(
        s, "WO-PAL-001", "COLA-PAL", q(2, "pal"), [("COLA-CS", "100", "cs")], [(10, "Palletise", "PALLETISER-1", "60")]
    )
    for i, pallet in enumerate(FINISHED_PALLETS, start=1):
        steps += [
            consume(s, "WO-PAL-001", f"CS-000{i}", q(100, "cs")),
            produce(s, "WO-PAL-001", pallet, 1, "pal", location="DOCK-2"),
        ]
    steps += finish(s, "WO-PAL-001")
    return steps
