"""Commands: what a person, machine or ERP asks Chronicle to do, as msgspec Structs.

Every command carries its own id (the idempotency key) and may carry `occurred_at`, the business
time of the change (an operator's report or a machine's timestamp); without it the clock decides.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from domain.values import EquipmentLevel

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[A-Za-z%][A-Za-z0-9%/._-]*$")]
Reason = Annotated[str, msgspec.Meta(max_length=500, pattern=NO_NUL)]
Location = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
CommandId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
# Quantities are exact decimals; anything beyond a billion units is a typo, not a lot.
MAX_AMOUNT = Decimal(1_000_000_000)
MAX_DECIMALS = 9  # finer than any scale weighs; and what every store's decimal type holds
Sequence = Annotated[int, msgspec.Meta(ge=1, le=9999)]


def check_amount(value: Decimal, *, allow_zero: bool = False) -> None:
    """Refuses amounts that are not finite, negative (or zero, where not allowed), or absurd."""
    if not value.is_finite():
        msg = "must be a finite number"
        raise ValueError(msg)
    if value < 0 or (value == 0 and not allow_zero):
        msg = "must be zero or more" if allow_zero else "must be greater than zero"
        raise ValueError(msg)
    if value > MAX_AMOUNT:
        msg = f"must be at most {MAX_AMOUNT}"
        raise ValueError(msg)
    if value.as_tuple().exponent < -MAX_DECIMALS:  # type: ignore[operator]
        msg = f"may have at most {MAX_DECIMALS} decimal places"
        raise ValueError(msg)


class QuantityIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An amount (greater than zero) with its unit of measure."""

    value: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        check_amount(self.value)


class AmountIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An amount that may be zero (scrap reported alongside good output)."""

    value: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        check_amount(self.value, allow_zero=True)


class ConversionIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    unit: Unit
    factor: Decimal

    def __post_init__(self) -> None:
        check_amount(self.factor)


class BomLineIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    material_code: Code
    quantity_per_unit: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        check_amount(self.quantity_per_unit)


class OperationIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    sequence: Sequence
    name: Name
    equipment_code: Code
    ideal_cycle_time_s: Decimal

    def __post_init__(self) -> None:
        check_amount(self.ideal_cycle_time_s)


class Command(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of every command: its id and, optionally, when it happened on the floor."""

    command_id: CommandId
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class RegisterEquipment(Command, frozen=True):
    code: Code
    name: Name
    level: EquipmentLevel
    parent_code: Code | None = None


class DecommissionEquipment(Command, frozen=True):
    code: Code
    reason: Reason


class DefineMaterial(Command, frozen=True):
    code: Code
    name: Name
    base_unit: Unit
    conversions: list[ConversionIn] = []


class ReceiveLot(Command, frozen=True):
    lot_number: Code
    material_code: Code
    quantity: QuantityIn
    location: Location
    supplier_lot: Name
    expiry: date | None = None
    quarantined: bool = False


class SplitLot(Command, frozen=True):
    lot_number: Code
    quantity: QuantityIn
    new_lot_number: Code


class MergeLots(Command, frozen=True):
    lot_numbers: Annotated[list[Code], msgspec.Meta(min_length=2, max_length=100)]
    new_lot_number: Code
    location: Location


class MoveLot(Command, frozen=True):
    lot_number: Code
    location: Location


class HoldLot(Command, frozen=True):
    lot_number: Code
    reason: Reason


class ReleaseLot(Command, frozen=True):
    lot_number: Code
    reason: Reason


class ScrapLot(Command, frozen=True):
    lot_number: Code
    reason: Reason
    quantity: QuantityIn | None = None


class CreateWorkOrder(Command, frozen=True):
    order_number: Code
    product_code: Code
    planned_quantity: QuantityIn
    bill_of_materials: Annotated[list[BomLineIn], msgspec.Meta(max_length=200)]
    routing: Annotated[list[OperationIn], msgspec.Meta(min_length=1, max_length=100)]


class ReleaseWorkOrder(Command, frozen=True):
    order_number: Code


class StartWorkOrder(Command, frozen=True):
    order_number: Code


class HoldWorkOrder(Command, frozen=True):
    order_number: Code
    reason: Reason


class ResumeWorkOrder(Command, frozen=True):
    order_number: Code


class CompleteWorkOrder(Command, frozen=True):
    order_number: Code


class CloseWorkOrder(Command, frozen=True):
    order_number: Code


class CancelWorkOrder(Command, frozen=True):
    order_number: Code
    reason: Reason


class ConsumeMaterial(Command, frozen=True):
    """Reports material taken from a lot by an operation of a running order."""

    order_number: Code
    lot_number: Code
    quantity: QuantityIn
    operation: Sequence
    equipment_code: Code | None = None


class ReportProduction(Command, frozen=True):
    """Reports good and scrap output of an operation; good output becomes a new lot."""

    order_number: Code
    operation: Sequence
    good: AmountIn
    scrap: AmountIn | None = None
    lot_number: Code | None = None
    location: Location = "WIP"
    equipment_code: Code | None = None
