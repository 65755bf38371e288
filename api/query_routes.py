"""Query routes: read the views (never the aggregates), page by cursor, wait for a position if asked."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter

from api.problems import ReadModelBehindError, error_responses
from api.schemas import (
    EquipmentPage,
    EquipmentView,
    Genealogy,
    HistoryEntry,
    InventoryLine,
    LotHistory,
    LotPage,
    LotView,
    MaterialPage,
    MaterialView,
    ReachedLot,
    ReachedLots,
    TraceNode,
    TraceStep,
    WipLine,
    WorkOrderPage,
    WorkOrderSummary,
    WorkOrderView,
    decode_cursor,
    encode_cursor,
)
from application.service import Chronicle
from domain.errors import NotFoundError
from domain.ids import lot_id
from projections import equipment, genealogy, lots, materials, work_orders
from projections.store import ReadStore, Row

Limit = Annotated[int, Parameter(ge=1, le=500, description="Most items in one page.")]
Cursor = Annotated[str | None, Parameter(max_length=400, description="`next_cursor` of the previous page.")]
MinPosition = Annotated[
    int | None,
    Parameter(
        ge=0,
        description="Read-your-writes: wait (up to a few seconds) until the read model has reached this position "
        "(a command's answer gives it); 503 if it has not.",
    ),
]
Text = Annotated[str | None, Parameter(min_length=1, max_length=64)]
Direction = Annotated[Literal["backward", "forward"], Parameter(description="backward or forward")]
AsOf = Annotated[datetime | None, Parameter(description="Trace as the genealogy stood at this time")]
READ_WAIT_S = 5.0
_PROVENANCE_FIELDS = {"provenance", "reason", "timestamp", "originator_id", "originator_version", "originator_topic"}


async def reached(state: State, position: int | None, *views: str) -> None:
    """Waits until every view named has applied `position`, or raises ReadModelBehindError."""
    if position is None:
        return
    store: ReadStore = state.read_store
    marks = ", ".join("?" * len(views))

    def lowest() -> int:
        with store.reader() as tx:
            rows = tx.execute(f"SELECT min(position) AS p FROM projection_positions WHERE name IN ({marks})", views)  # noqa: S608
        return int(rows[0]["p"] or 0) if rows else 0

    loop = asyncio.get_running_loop()
    deadline = loop.time() + READ_WAIT_S
    current = await asyncio.to_thread(lowest)
    while current < position:
        if loop.time() >= deadline:
            raise ReadModelBehindError(position, current)
        await state.projections_advanced.wait_briefly()
        current = await asyncio.to_thread(lowest)


def _page(rows: list[Row], limit: int, key: str) -> tuple[list[Row], str | None]:
    return rows, encode_cursor(rows[-1][key]) if len(rows) == limit else None


def _convert(row: Row, kind: type[Any]) -> Any:
    return msgspec.convert(row, type=kind, strict=False)


class ReadController(Controller):
    path = "/"
    tags = ["Queries"]
    responses = error_responses()

    @get("/equipment", summary="List equipment (filter by level, parent, status)", tags=["Equipment"])
    async def list_equipment(
        self,
        state: State,
        level: Text = None,
        parent_code: Text = None,
        status: Text = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> EquipmentPage:
        await reached(state, min_position, "equipment")
        rows = await asyncio.to_thread(
            equipment.list_equipment,
            state.read_store,
            level=level,
            parent_code=parent_code,
            status=status,
            after=decode_cursor(cursor),
            limit=limit,
        )
        items, next_cursor = _page(rows, limit, "code")
        return EquipmentPage(next_cursor=next_cursor, items=[_convert(r, EquipmentView) for r in items])

    @get("/equipment/{code:str}", summary="One unit of equipment and its status", tags=["Equipment"])
    async def get_equipment(self, state: State, code: str, min_position: MinPosition = None) -> EquipmentView:
        await reached(state, min_position, "equipment")
        row = await asyncio.to_thread(equipment.get_equipment, state.read_store, code)
        if row is None:
            raise NotFoundError("equipment", code)
        return _convert(row, EquipmentView)  # type: ignore[no-any-return]

    @get("/materials", summary="List material definitions", tags=["Materials"])
    async def list_materials(
        self, state: State, cursor: Cursor = None, limit: Limit = 100, min_position: MinPosition = None
    ) -> MaterialPage:
        await reached(state, min_position, "materials")
        rows = await asyncio.to_thread(
            materials.list_materials, state.read_store, after=decode_cursor(cursor), limit=limit
        )
        items, next_cursor = _page(rows, limit, "code")
        return MaterialPage(next_cursor=next_cursor, items=[_material(r) for r in items])

    @get("/materials/{code:str}", summary="One material definition", tags=["Materials"])
    async def get_material(self, state: State, code: str, min_position: MinPosition = None) -> MaterialView:
        await reached(state, min_position, "materials")
        row = await asyncio.to_thread(materials.get_material, state.read_store, code)
        if row is None:
            raise NotFoundError("material", code)
        return _material(row)

    @get("/lots", summary="List lots (filter by material, status, location)", tags=["Lots"])
    async def list_lots(
        self,
        state: State,
        material_code: Text = None,
        status: Text = None,
        location: Text = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> LotPage:
        await reached(state, min_position, "lots")
        rows = await asyncio.to_thread(
            lots.list_lots,
            state.read_store,
            material_code=material_code,
            status=status,
            location=location,
            after=decode_cursor(cursor),
            limit=limit,
        )
        items, next_cursor = _page(rows, limit, "lot_number")
        return LotPage(next_cursor=next_cursor, items=[_convert(r, LotView) for r in items])

    @get("/lots/{lot_number:str}", summary="One lot: status, quantity, location", tags=["Lots"])
    async def get_lot(self, state: State, lot_number: str, min_position: MinPosition = None) -> LotView:
        await reached(state, min_position, "lots")
        row = await asyncio.to_thread(lots.get_lot, state.read_store, lot_number)
        if row is None:
            raise NotFoundError("lot", lot_number)
        return _convert(row, LotView)  # type: ignore[no-any-return]

    @get("/inventory", summary="Stock on hand per material, location and status", tags=["Lots"])
    async def inventory(
        self, state: State, material_code: Text = None, location: Text = None, min_position: MinPosition = None
    ) -> list[InventoryLine]:
        await reached(state, min_position, "lots")
        rows = await asyncio.to_thread(lots.inventory, state.read_store, material_code=material_code, location=location)
        return [_convert(r, InventoryLine) for r in rows]

    @get(
        "/lots/{lot_number:str}/genealogy",
        summary="Trace a lot backward (what went into it) or forward (where it went: the recall list)",
        tags=["Genealogy"],
    )
    async def lot_genealogy(
        self,
        state: State,
        lot_number: str,
        direction: Direction,
        as_of: AsOf = None,
        min_position: MinPosition = None,
    ) -> Genealogy:
        await reached(state, min_position, "genealogy")
        node, rows = await asyncio.to_thread(
            genealogy.lot_with_trace, state.read_store, lot_number, direction, as_of=as_of
        )
        if node is None:
            raise NotFoundError("lot", lot_number)
        for row in rows:
            row["path"] = row["path"].split(">")
        steps = msgspec.convert(rows, list[TraceStep], strict=False)
        return Genealogy(
            lot_number=lot_number,
            direction=direction,
            as_of=as_of,
            lots=list(dict.fromkeys(s.lot_number for s in steps)),
            steps=steps,
            tree=_tree(lot_number, node["material_code"], steps),
        )

    @get(
        "/lots/{lot_number:str}/genealogy/lots",
        summary="The lots a trace reaches, each once (forward: the recall list)",
        tags=["Genealogy"],
    )
    async def lot_genealogy_lots(
        self,
        state: State,
        lot_number: str,
        direction: Direction,
        as_of: AsOf = None,
        min_position: MinPosition = None,
    ) -> ReachedLots:
        """Every lot reached, once, with its material and shortest distance, without the paths.

        Forward from a raw lot this is the recall list; it stays small and fast where material was
        split and merged so often that the paths multiply."""
        await reached(state, min_position, "genealogy")
        node, rows = await asyncio.to_thread(
            genealogy.lot_with_trace, state.read_store, lot_number, direction, as_of=as_of, lots_only=True
        )
        if node is None:
            raise NotFoundError("lot", lot_number)
        return ReachedLots(
            lot_number=lot_number,
            direction=direction,
            as_of=as_of,
            count=len(rows),
            lots=msgspec.convert(rows, list[ReachedLot], strict=False),
        )

    @get("/lots/{lot_number:str}/history", summary="Every event of a lot: who, what, when, why", tags=["Lots"])
    async def lot_history(self, state: State, lot_number: str) -> LotHistory:
        app: Chronicle = state.chronicle
        events = await asyncio.to_thread(app.history, lot_id(lot_number))
        if not events:
            raise NotFoundError("lot", lot_number)
        return LotHistory(lot_number=lot_number, events=[_history_entry(e) for e in events])

    @get("/work-orders", summary="List work orders (filter by state, product)", tags=["Work orders"])
    async def list_work_orders(
        self,
        state: State,
        order_state: Annotated[str | None, Parameter(query="state", max_length=32)] = None,
        product_code: Text = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> WorkOrderPage:
        await reached(state, min_position, "work_orders")
        rows = await asyncio.to_thread(
            work_orders.list_work_orders,
            state.read_store,
            state=order_state,
            product_code=product_code,
            after=decode_cursor(cursor),
            limit=limit,
        )
        items, next_cursor = _page(rows, limit, "order_number")
        return WorkOrderPage(next_cursor=next_cursor, items=[_convert(r, WorkOrderSummary) for r in items])

    @get(
        "/work-orders/{order_number:str}",
        summary="One work order with its operations and consumption against the bill of materials",
        tags=["Work orders"],
    )
    async def get_work_order(self, state: State, order_number: str, min_position: MinPosition = None) -> WorkOrderView:
        await reached(state, min_position, "work_orders")
        found = await asyncio.to_thread(work_orders.get_work_order, state.read_store, order_number)
        if found is None:
            raise NotFoundError("work order", order_number)
        order, operations, used = found
        return _convert({**order, "operations": operations, "materials": used}, WorkOrderView)  # type: ignore[no-any-return]

    @get("/wip", summary="Work in progress per production line", tags=["Work orders"])
    async def wip(self, state: State, min_position: MinPosition = None) -> list[WipLine]:
        await reached(state, min_position, "work_orders", "equipment")
        rows = await asyncio.to_thread(work_orders.wip_per_line, state.read_store)
        return [_convert(r, WipLine) for r in rows]


def _material(row: Row) -> MaterialView:
    return _convert({**row, "conversions": msgspec.json.decode(row["conversions"])}, MaterialView)  # type: ignore[no-any-return]


def _tree(root: str, material_code: str | None, steps: list[TraceStep]) -> TraceNode:
    """The trace as a tree: each step hangs under the step it was reached from (by its path)."""
    children: dict[tuple[str, ...], list[TraceStep]] = {}
    for step in steps:
        children.setdefault(tuple(step.path[:-1]), []).append(step)

    def build(path: tuple[str, ...], step: TraceStep | None) -> TraceNode:
        kids = [build((*path, s.lot_number), s) for s in children.get(path, [])]
        if step is None:
            return TraceNode(lot_number=root, material_code=material_code, children=kids)
        return TraceNode(
            lot_number=step.lot_number,
            material_code=step.material_code,
            kind=step.kind,
            quantity=step.quantity,
            unit=step.unit,
            order_number=step.order_number,
            children=kids,
        )

    return build((root,), None)


def _history_entry(event: Any) -> HistoryEntry:
    p = event.provenance
    details = {k: v for k, v in vars(event).items() if k not in _PROVENANCE_FIELDS}
    return HistoryEntry(
        version=event.originator_version,
        event=type(event).__name__,
        occurred_at=p.occurred_at,
        recorded_at=event.timestamp,
        actor_id=p.actor.id,
        actor_name=p.actor.name,
        source=str(p.source),
        command_id=p.command_id,
        correlation_id=p.correlation_id,
        reason=getattr(event, "reason", None),
        details=msgspec.to_builtins(details),
    )
