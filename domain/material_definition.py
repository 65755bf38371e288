"""MaterialDefinition: what a material is (code, name, base unit), as opposed to a lot of it."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidQuantityError, UnitMismatchError
from domain.ids import material_id
from domain.values import Provenance, Quantity, UnitConversion

# Conversions that hold for every material: (unit, base unit) -> factor.
STANDARD_CONVERSIONS: dict[tuple[str, str], Decimal] = {
    ("g", "kg"): Decimal("0.001"),
    ("t", "kg"): Decimal(1000),
    ("kg", "g"): Decimal(1000),
    ("mL", "L"): Decimal("0.001"),
    ("hL", "L"): Decimal(100),
    ("L", "mL"): Decimal(1000),
}


class MaterialDefinition(Aggregate):
    """A kind of material the plant receives, uses or makes, with its base unit of measure."""

    record_name = "material"

    code: str
    name: str
    base_unit: str
    conversions: dict[str, Decimal]

    @staticmethod
    def create_id(code: str) -> UUID:
        return material_id(code)

    class Defined(Aggregate.Created):
        """The material was defined with its base unit and conversions."""

        code: str
        name: str
        base_unit: str
        conversions: tuple[UnitConversion, ...]
        provenance: Provenance

    @event(Defined)
    def __init__(
        self,
        code: str,
        name: str,
        base_unit: str,
        conversions: tuple[UnitConversion, ...],
        provenance: Provenance,
    ) -> None:
        self.code = code
        self.name = name
        self.base_unit = base_unit
        self.conversions = {c.unit: c.factor for c in conversions}

    @classmethod
    def define(
        cls,
        *,
        code: str,
        name: str,
        base_unit: str,
        conversions: tuple[UnitConversion, ...] = (),
        provenance: Provenance,
    ) -> MaterialDefinition:
        """Defines a material; each conversion says how many base units one unit holds."""
        for conversion in conversions:
            if conversion.factor <= 0:
                raise InvalidQuantityError(str(conversion.factor), f"is no factor for {conversion.unit!r}")
        return cls(code=code, name=name, base_unit=base_unit, conversions=conversions, provenance=provenance)

    def define_conversion(self, conversion: UnitConversion, *, provenance: Provenance) -> None:
        """Adds a unit this material may be counted in (a case, a pallet, a drum)."""
        if conversion.factor <= 0:
            raise InvalidQuantityError(str(conversion.factor), f"is no factor for {conversion.unit!r}")
        self._conversion_defined(conversion=conversion, provenance=provenance)

    class ConversionDefined(Aggregate.Event):
        """A unit the material may be counted in was added."""

        conversion: UnitConversion
        provenance: Provenance

    @event(ConversionDefined)
    def _conversion_defined(self, conversion: UnitConversion, provenance: Provenance) -> None:
        self.conversions = {**self.conversions, conversion.unit: conversion.factor}

    def to_base(self, quantity: Quantity) -> Quantity:
        """The same amount in the base unit; a unit with no conversion is refused."""
        if quantity.unit == self.base_unit:
            return quantity
        factor = self.conversions.get(quantity.unit) or STANDARD_CONVERSIONS.get((quantity.unit, self.base_unit))
        if factor is None:
            raise UnitMismatchError(expected=self.base_unit, given=quantity.unit)
        return Quantity(quantity.value * factor, self.base_unit)
