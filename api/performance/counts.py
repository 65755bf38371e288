"""Counts over HTTP: report what an equipment made; read it back per order, from the authoritative
source of each order."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from api.command_routes import CommandRoute
from api.performance.states import TAG, From, Moment, equipment_range
from api.query_routes import MinPosition, Views, query
from api.schemas import decimal_text
from api.validation import KeyPath
from application.performance.counts import ReconcileCounts, ReportCounts
from domain.packml import authoritative as counting_source
from projections.performance import counts as view

ROUTES = (
    CommandRoute(
        "/equipment/{equipment_code:str}/counts",
        ReportCounts,
        "Report good and reject units made in a window (a machine's counter deltas or an operator's count)",
        TAG,
        path_fields=("equipment_code",),
    ),
    CommandRoute(
        "/equipment/{equipment_code:str}/reconciled-counts",
        ReconcileCounts,
        "Reconcile an order's counts on an equipment (they then count instead of the machine's and operators')",
        TAG,
        path_fields=("equipment_code",),
    ),
)


class OrderCount(msgspec.Struct, frozen=True):
    """What the equipment made for one order (null: no order ran at the time), from the order's
    authoritative source; `other_sources` lists counts recorded but not counted."""

    order_number: str | None
    product_code: str | None
    ideal_cycle_time_s: str | None
    source: str
    good: int
    reject: int
    other_sources: dict[str, dict[str, int]]


class CountsView(msgspec.Struct, frozen=True):
    equipment_code: str
    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    good: int = 0
    reject: int = 0
    orders: list[OrderCount] = msgspec.field(default_factory=list)


def per_order(rows: list[dict[str, Any]], routing: dict[str, dict[str, Any]]) -> list[OrderCount]:
    """Per order, a supervisor's reconciliation where there is one, else the machine's counts where
    it has any, else the operators' (nothing twice)."""
    by_order: dict[str | None, dict[str, tuple[int, int]]] = {}
    for row in rows:
        by_order.setdefault(row["order_number"], {})[row["source"]] = (int(row["good"]), int(row["reject"]))
    answer = []
    for order, sources in by_order.items():
        counted = counting_source(sources)
        good, reject = sources[counted]
        step = routing.get(order or "")
        product = None if step is None else str(step["product_code"])
        cycle = None if step is None else decimal_text(Decimal(str(step["ideal_cycle_time_s"])))
        others = {s: {"good": g, "reject": r} for s, (g, r) in sources.items() if s != counted}
        answer.append(OrderCount(order, product, cycle, counted, good, reject, others))
    return answer


@query("/equipment/{equipment_code:str}/counts", summary="What an equipment made, per order", tags=[TAG])
async def equipment_counts(
    views: Views,
    equipment_code: KeyPath,
    from_: From = None,
    to: Moment = None,
    min_position: MinPosition = None,
) -> CountsView:
    """Good and reject units over the range (default: the last 24 hours), per order: the one a count
    names, else the one running on the equipment at the count's time. Per order one source counts
    (a reconciliation, else the machine's, else the operators'), so nothing is counted twice."""
    since, until = await equipment_range(views, equipment_code, from_, to, min_position, view.CountsProjection.name)
    rows = await asyncio.to_thread(view.order_counts, views.store, equipment_code, since, until)
    orders = [row["order_number"] for row in rows if row["order_number"]]
    routing = await asyncio.to_thread(view.routing_of, views.store, equipment_code, orders)
    counted = per_order(rows, routing)
    return CountsView(
        equipment_code, since, until, sum(o.good for o in counted), sum(o.reject for o in counted), counted
    )
