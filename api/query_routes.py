"""Query routes: read the views (never the aggregates), page by cursor, wait for a position if asked."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter

from api.problems import ReadModelBehindError, error_responses
from api.schemas import (
    ConversionView,
    EquipmentPage,
    EquipmentView,
    Genealogy,
    History,
    HistoryEntry,
    InventoryLine,
    InventoryPage,
    LotPage,
    LotView,
    MaterialPage,
    MaterialUseView,
    MaterialView,
    OperationView,
    ReachedLot,
    ReachedLots,
    TraceNode,
    TraceStep,
    WipLine,
    WipPage,
    WorkOrderPage,
    WorkOrderSummary,
    WorkOrderView,
    decimal_text,
    decode_cursor,
    encode_cursor,
    quantity,
)
from api.validation import KeyPath
from application.commands import CODE_PATTERN
from application.service import Chronicle
from domain.errors import NotFoundError
from domain.ids import equipment_id, lot_id, work_order_id
from domain.values import EquipmentLevel, EquipmentStatus, LotStatus, RequestState
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
KeyFilter = Annotated[
    str | None, Parameter(min_length=1, max_length=64, pattern=CODE_PATTERN, description="A business key to match.")
]
Direction = Annotated[Literal["backward", "forward"], Parameter(description="backward or forward")]
AsOf = Annotated[datetime | None, Parameter(description="Trace as the genealogy stood at this time")]
MaxDepth = Annotated[
    int,
    Parameter(
        ge=1,
        le=1000,
        description="Most links a path may have; the answer says `truncated` when some path goes on beyond it.",
    ),
]
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


def _page(rows: list[Row], limit: int, *key: str) -> str | None:
    """The cursor of the next page: the last row's key, when the page is full."""
    return encode_cursor(*(str(rows[-1][k]) for k in key)) if len(rows) == limit else None


def _convert(row: Row, kind: type[Any]) -> Any:
    return msgspec.convert(row, type=kind, strict=False)


def _with_quantities(row: Row, unit: str, *names: str) -> Row:
    """The row with each named amount as a {value, unit} quantity in canonical decimal text."""
    return {**row, **{name: quantity(row[name], row[unit]) for name in names}}


QUERY_PROBLEMS = error_responses(400, 404, 422, 503)


def query(path: str, **options: Any) -> Any:
    """A GET route documenting the problems every query may answer."""
    return get(path, responses=QUERY_PROBLEMS, **options)


class ReadController(Controller):
    path = "/"
    tags = ["Queries"]

    @query("/equipment", summary="List equipment (filter by level, parent, status)", tags=["Equipment"])
    async def list_equipment(
        self,
        state: State,
        level: EquipmentLevel | None = None,
        parent_code: KeyFilter = None,
        status: EquipmentStatus | None = None,
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
            after=_first(decode_cursor(cursor)),
            limit=limit,
        )
        return EquipmentPage(next_cursor=_page(rows, limit, "code"), items=[_convert(r, EquipmentView) for r in rows])

    @query("/equipment/{code:str}", summary="One unit of equipment and its status", tags=["Equipment"])
    async def get_equipment(self, state: State, code: KeyPath, min_position: MinPosition = None) -> EquipmentView:
        await reached(state, min_position, "equipment")
        row = await asyncio.to_thread(equipment.get_equipment, state.read_store, code)
        if row is None:
            raise NotFoundError("equipment", code)
        return _convert(row, EquipmentView)  # type: ignore[no-any-return]

    @query("/equipment/{code:str}/history", summary="Every event of a piece of equipment", tags=["Equipment"])
    async def equipment_history(self, state: State, code: KeyPath) -> History:
        return await _history(state, "equipment", code, equipment_id(code))

    @query("/materials", summary="List material definitions", tags=["Materials"])
    async def list_materials(
        self, state: State, cursor: Cursor = None, limit: Limit = 100, min_position: MinPosition = None
    ) -> MaterialPage:
        await reached(state, min_position, "materials")
        rows = await asyncio.to_thread(
            materials.list_materials, state.read_store, after=_first(decode_cursor(cursor)), limit=limit
        )
        return MaterialPage(next_cursor=_page(rows, limit, "code"), items=[_material(r) for r in rows])

    @query("/materials/{code:str}", summary="One material definition", tags=["Materials"])
    async def get_material(self, state: State, code: KeyPath, min_position: MinPosition = None) -> MaterialView:
        await reached(state, min_position, "materials")
        row = await asyncio.to_thread(materials.get_material, state.read_store, code)
        if row is None:
            raise NotFoundError("material", code)
        return _material(row)

    @query("/lots", summary="List lots (filter by material, status, location)", tags=["Lots"])
    async def list_lots(
        self,
        state: State,
        material_code: KeyFilter = None,
        status: LotStatus | None = None,
        location: KeyFilter = None,
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
            after=_first(decode_cursor(cursor)),
            limit=limit,
        )
        return LotPage(next_cursor=_page(rows, limit, "lot_number"), items=[_lot(r) for r in rows])

    @query("/lots/{lot_number:str}", summary="One lot: status, quantity, location", tags=["Lots"])
    async def get_lot(self, state: State, lot_number: KeyPath, min_position: MinPosition = None) -> LotView:
        await reached(state, min_position, "lots")
        row = await asyncio.to_thread(lots.get_lot, state.read_store, lot_number)
        if row is None:
            raise NotFoundError("lot", lot_number)
        return _lot(row)

    @query("/inventory", summary="Stock on hand per material, location and status", tags=["Lots"])
    async def inventory(
        self,
        state: State,
        material_code: KeyFilter = None,
        location: KeyFilter = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> InventoryPage:
        await reached(state, min_position, "lots")
        rows = await asyncio.to_thread(
            lots.inventory,
            state.read_store,
            material_code=material_code,
            location=location,
            after=decode_cursor(cursor, 3),
            limit=limit,
        )
        return InventoryPage(
            next_cursor=_page(rows, limit, "material_code", "location", "status"),
            items=[_convert(_with_quantities(r, "unit", "quantity"), InventoryLine) for r in rows],
        )

    @query(
        "/lots/{lot_number:str}/genealogy",
        summary="Trace a lot backward (what went into it) or forward (where it went), every path",
        tags=["Genealogy"],
    )
    async def lot_genealogy(
        self,
        state: State,
        lot_number: KeyPath,
        direction: Direction,
        as_of: AsOf = None,
        max_depth: MaxDepth = genealogy.MAX_DEPTH,
        min_position: MinPosition = None,
    ) -> Genealogy:
        await reached(state, min_position, "genealogy")
        found = await asyncio.to_thread(
            genealogy.lot_with_trace, state.read_store, lot_number, direction, as_of=as_of, max_depth=max_depth
        )
        if found is None:
            raise NotFoundError("lot", lot_number)
        node, (rows, truncated) = found
        for row in rows:
            row["path"] = row["path"].split(">")
            row["quantity"] = quantity(row["quantity"], row["unit"])
        steps = msgspec.convert(rows, list[TraceStep], strict=False)
        return Genealogy(
            lot_number=lot_number,
            direction=direction,
            as_of=as_of,
            max_depth=max_depth,
            truncated=truncated,
            lots=list(dict.fromkeys(s.lot_number for s in steps)),
            steps=steps,
            tree=_tree(lot_number, node["material_code"], steps),
        )

    @query(
        "/lots/{lot_number:str}/genealogy/lots",
        summary="The lots a trace reaches, each once, however far (forward: the recall list)",
        tags=["Genealogy"],
    )
    async def lot_genealogy_lots(
        self,
        state: State,
        lot_number: KeyPath,
        direction: Direction,
        as_of: AsOf = None,
        min_position: MinPosition = None,
    ) -> ReachedLots:
        """Every lot reached, once, with its material and shortest distance, without the paths.

        Forward from a raw lot this is the recall list; it stays small and fast where material was
        split and merged so often that the paths multiply, and it has no depth limit."""
        await reached(state, min_position, "genealogy")
        found = await asyncio.to_thread(
            genealogy.lot_with_trace, state.read_store, lot_number, direction, as_of=as_of, lots_only=True
        )
        if found is None:
            raise NotFoundError("lot", lot_number)
        _, (rows, _) = found
        return ReachedLots(
            lot_number=lot_number,
            direction=direction,
            as_of=as_of,
            count=len(rows),
            lots=msgspec.convert(rows, list[ReachedLot], strict=False),
        )

    @query("/lots/{lot_number:str}/history", summary="Every event of a lot: who, what, when, why", tags=["Lots"])
    async def lot_history(self, state: State, lot_number: KeyPath) -> History:
        return await _history(state, "lot", lot_number, lot_id(lot_number))

    @query("/work-orders", summary="List work orders (filter by state, product)", tags=["Work orders"])
    async def list_work_orders(
        self,
        state: State,
        order_state: Annotated[RequestState | None, Parameter(query="state")] = None,
        product_code: KeyFilter = None,
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
            after=_first(decode_cursor(cursor)),
            limit=limit,
        )
        return WorkOrderPage(
            next_cursor=_page(rows, limit, "order_number"),
            items=[_convert(_order_quantities(r), WorkOrderSummary) for r in rows],
        )

    @query(
        "/work-orders/{order_number:str}",
        summary="One work order with its operations and consumption against the bill of materials",
        tags=["Work orders"],
    )
    async def get_work_order(
        self, state: State, order_number: KeyPath, min_position: MinPosition = None
    ) -> WorkOrderView:
        await reached(state, min_position, "work_orders")
        found = await asyncio.to_thread(work_orders.get_work_order, state.read_store, order_number)
        if found is None:
            raise NotFoundError("work order", order_number)
        order, operations, used = found
        return WorkOrderView(
            **msgspec.structs.asdict(_convert(_order_quantities(order), WorkOrderSummary)),
            operations=[
                OperationView(o["sequence"], o["name"], o["equipment_code"], decimal_text(o["ideal_cycle_time_s"]))
                for o in operations
            ],
            materials=[
                MaterialUseView(
                    material_code=m["material_code"],
                    quantity_per_unit=decimal_text(m["quantity_per_unit"]),
                    unit=m["unit"],
                    required=quantity(m["required_quantity"], m["unit"]),  # type: ignore[arg-type]
                    consumed=quantity(m["consumed_quantity"], m["unit"]),  # type: ignore[arg-type]
                )
                for m in used
            ],
        )

    @query("/work-orders/{order_number:str}/history", summary="Every event of a work order", tags=["Work orders"])
    async def work_order_history(self, state: State, order_number: KeyPath) -> History:
        return await _history(state, "work order", order_number, work_order_id(order_number))

    @query("/wip", summary="Work in progress per production line", tags=["Work orders"])
    async def wip(
        self, state: State, cursor: Cursor = None, limit: Limit = 100, min_position: MinPosition = None
    ) -> WipPage:
        await reached(state, min_position, "work_orders", "equipment")
        rows = await asyncio.to_thread(
            work_orders.wip_per_line, state.read_store, after=decode_cursor(cursor, 3), limit=limit
        )
        return WipPage(
            next_cursor=_page(rows, limit, "line_code", "state", "unit"),
            items=[_convert(_with_quantities(r, "unit", "planned_quantity", "good_quantity"), WipLine) for r in rows],
        )


def _first(key: list[str] | None) -> str | None:
    return key[0] if key else None


def _lot(row: Row) -> LotView:
    return _convert(_with_quantities(row, "unit", "quantity"), LotView)  # type: ignore[no-any-return]


def _order_quantities(row: Row) -> Row:
    return _with_quantities(row, "unit", "planned_quantity", "good_quantity", "scrap_quantity")


def _material(row: Row) -> MaterialView:
    conversions = msgspec.json.decode(row["conversions"])
    listed = [ConversionView(unit, decimal_text(factor)) for unit, factor in conversions.items()]
    return _convert({**row, "conversions": listed}, MaterialView)  # type: ignore[no-any-return]


async def _history(state: State, record: str, key: str, aggregate_id: UUID) -> History:
    """Every event of one aggregate, read from the event store (not a view): the record itself."""
    app: Chronicle = state.chronicle
    events = await asyncio.to_thread(app.history, aggregate_id)
    if not events or not _is_record(events[0], record):
        raise NotFoundError(record, key)
    return History(record=record, key=key, events=[_history_entry(e) for e in events])


RECORD_OF_TOPIC = {"lot": "MaterialLot", "work order": "WorkOrder", "equipment": "Equipment"}


def _is_record(first: Any, record: str) -> bool:
    return type(first).__qualname__.split(".")[0] == RECORD_OF_TOPIC[record]


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
        details=_canonical(msgspec.to_builtins(details, builtin_types=(Decimal,))),
    )


def _canonical(value: Any) -> Any:
    """Builtins with every decimal in canonical text, as every other answer gives them."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value
