"""Traceability's read models: equipment, materials, lots and inventory, work orders and WIP, genealogy."""

from __future__ import annotations

from projections.runner import ReadModelProjection
from projections.traceability.equipment import EquipmentProjection
from projections.traceability.genealogy import GenealogyProjection
from projections.traceability.lots import LotsProjection
from projections.traceability.materials import MaterialsProjection
from projections.traceability.work_orders import WorkOrdersProjection

PROJECTIONS: tuple[type[ReadModelProjection], ...] = (
    EquipmentProjection,
    MaterialsProjection,
    LotsProjection,
    WorkOrdersProjection,
    GenealogyProjection,
)
