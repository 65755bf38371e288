"""Traceability: equipment, materials, lots and work orders, and the genealogy they make.

Each module holds one resource's commands, handlers and results, and exports its registry
fragment; `HANDLERS` is the capability's, and `COMMAND_ROLES` says who may send each command.
"""

from __future__ import annotations

from application.access.policy import CommandRoles, roles
from application.handlers import join
from application.traceability import equipment, lots, materials, work_orders
from application.traceability.equipment import DecommissionEquipment, RegisterEquipment
from application.traceability.lots import HoldLot, MergeLots, MoveLot, ReceiveLot, ReleaseLot, ScrapLot, SplitLot
from application.traceability.materials import DefineMaterial
from application.traceability.work_orders import (
    CancelWorkOrder,
    CloseWorkOrder,
    CompleteWorkOrder,
    ConsumeMaterial,
    CreateWorkOrder,
    HoldWorkOrder,
    ReleaseWorkOrder,
    ReportProduction,
    ResumeWorkOrder,
    StartWorkOrder,
)
from domain.values import Role

HANDLERS = join([equipment.HANDLERS, materials.HANDLERS, lots.HANDLERS, work_orders.HANDLERS])

_FLOOR = roles(Role.OPERATOR, Role.SUPERVISOR)
_FLOOR_AND_MACHINES = _FLOOR | {Role.INTEGRATION}  # what an OT connector or the ERP also reports
_MASTER_DATA = roles(Role.PLANNER, Role.INTEGRATION)

COMMAND_ROLES: CommandRoles = {
    DefineMaterial: _MASTER_DATA,
    RegisterEquipment: _MASTER_DATA | {Role.MAINTENANCE},
    DecommissionEquipment: roles(Role.MAINTENANCE),
    ReceiveLot: _FLOOR_AND_MACHINES,
    SplitLot: _FLOOR_AND_MACHINES,
    MergeLots: _FLOOR_AND_MACHINES,
    MoveLot: _FLOOR_AND_MACHINES,
    # Anyone on the floor may stop a suspect lot; only quality lets it go again.
    HoldLot: _FLOOR | {Role.QUALITY},
    ReleaseLot: roles(Role.QUALITY),
    ScrapLot: roles(Role.SUPERVISOR, Role.QUALITY),
    CreateWorkOrder: _MASTER_DATA,
    ReleaseWorkOrder: roles(Role.PLANNER, Role.SUPERVISOR),
    StartWorkOrder: _FLOOR,
    HoldWorkOrder: _FLOOR | {Role.QUALITY},
    ResumeWorkOrder: _FLOOR,
    CompleteWorkOrder: _FLOOR,
    CloseWorkOrder: roles(Role.SUPERVISOR),
    CancelWorkOrder: roles(Role.PLANNER, Role.SUPERVISOR, Role.INTEGRATION),
    ConsumeMaterial: _FLOOR_AND_MACHINES,
    ReportProduction: _FLOOR_AND_MACHINES,
}
