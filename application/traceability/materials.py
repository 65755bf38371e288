"""Material definition commands: define what a material is and the units it is counted in."""

from __future__ import annotations

import msgspec

from application.commands import Amount, Code, Command, Name, Unit, check_amount
from application.handlers import Handles, registry
from application.unit_of_work import Scope
from domain.material_definition import MaterialDefinition
from domain.values import UnitConversion


class ConversionIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """`1 unit = factor x base unit` (a bag of sugar: `bag`, 25)."""

    unit: Unit
    factor: Amount

    def __post_init__(self) -> None:
        check_amount(self.factor)


class DefineMaterial(Command, frozen=True):
    """Defines a material with its base unit and the other units it may be counted in."""

    code: Code
    name: Name
    base_unit: Unit
    conversions: list[ConversionIn] = []


class MaterialChanged(msgspec.Struct, frozen=True):
    """The material a command defined."""

    material_id: str
    code: str


def define_material(cmd: DefineMaterial, scope: Scope) -> MaterialChanged:
    scope.ensure_new(MaterialDefinition, cmd.code)
    material = MaterialDefinition.define(
        code=cmd.code,
        name=cmd.name,
        base_unit=cmd.base_unit,
        conversions=tuple(UnitConversion(x.unit, x.factor) for x in cmd.conversions),
        provenance=scope.provenance,
    )
    scope.add(material)
    return MaterialChanged(str(material.id), cmd.code)


HANDLERS = registry(Handles(DefineMaterial, define_material, MaterialChanged))
