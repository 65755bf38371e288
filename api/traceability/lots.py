"""Lots over HTTP: receive, split, merge, move, hold, release and scrap; lots, inventory and histories."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import msgspec
from litestar import Controller
from litestar.params import FromQuery

from api.command_routes import CommandRoute
from api.query_routes import (
    Cursor,
    KeyFilter,
    Limit,
    MinPosition,
    Store,
    Views,
    convert,
    history,
    next_cursor,
    query,
    with_quantities,
)
from api.schemas import History, Page, QuantityView, decode_cursor, first_key
from api.validation import KeyPath
from application.traceability.lots import HoldLot, MergeLots, MoveLot, ReceiveLot, ReleaseLot, ScrapLot, SplitLot
from domain.errors import NotFoundError
from domain.material_lot import MaterialLot
from domain.values import LotStatus
from projections.store import Row
from projections.traceability import lots as view

TAG = "Lots"
LOT_URL = "/api/v1/lots/{lot_number}"
ROUTES = (
    CommandRoute("/lots", ReceiveLot, "Receive a supplier lot", TAG, created=LOT_URL),
    CommandRoute("/lots/merge", MergeLots, "Merge whole lots of one material into a new lot", TAG, created=LOT_URL),
    CommandRoute(
        "/lots/{lot_number:str}/split",
        SplitLot,
        "Split part of a lot off into a new lot",
        TAG,
        created=LOT_URL,
        path_fields=("lot_number",),
    ),
    *(
        CommandRoute(f"/lots/{{lot_number:str}}/{verb}", command, summary, TAG, path_fields=("lot_number",))
        for verb, command, summary in (
            ("move", MoveLot, "Move a lot to another location"),
            ("hold", HoldLot, "Put a lot on hold (reason required)"),
            ("release", ReleaseLot, "Release a held or quarantined lot (reason required)"),
            ("scrap", ScrapLot, "Scrap a lot or part of it (reason required)"),
        )
    ),
)


class LotView(msgspec.Struct, frozen=True):
    lot_id: str
    lot_number: str
    material_code: str
    quantity: QuantityView
    status: str
    location: str
    expiry: date | None
    supplier_lot: str | None
    origin: str
    order_number: str | None
    hold_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None
    position: int | None


class LotPage(Page, frozen=True):
    items: list[LotView]


class InventoryLine(msgspec.Struct, frozen=True):
    """Stock of one material at one location in one status."""

    material_code: str
    location: str
    status: str
    quantity: QuantityView
    lots: int


class InventoryPage(Page, frozen=True):
    items: list[InventoryLine]


class LotsController(Controller):
    path = "/"
    tags = [TAG]

    @query("/lots", summary="List lots (filter by material, status, location)")
    async def list_lots(
        self,
        views: Views,
        material_code: KeyFilter = None,
        status: FromQuery[LotStatus | None] = None,
        location: KeyFilter = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> LotPage:
        await views.reached(min_position, view.LotsProjection.name)
        rows = await asyncio.to_thread(
            view.list_lots,
            views.store,
            material_code=material_code,
            status=status,
            location=location,
            after=first_key(decode_cursor(cursor)),
            limit=limit,
        )
        return LotPage(next_cursor=next_cursor(rows, limit, "lot_number"), items=[_lot(r) for r in rows])

    @query("/lots/{lot_number:str}", summary="One lot: status, quantity, location")
    async def get_lot(self, views: Views, lot_number: KeyPath, min_position: MinPosition = None) -> LotView:
        await views.reached(min_position, view.LotsProjection.name)
        row = await asyncio.to_thread(view.get_lot, views.store, lot_number)
        if row is None:
            raise NotFoundError("lot", lot_number)
        return _lot(row)

    @query("/lots/{lot_number:str}/history", summary="Every event of a lot: who, what, when, why")
    async def lot_history(self, store: Store, lot_number: KeyPath) -> History:
        return await history(store, MaterialLot, lot_number)

    @query("/inventory", summary="Stock on hand per material, location and status")
    async def inventory(
        self,
        views: Views,
        material_code: KeyFilter = None,
        location: KeyFilter = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> InventoryPage:
        await views.reached(min_position, view.LotsProjection.name)
        rows = await asyncio.to_thread(
            view.inventory,
            views.store,
            material_code=material_code,
            location=location,
            after=decode_cursor(cursor, 3),
            limit=limit,
        )
        return InventoryPage(
            next_cursor=next_cursor(rows, limit, "material_code", "location", "status"),
            items=[convert(with_quantities(r, "unit", "quantity"), InventoryLine) for r in rows],
        )


def _lot(row: Row) -> LotView:
    return convert(with_quantities(row, "unit", "quantity"), LotView)  # type: ignore[no-any-return]
