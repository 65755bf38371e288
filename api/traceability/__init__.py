"""Traceability over HTTP: each module holds one resource's command routes, queries and answers."""

from __future__ import annotations

from api.capability import Capability
from api.operations import API_PATH, Link
from api.traceability import equipment, genealogy, lots, materials, work_orders
from application.access.policy import READ
from application.traceability import COMMAND_ROLES, HANDLERS
from projections.traceability import PROJECTIONS

# Reading production records: every role but the administrator's (least privilege). Commands take
# their roles from application/traceability (COMMAND_ROLES).
PERMISSIONS = {
    f"GET {API_PATH}{path}": READ
    for path in (
        "/equipment",
        "/equipment/{code}",
        "/equipment/{code}/history",
        "/materials",
        "/materials/{code}",
        "/lots",
        "/lots/{lot_number}",
        "/lots/{lot_number}/history",
        "/lots/{lot_number}/genealogy",
        "/lots/{lot_number}/genealogy/lots",
        "/inventory",
        "/work-orders",
        "/work-orders/{order_number}",
        "/work-orders/{order_number}/history",
        "/wip",
    )
}

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
    command_roles=COMMAND_ROLES,
    permissions=PERMISSIONS,
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
