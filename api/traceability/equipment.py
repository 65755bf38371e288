"""Equipment over HTTP: register and decommission units of the ISA-95 hierarchy; list, read, history."""

from __future__ import annotations

import asyncio
from datetime import datetime

import msgspec
from litestar import Controller
from litestar.params import FromQuery

from api.command_routes import CommandRoute
from api.query_routes import Cursor, KeyFilter, Limit, MinPosition, Store, Views, convert, history, next_cursor, query
from api.schemas import History, Page, decode_cursor, first_key
from api.validation import KeyPath
from application.traceability.equipment import DecommissionEquipment, RegisterEquipment
from domain.equipment import Equipment
from domain.errors import NotFoundError
from domain.values import EquipmentLevel, EquipmentStatus
from projections.traceability import equipment as view

TAG = "Equipment"
ROUTES = (
    CommandRoute(
        "/equipment",
        RegisterEquipment,
        "Register equipment under its ISA-95 parent",
        TAG,
        created="/api/v1/equipment/{code}",
    ),
    CommandRoute(
        "/equipment/{code:str}/decommission",
        DecommissionEquipment,
        "Decommission equipment",
        TAG,
        path_fields=("code",),
    ),
)


class EquipmentView(msgspec.Struct, frozen=True):
    equipment_id: str
    code: str
    name: str
    level: str
    parent_code: str | None
    status: str
    registered_at: datetime | None
    updated_at: datetime | None
    position: int | None


class EquipmentPage(Page, frozen=True):
    items: list[EquipmentView]


class EquipmentController(Controller):
    path = "/equipment"
    tags = [TAG]

    @query("/", summary="List equipment (filter by level, parent, status)")
    async def list_equipment(
        self,
        views: Views,
        level: FromQuery[EquipmentLevel | None] = None,
        parent_code: KeyFilter = None,
        status: FromQuery[EquipmentStatus | None] = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> EquipmentPage:
        await views.reached(min_position, view.EquipmentProjection.name)
        rows = await asyncio.to_thread(
            view.list_equipment,
            views.store,
            level=level,
            parent_code=parent_code,
            status=status,
            after=first_key(decode_cursor(cursor)),
            limit=limit,
        )
        return EquipmentPage(
            next_cursor=next_cursor(rows, limit, "code"), items=[convert(r, EquipmentView) for r in rows]
        )

    @query("/{code:str}", summary="One unit of equipment and its status")
    async def get_equipment(self, views: Views, code: KeyPath, min_position: MinPosition = None) -> EquipmentView:
        await views.reached(min_position, view.EquipmentProjection.name)
        row = await asyncio.to_thread(view.get_equipment, views.store, code)
        if row is None:
            raise NotFoundError("equipment", code)
        return convert(row, EquipmentView)  # type: ignore[no-any-return]

    @query("/{code:str}/history", summary="Every event of a piece of equipment")
    async def equipment_history(self, store: Store, code: KeyPath) -> History:
        return await history(store, Equipment, code)
