"""Equipment commands: register a unit of the ISA-95 hierarchy, decommission it."""

from __future__ import annotations

import msgspec

from application.commands import Code, Command, Name, Reason
from application.handlers import Handles, registry
from application.unit_of_work import Scope
from domain.equipment import Equipment
from domain.values import EquipmentLevel


class RegisterEquipment(Command, frozen=True):
    """Registers a site, area, production line or work cell under its parent."""

    code: Code
    name: Name
    level: EquipmentLevel
    parent_code: Code | None = None


class DecommissionEquipment(Command, frozen=True):
    """Takes equipment out of service for good (a reason is required)."""

    code: Code
    reason: Reason


class EquipmentChanged(msgspec.Struct, frozen=True):
    """The equipment a command registered or changed."""

    equipment_id: str
    code: str


def register_equipment(cmd: RegisterEquipment, scope: Scope) -> EquipmentChanged:
    scope.ensure_new(Equipment, cmd.code)
    parent = scope.get(Equipment, cmd.parent_code) if cmd.parent_code else None
    equipment = Equipment.register(
        code=cmd.code, name=cmd.name, level=cmd.level, parent=parent, provenance=scope.provenance
    )
    scope.add(equipment)
    return EquipmentChanged(str(equipment.id), cmd.code)


def decommission_equipment(cmd: DecommissionEquipment, scope: Scope) -> EquipmentChanged:
    equipment = scope.get(Equipment, cmd.code)
    equipment.decommission(reason=cmd.reason, provenance=scope.provenance)
    return EquipmentChanged(str(equipment.id), cmd.code)


HANDLERS = registry(
    Handles(RegisterEquipment, register_equipment, EquipmentChanged),
    Handles(DecommissionEquipment, decommission_equipment, EquipmentChanged),
)
