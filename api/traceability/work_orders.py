"""Work orders over HTTP: create, move through RequestState, report consumption and production;
orders, WIP per line and histories."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller
from litestar.params import QueryParameter

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
from api.schemas import History, Page, QuantityView, decimal_text, decode_cursor, first_key
from api.validation import KeyPath
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
from domain.errors import NotFoundError
from domain.values import RequestState
from domain.work_order import WorkOrder
from projections.store import Row
from projections.traceability import equipment as equipment_view
from projections.traceability import work_orders as view

TAG = "Work orders"
ROUTES = (
    CommandRoute(
        "/work-orders",
        CreateWorkOrder,
        "Create a work order (state Forecast)",
        TAG,
        created="/api/v1/work-orders/{order_number}",
    ),
    *(
        CommandRoute(f"/work-orders/{{order_number:str}}/{verb}", command, summary, TAG, path_fields=("order_number",))
        for verb, command, summary in (
            ("release", ReleaseWorkOrder, "Release a work order to the floor"),
            ("start", StartWorkOrder, "Start a released work order"),
            ("hold", HoldWorkOrder, "Hold a work order (reason required)"),
            ("resume", ResumeWorkOrder, "Resume a held work order"),
            ("complete", CompleteWorkOrder, "Complete a running work order"),
            ("close", CloseWorkOrder, "Close a completed work order"),
            ("cancel", CancelWorkOrder, "Cancel a work order that has not finished (reason required)"),
            ("consumptions", ConsumeMaterial, "Report material consumed from a lot by an operation"),
            ("productions", ReportProduction, "Report good and scrap output of an operation"),
        )
    ),
)


class OperationView(msgspec.Struct, frozen=True):
    sequence: int
    name: str
    equipment_code: str
    ideal_cycle_time_s: str


class MaterialUseView(msgspec.Struct, frozen=True):
    """A bill of materials line (as it was sent) against what the order needs and consumed so far."""

    material_code: str
    quantity_per_unit: str
    unit: str
    required: QuantityView
    consumed: QuantityView


class WorkOrderSummary(msgspec.Struct, frozen=True):
    work_order_id: str
    order_number: str
    product_code: str
    state: str
    planned_quantity: QuantityView
    good_quantity: QuantityView
    scrap_quantity: QuantityView
    hold_reason: str | None
    cancel_reason: str | None
    created_at: datetime | None
    released_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime | None
    position: int | None


class WorkOrderView(WorkOrderSummary, frozen=True):
    operations: list[OperationView]
    materials: list[MaterialUseView]


class WorkOrderPage(Page, frozen=True):
    items: list[WorkOrderSummary]


class WipLine(msgspec.Struct, frozen=True):
    """Work in progress on one production line in one state (no line: orders routed on a site)."""

    line_code: str | None
    state: str
    orders: int
    planned_quantity: QuantityView
    good_quantity: QuantityView


class WipPage(Page, frozen=True):
    items: list[WipLine]


class WorkOrdersController(Controller):
    path = "/"
    tags = [TAG]

    @query("/work-orders", summary="List work orders (filter by state, product)")
    async def list_work_orders(
        self,
        views: Views,
        order_state: Annotated[RequestState | None, QueryParameter(name="state")] = None,
        product_code: KeyFilter = None,
        cursor: Cursor = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> WorkOrderPage:
        await views.reached(min_position, view.WorkOrdersProjection.name)
        rows = await asyncio.to_thread(
            view.list_work_orders,
            views.store,
            state=order_state,
            product_code=product_code,
            after=first_key(decode_cursor(cursor)),
            limit=limit,
        )
        return WorkOrderPage(
            next_cursor=next_cursor(rows, limit, "order_number"),
            items=[convert(_order_quantities(r), WorkOrderSummary) for r in rows],
        )

    @query(
        "/work-orders/{order_number:str}",
        summary="One work order with its operations and consumption against the bill of materials",
    )
    async def get_work_order(
        self, views: Views, order_number: KeyPath, min_position: MinPosition = None
    ) -> WorkOrderView:
        await views.reached(min_position, view.WorkOrdersProjection.name)
        found = await asyncio.to_thread(view.get_work_order, views.store, order_number)
        if found is None:
            raise NotFoundError("work order", order_number)
        order, operations, used = found
        return WorkOrderView(
            **msgspec.structs.asdict(convert(_order_quantities(order), WorkOrderSummary)),
            operations=[
                OperationView(o["sequence"], o["name"], o["equipment_code"], decimal_text(o["ideal_cycle_time_s"]))
                for o in operations
            ],
            materials=[
                MaterialUseView(
                    material_code=m["material_code"],
                    quantity_per_unit=decimal_text(m["quantity_per_unit"]),
                    unit=m["unit"],
                    required=QuantityView(decimal_text(m["required_quantity"]), m["unit"]),
                    consumed=QuantityView(decimal_text(m["consumed_quantity"]), m["unit"]),
                )
                for m in used
            ],
        )

    @query("/work-orders/{order_number:str}/history", summary="Every event of a work order")
    async def work_order_history(self, store: Store, order_number: KeyPath) -> History:
        return await history(store, WorkOrder, order_number)

    @query("/wip", summary="Work in progress per production line")
    async def wip(
        self, views: Views, cursor: Cursor = None, limit: Limit = 100, min_position: MinPosition = None
    ) -> WipPage:
        await views.reached(min_position, view.WorkOrdersProjection.name, equipment_view.EquipmentProjection.name)
        rows = await asyncio.to_thread(view.wip_per_line, views.store, after=decode_cursor(cursor, 3), limit=limit)
        return WipPage(
            next_cursor=next_cursor(rows, limit, "line_code", "state", "unit"),
            items=[
                convert(with_quantities(r, "unit", "planned_quantity", "good_quantity") | _line(r), WipLine)
                for r in rows
            ],
        )


def _line(row: Row) -> Row:
    return {"line_code": row["line_code"] or None}


def _order_quantities(row: Row) -> Row:
    return with_quantities(row, "unit", "planned_quantity", "good_quantity", "scrap_quantity")
