"""Traceability over HTTP: each module holds one resource's command routes, queries and answers."""

from __future__ import annotations

from api.capability import Capability
from api.operations import API_PATH, Link
from api.traceability import equipment, genealogy, lots, materials, work_orders
from application.traceability import HANDLERS
from projections.traceability import PROJECTIONS

CAPABILITY = Capability(
    name="traceability",
    handlers=HANDLERS,
    command_routes=(*equipment.ROUTES, *materials.ROUTES, *lots.ROUTES, *work_orders.ROUTES),
    query_routes=(
        equipment.EquipmentController,
        materials.MaterialsController,
        lots.LotsController,
        genealogy.GenealogyController,
        work_orders.WorkOrdersController,
    ),
    projections=PROJECTIONS,
    tags=("Equipment", "Materials", "Lots", "Genealogy", "Work orders"),
    parts=(
        Link("equipment", f"{API_PATH}/equipment", "The equipment hierarchy: register, change status, list"),
        Link("materials", f"{API_PATH}/materials", "Material definitions and their unit conversions"),
        Link("lots", f"{API_PATH}/lots", "Material lots: receive, move, hold, release, consume; history"),
        Link("inventory", f"{API_PATH}/inventory", "Stock on hand per material, location and status"),
        Link("work-orders", f"{API_PATH}/work-orders", "Work orders: create, release, start, consume, produce"),
        Link("wip", f"{API_PATH}/wip", "Work in progress per production line"),
        Link(
            "genealogy",
            f"{API_PATH}/lots/{{lot_number}}/genealogy",
            "A lot's genealogy: backward (what went in) or forward (where it went)",
        ),
    ),
)
