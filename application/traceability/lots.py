"""Lot commands: receive, split, merge, move, hold, release and scrap material lots."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from application.commands import CODE_SCHEMA, Code, Command, Location, Name, NewLotNumber, QuantityIn, Reason
from application.handlers import Handles, registry
from application.unit_of_work import Scope
from domain.material_definition import MaterialDefinition
from domain.material_lot import MaterialLot


class ReceiveLot(Command, frozen=True):
    """Receives a supplier lot, available at once or into quarantine for incoming inspection."""

    lot_number: NewLotNumber
    material_code: Code
    quantity: QuantityIn
    location: Location
    supplier_lot: Name
    expiry: date | None = None
    quarantined: bool = False


class SplitLot(Command, frozen=True):
    """Splits part of a lot off into a new lot that keeps its status, hold and expiry."""

    lot_number: Code
    quantity: QuantityIn
    new_lot_number: NewLotNumber


class MergeLots(Command, frozen=True):
    """Pools whole available lots of one material into a new lot."""

    # litestar documents a list's own constraints but not its items': they are given here.
    lot_numbers: Annotated[
        list[Code],
        msgspec.Meta(min_length=2, max_length=100, extra_json_schema={"extra": {"items": CODE_SCHEMA}}),
    ]
    new_lot_number: NewLotNumber
    location: Location


class MoveLot(Command, frozen=True):
    """Moves a lot to another storage location or line-side buffer."""

    lot_number: Code
    location: Location


class HoldLot(Command, frozen=True):
    """Blocks a lot from use (a reason is required)."""

    lot_number: Code
    reason: Reason


class ReleaseLot(Command, frozen=True):
    """Lifts a hold, or releases a quarantined lot after inspection (a reason is required)."""

    lot_number: Code
    reason: Reason


class ScrapLot(Command, frozen=True):
    """Writes off a lot, or part of it, as waste (a reason is required)."""

    lot_number: Code
    reason: Reason
    quantity: QuantityIn | None = None


class LotChanged(msgspec.Struct, frozen=True):
    """The lot a command created or changed."""

    lot_id: str
    lot_number: str


def changed(lot: MaterialLot) -> LotChanged:
    return LotChanged(str(lot.id), lot.lot_number)


def receive_lot(cmd: ReceiveLot, scope: Scope) -> LotChanged:
    scope.ensure_new(MaterialLot, cmd.lot_number)
    material = scope.get(MaterialDefinition, cmd.material_code)
    lot = MaterialLot.receive(
        lot_number=cmd.lot_number,
        material_code=material.code,
        quantity=material.to_base(cmd.quantity.as_quantity()),
        location=cmd.location,
        supplier_lot=cmd.supplier_lot,
        expiry=cmd.expiry,
        quarantined=cmd.quarantined,
        provenance=scope.provenance,
    )
    scope.add(lot)
    return changed(lot)


def split_lot(cmd: SplitLot, scope: Scope) -> LotChanged:
    scope.ensure_new(MaterialLot, cmd.new_lot_number)
    lot = scope.get(MaterialLot, cmd.lot_number)
    quantity = scope.get(MaterialDefinition, lot.material_code).to_base(cmd.quantity.as_quantity())
    child = lot.split(quantity, into_lot=cmd.new_lot_number, provenance=scope.provenance)
    scope.add(child)
    return changed(child)


def merge_lots(cmd: MergeLots, scope: Scope) -> LotChanged:
    scope.ensure_new(MaterialLot, cmd.new_lot_number)
    sources = [scope.get(MaterialLot, number) for number in cmd.lot_numbers]
    merged = MaterialLot.merge(
        sources, lot_number=cmd.new_lot_number, location=cmd.location, provenance=scope.provenance
    )
    scope.add(merged)
    return changed(merged)


def move_lot(cmd: MoveLot, scope: Scope) -> LotChanged:
    lot = scope.get(MaterialLot, cmd.lot_number)
    lot.move(to_location=cmd.location, provenance=scope.provenance)
    return changed(lot)


def hold_lot(cmd: HoldLot, scope: Scope) -> LotChanged:
    lot = scope.get(MaterialLot, cmd.lot_number)
    lot.hold(reason=cmd.reason, provenance=scope.provenance)
    return changed(lot)


def release_lot(cmd: ReleaseLot, scope: Scope) -> LotChanged:
    lot = scope.get(MaterialLot, cmd.lot_number)
    lot.release(reason=cmd.reason, provenance=scope.provenance)
    return changed(lot)


def scrap_lot(cmd: ScrapLot, scope: Scope) -> LotChanged:
    lot = scope.get(MaterialLot, cmd.lot_number)
    material = scope.get(MaterialDefinition, lot.material_code)
    quantity = material.to_base(cmd.quantity.as_quantity()) if cmd.quantity else None
    lot.scrap(reason=cmd.reason, quantity=quantity, provenance=scope.provenance)
    return changed(lot)


HANDLERS = registry(
    Handles(ReceiveLot, receive_lot, LotChanged),
    Handles(SplitLot, split_lot, LotChanged),
    Handles(MergeLots, merge_lots, LotChanged),
    Handles(MoveLot, move_lot, LotChanged),
    Handles(HoldLot, hold_lot, LotChanged),
    Handles(ReleaseLot, release_lot, LotChanged),
    Handles(ScrapLot, scrap_lot, LotChanged),
)
