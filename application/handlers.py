"""Command handlers: load the aggregates a command names, let them decide, report what was made.

A handler never saves: the command bus saves every aggregate a batch of commands touched in one
transaction, with one receipt per command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application import commands as c
from application.unit_of_work import Scope
from domain.equipment import Equipment
from domain.ids import equipment_id, lot_id, material_id, work_order_id
from domain.material_definition import MaterialDefinition
from domain.material_lot import MaterialLot
from domain.values import BomLine, Operation, Quantity, UnitConversion
from domain.work_order import WorkOrder

Result = dict[str, Any]


def _quantity(q: c.QuantityIn | c.AmountIn) -> Quantity:
    return Quantity(q.value, q.unit)


def register_equipment(cmd: c.RegisterEquipment, scope: Scope) -> Result:
    scope.ensure_new(equipment_id(cmd.code), "equipment", cmd.code)
    parent = scope.equipment(cmd.parent_code) if cmd.parent_code else None
    equipment = Equipment.register(
        code=cmd.code, name=cmd.name, level=cmd.level, parent=parent, provenance=scope.provenance
    )
    scope.add(equipment)
    return {"equipment_id": str(equipment.id), "code": cmd.code}


def decommission_equipment(cmd: c.DecommissionEquipment, scope: Scope) -> Result:
    equipment = scope.equipment(cmd.code)
    equipment.decommission(reason=cmd.reason, provenance=scope.provenance)
    return {"equipment_id": str(equipment.id), "code": cmd.code}


def define_material(cmd: c.DefineMaterial, scope: Scope) -> Result:
    scope.ensure_new(material_id(cmd.code), "material", cmd.code)
    material = MaterialDefinition.define(
        code=cmd.code,
        name=cmd.name,
        base_unit=cmd.base_unit,
        conversions=tuple(UnitConversion(x.unit, x.factor) for x in cmd.conversions),
        provenance=scope.provenance,
    )
    scope.add(material)
    return {"material_id": str(material.id), "code": cmd.code}


def receive_lot(cmd: c.ReceiveLot, scope: Scope) -> Result:
    scope.ensure_new(lot_id(cmd.lot_number), "lot", cmd.lot_number)
    material = scope.material(cmd.material_code)
    lot = MaterialLot.receive(
        lot_number=cmd.lot_number,
        material_code=material.code,
        quantity=material.to_base(_quantity(cmd.quantity)),
        location=cmd.location,
        supplier_lot=cmd.supplier_lot,
        expiry=cmd.expiry,
        quarantined=cmd.quarantined,
        provenance=scope.provenance,
    )
    scope.add(lot)
    return {"lot_id": str(lot.id), "lot_number": cmd.lot_number}


def split_lot(cmd: c.SplitLot, scope: Scope) -> Result:
    scope.ensure_new(lot_id(cmd.new_lot_number), "lot", cmd.new_lot_number)
    lot = scope.lot(cmd.lot_number)
    quantity = scope.material(lot.material_code).to_base(_quantity(cmd.quantity))
    child = lot.split(quantity, into_lot=cmd.new_lot_number, provenance=scope.provenance)
    scope.add(child)
    return {"lot_id": str(child.id), "lot_number": cmd.new_lot_number}


def merge_lots(cmd: c.MergeLots, scope: Scope) -> Result:
    scope.ensure_new(lot_id(cmd.new_lot_number), "lot", cmd.new_lot_number)
    sources = [scope.lot(number) for number in cmd.lot_numbers]
    merged = MaterialLot.merge(
        sources, lot_number=cmd.new_lot_number, location=cmd.location, provenance=scope.provenance
    )
    scope.add(merged)
    return {"lot_id": str(merged.id), "lot_number": cmd.new_lot_number}


def move_lot(cmd: c.MoveLot, scope: Scope) -> Result:
    lot = scope.lot(cmd.lot_number)
    lot.move(to_location=cmd.location, provenance=scope.provenance)
    return {"lot_id": str(lot.id), "lot_number": cmd.lot_number}


def hold_lot(cmd: c.HoldLot, scope: Scope) -> Result:
    lot = scope.lot(cmd.lot_number)
    lot.hold(reason=cmd.reason, provenance=scope.provenance)
    return {"lot_id": str(lot.id), "lot_number": cmd.lot_number}


def release_lot(cmd: c.ReleaseLot, scope: Scope) -> Result:
    lot = scope.lot(cmd.lot_number)
    lot.release(reason=cmd.reason, provenance=scope.provenance)
    return {"lot_id": str(lot.id), "lot_number": cmd.lot_number}


def scrap_lot(cmd: c.ScrapLot, scope: Scope) -> Result:
    lot = scope.lot(cmd.lot_number)
    quantity = scope.material(lot.material_code).to_base(_quantity(cmd.quantity)) if cmd.quantity else None
    lot.scrap(reason=cmd.reason, quantity=quantity, provenance=scope.provenance)
    return {"lot_id": str(lot.id), "lot_number": cmd.lot_number}


def create_work_order(cmd: c.CreateWorkOrder, scope: Scope) -> Result:
    scope.ensure_new(work_order_id(cmd.order_number), "work order", cmd.order_number)
    product = scope.material(cmd.product_code)
    bill_of_materials = []
    for line in cmd.bill_of_materials:
        # Kept in the component's base unit: consumption is reported in it.
        per_unit = scope.material(line.material_code).to_base(Quantity(line.quantity_per_unit, line.unit))
        bill_of_materials.append(BomLine(line.material_code, per_unit.value, per_unit.unit))
    for op in cmd.routing:
        scope.equipment(op.equipment_code).ensure_in_service()
    order = WorkOrder.create(
        order_number=cmd.order_number,
        product_code=product.code,
        planned_quantity=product.to_base(_quantity(cmd.planned_quantity)),
        bill_of_materials=bill_of_materials,
        routing=[Operation(op.sequence, op.name, op.equipment_code, op.ideal_cycle_time_s) for op in cmd.routing],
        provenance=scope.provenance,
    )
    scope.add(order)
    return {"work_order_id": str(order.id), "order_number": cmd.order_number}


def _order_transition(action: str) -> Callable[[Any, Scope], Result]:
    def transition(cmd: Any, scope: Scope) -> Result:
        order = scope.work_order(cmd.order_number)
        method = getattr(order, action)
        if hasattr(cmd, "reason"):
            method(reason=cmd.reason, provenance=scope.provenance)
        else:
            method(provenance=scope.provenance)
        return {"work_order_id": str(order.id), "order_number": cmd.order_number, "state": order.state.value}

    transition.__name__ = f"{action}_work_order"
    return transition


def _equipment_for(scope: Scope, order: WorkOrder, operation: int, code: str | None) -> str:
    """The equipment named in a report (it must exist and be in service), else the operation's own."""
    if code is None:
        return order.operation(operation).equipment_code
    scope.equipment(code).ensure_in_service()
    return code


def consume_material(cmd: c.ConsumeMaterial, scope: Scope) -> Result:
    """Takes material from a lot into a running order: the lot and the order change together."""
    order = scope.work_order(cmd.order_number)
    lot = scope.lot(cmd.lot_number)
    quantity = scope.material(lot.material_code).to_base(_quantity(cmd.quantity))
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
    return {"lot_id": str(lot.id), "lot_number": lot.lot_number, "remaining": str(lot.quantity)}


def report_production(cmd: c.ReportProduction, scope: Scope) -> Result:
    """Records an operation's output; good output becomes a new lot linked to the order's inputs."""
    order = scope.work_order(cmd.order_number)
    product = scope.material(order.product_code)
    good = product.to_base(_quantity(cmd.good))
    scrap = product.to_base(_quantity(cmd.scrap)) if cmd.scrap else Quantity.zero(good.unit)
    if cmd.lot_number and good:
        scope.ensure_new(lot_id(cmd.lot_number), "lot", cmd.lot_number)
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
    result: Result = {"work_order_id": str(order.id), "order_number": order.order_number}
    if good and cmd.lot_number:
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
        result |= {"lot_id": str(lot.id), "lot_number": cmd.lot_number}
    return result


HANDLERS: dict[type[c.Command], Callable[[Any, Scope], Result]] = {
    c.RegisterEquipment: register_equipment,
    c.DecommissionEquipment: decommission_equipment,
    c.DefineMaterial: define_material,
    c.ReceiveLot: receive_lot,
    c.SplitLot: split_lot,
    c.MergeLots: merge_lots,
    c.MoveLot: move_lot,
    c.HoldLot: hold_lot,
    c.ReleaseLot: release_lot,
    c.ScrapLot: scrap_lot,
    c.CreateWorkOrder: create_work_order,
    c.ReleaseWorkOrder: _order_transition("release"),
    c.StartWorkOrder: _order_transition("start"),
    c.HoldWorkOrder: _order_transition("hold"),
    c.ResumeWorkOrder: _order_transition("resume"),
    c.CompleteWorkOrder: _order_transition("complete"),
    c.CloseWorkOrder: _order_transition("close"),
    c.CancelWorkOrder: _order_transition("cancel"),
    c.ConsumeMaterial: consume_material,
    c.ReportProduction: report_production,
}
