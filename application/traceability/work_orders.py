"""Work order commands: create an order, move it through ISA-95 RequestState, report what it
consumed and produced."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.commands import (
    Amount,
    AmountIn,
    Code,
    Command,
    Location,
    Name,
    NewLotNumber,
    QuantityIn,
    Reason,
    Unit,
    check_amount,
)
from application.handlers import Handles, registry
from application.unit_of_work import Scope
from domain.equipment import Equipment
from domain.material_definition import MaterialDefinition
from domain.material_lot import MaterialLot
from domain.values import BomLine, Operation, Quantity
from domain.work_order import WorkOrder

OperationNumber = Annotated[int, msgspec.Meta(ge=1, le=9999)]


class BomLineIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How much of a component one unit of product needs."""

    material_code: Code
    quantity_per_unit: Amount
    unit: Unit

    def __post_init__(self) -> None:
        check_amount(self.quantity_per_unit)


class OperationIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One step of a routing: where it runs and its ideal cycle time in seconds per unit."""

    sequence: OperationNumber
    name: Name
    equipment_code: Code
    ideal_cycle_time_s: Amount

    def __post_init__(self) -> None:
        check_amount(self.ideal_cycle_time_s)


class CreateWorkOrder(Command, frozen=True):
    """Creates a work order in the Forecast state."""

    order_number: Code
    product_code: Code
    planned_quantity: QuantityIn
    bill_of_materials: Annotated[list[BomLineIn], msgspec.Meta(max_length=200)]
    routing: Annotated[list[OperationIn], msgspec.Meta(min_length=1, max_length=100)]


class ReleaseWorkOrder(Command, frozen=True):
    """Releases a work order to the floor."""

    order_number: Code


class StartWorkOrder(Command, frozen=True):
    """Starts production on a released work order."""

    order_number: Code


class HoldWorkOrder(Command, frozen=True):
    """Holds a work order until it is resumed (a reason is required)."""

    order_number: Code
    reason: Reason


class ResumeWorkOrder(Command, frozen=True):
    """Resumes a held work order in the state it was held from."""

    order_number: Code


class CompleteWorkOrder(Command, frozen=True):
    """Ends production on a running work order."""

    order_number: Code


class CloseWorkOrder(Command, frozen=True):
    """Closes a completed work order for good."""

    order_number: Code


class CancelWorkOrder(Command, frozen=True):
    """Cancels a work order that has not finished (a reason is required)."""

    order_number: Code
    reason: Reason


class ConsumeMaterial(Command, frozen=True):
    """Reports material taken from a lot by an operation of a running order."""

    order_number: Code
    lot_number: Code
    quantity: QuantityIn
    operation: OperationNumber
    equipment_code: Code | None = None


class ReportProduction(Command, frozen=True):
    """Reports good and scrap output of an operation; good output becomes a new lot."""

    order_number: Code
    operation: OperationNumber
    good: AmountIn
    scrap: AmountIn | None = None
    lot_number: NewLotNumber | None = None
    location: Location = "WIP"
    equipment_code: Code | None = None


class WorkOrderChanged(msgspec.Struct, frozen=True):
    """The work order a command created or moved, and the state it is in now."""

    work_order_id: str
    order_number: str
    state: str | None = None  # receipts of orders created before results were typed have none


class MaterialConsumed(msgspec.Struct, frozen=True):
    """The lot material was taken from, and what is left in it."""

    lot_id: str
    lot_number: str
    remaining: str


class ProductionReported(msgspec.Struct, frozen=True, omit_defaults=True):
    """The order output was reported on, and the lot its good output became (if any)."""

    work_order_id: str
    order_number: str
    lot_id: str | None = None
    lot_number: str | None = None


def changed(order: WorkOrder) -> WorkOrderChanged:
    return WorkOrderChanged(str(order.id), order.order_number, order.state.value)


def create_work_order(cmd: CreateWorkOrder, scope: Scope) -> WorkOrderChanged:
    scope.ensure_new(WorkOrder, cmd.order_number)
    product = scope.get(MaterialDefinition, cmd.product_code)
    bill_of_materials = []
    for line in cmd.bill_of_materials:
        # Kept in the component's base unit: consumption is reported in it.
        component = scope.get(MaterialDefinition, line.material_code)
        per_unit = component.to_base(Quantity(line.quantity_per_unit, line.unit))
        bill_of_materials.append(BomLine(line.material_code, per_unit.value, per_unit.unit))
    for op in cmd.routing:
        scope.get(Equipment, op.equipment_code).ensure_in_service()
    order = WorkOrder.create(
        order_number=cmd.order_number,
        product_code=product.code,
        planned_quantity=product.to_base(cmd.planned_quantity.as_quantity()),
        bill_of_materials=bill_of_materials,
        routing=[Operation(op.sequence, op.name, op.equipment_code, op.ideal_cycle_time_s) for op in cmd.routing],
        provenance=scope.provenance,
    )
    scope.add(order)
    return changed(order)


def release_work_order(cmd: ReleaseWorkOrder, scope: Scope) -> WorkOrderChanged:
    order = scope.get(WorkOrder, cmd.order_number)
    order.release(provenance=scope.provenance)
    return changed(order)


def start_work_order(cmd: StartWorkOrder, scope: Scope) -> WorkOrderChanged:
    order = scope.get(WorkOrder, cmd.order_number)
    order.start(provenance=scope.provenance)
    return changed(order)


def hold_work_order(cmd: HoldWorkOrder, scope: Scope) -> WorkOrderChanged:
    order = scope.get(WorkOrder, cmd.order_number)
    order.hold(reason=cmd.reason, provenance=scope.provenance)
    return changed(order)


def resume_work_order(cmd: ResumeWorkOrder, scope: Scope) -> WorkOrderChanged:
    order = scope.get(WorkOrder, cmd.order_number)
    order.resume(provenance=scope.provenance)
    return changed(order)


def complete_work_order(cmd: CompleteWorkOrder, scope: Scope) -> WorkOrderChanged:
    order = scope.get(WorkOrder, cmd.order_number)
    order.complete(provenance=scope.provenance)
    return changed(order)


def close_work_order(cmd: CloseWorkOrder, scope: Scope) -> WorkOrderChanged:
    order = scope.get(WorkOrder, cmd.order_number)
    order.close(provenance=scope.provenance)
    return changed(order)


def cancel_work_order(cmd: CancelWorkOrder, scope: Scope) -> WorkOrderChanged:
    order = scope.get(WorkOrder, cmd.order_number)
    order.cancel(reason=cmd.reason, provenance=scope.provenance)
    return changed(order)


def _equipment_for(scope: Scope, order: WorkOrder, operation: int, code: str | None) -> str:
    """The equipment named in a report (it must exist and be in service), else the operation's own."""
    if code is None:
        return order.operation(operation).equipment_code
    scope.get(Equipment, code).ensure_in_service()
    return code


def consume_material(cmd: ConsumeMaterial, scope: Scope) -> MaterialConsumed:
    """Takes material from a lot into a running order: the lot and the order change together."""
    order = scope.get(WorkOrder, cmd.order_number)
    lot = scope.get(MaterialLot, cmd.lot_number)
    quantity = scope.get(MaterialDefinition, lot.material_code).to_base(cmd.quantity.as_quantity())
    equipment_code = _equipment_for(scope, order, cmd.operation, cmd.equipment_code)
    order.report_consumption(
        lot_number=lot.lot_number,
        material_code=lot.material_code,
        quantity=quantity,
        operation=cmd.operation,
        equipment_code=equipment_code,
        provenance=scope.provenance,
    )
    lot.consume(
        quantity,
        order_number=order.order_number,
        operation=cmd.operation,
        equipment_code=equipment_code,
        provenance=scope.provenance,
    )
    return MaterialConsumed(str(lot.id), lot.lot_number, str(lot.quantity))


def report_production(cmd: ReportProduction, scope: Scope) -> ProductionReported:
    """Records an operation's output; good output becomes a new lot linked to the order's inputs."""
    order = scope.get(WorkOrder, cmd.order_number)
    product = scope.get(MaterialDefinition, order.product_code)
    good = product.to_base(cmd.good.as_quantity())
    scrap = product.to_base(cmd.scrap.as_quantity()) if cmd.scrap else Quantity.zero(good.unit)
    if cmd.lot_number and good:
        scope.ensure_new(MaterialLot, cmd.lot_number)
    equipment_code = _equipment_for(scope, order, cmd.operation, cmd.equipment_code)
    inputs = order.current_inputs()
    order.report_production(
        lot_number=cmd.lot_number,
        good=good,
        scrap=scrap,
        operation=cmd.operation,
        equipment_code=equipment_code,
        provenance=scope.provenance,
    )
    if not (good and cmd.lot_number):
        return ProductionReported(str(order.id), order.order_number)
    lot = MaterialLot.produce(
        lot_number=cmd.lot_number,
        material_code=product.code,
        quantity=good,
        location=cmd.location,
        order_number=order.order_number,
        operation=cmd.operation,
        equipment_code=equipment_code,
        inputs=inputs,
        provenance=scope.provenance,
    )
    scope.add(lot)
    return ProductionReported(str(order.id), order.order_number, str(lot.id), cmd.lot_number)


HANDLERS = registry(
    Handles(CreateWorkOrder, create_work_order, WorkOrderChanged),
    Handles(ReleaseWorkOrder, release_work_order, WorkOrderChanged),
    Handles(StartWorkOrder, start_work_order, WorkOrderChanged),
    Handles(HoldWorkOrder, hold_work_order, WorkOrderChanged),
    Handles(ResumeWorkOrder, resume_work_order, WorkOrderChanged),
    Handles(CompleteWorkOrder, complete_work_order, WorkOrderChanged),
    Handles(CloseWorkOrder, close_work_order, WorkOrderChanged),
    Handles(CancelWorkOrder, cancel_work_order, WorkOrderChanged),
    Handles(ConsumeMaterial, consume_material, MaterialConsumed),
    Handles(ReportProduction, report_production, ProductionReported),
)
