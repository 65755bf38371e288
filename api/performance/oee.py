"""OEE over HTTP: one equipment over a range, whole or by hour or day, with its losses."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar.params import QueryParameter

from api.performance.states import TAG, From, Moment, equipment_range
from api.query_routes import MinPosition, Views, invalid_query, query
from application.commands import CODE_PATTERN
from projections.performance import counts as count_view
from projections.performance import states as view
from projections.performance.oee import Made, Oee, buckets, oee
from projections.performance.states import Interval
from projections.store import ReadStore, Row, stored_time

MOST_BUCKETS = 1000
SIZES = {"range": None, "hour": timedelta(hours=1), "day": timedelta(days=1)}
EquipmentCode = Annotated[
    str, QueryParameter(min_length=1, max_length=64, pattern=CODE_PATTERN, description="The equipment's code.")
]
Bucket = Annotated[
    Literal["range", "hour", "day"], QueryParameter(description="One figure for the range, or one per hour or day")
]


class OeeBucket(msgspec.Struct, frozen=True):
    """OEE over one bucket; times in minutes, ISO 22400-2 element names (PBT, ADOT, ADET, APT, PQ,
    GQ, SQ) beside availability, performance, quality and the six big losses."""

    start: datetime
    end: datetime
    pbt: float
    adot: float
    adet: float
    apt: float
    pq: int
    gq: int
    sq: int
    ideal_minutes: float
    productive_minutes: float
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    losses: dict[str, float]


class OeeView(msgspec.Struct, frozen=True):
    """An equipment's OEE over [from, to); planned busy time is its time in the Production mode."""

    equipment_code: str
    bucket: str
    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    buckets: list[OeeBucket] = msgspec.field(default_factory=list)


def clip(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [
        i._replace(start=max(i.start, start), end=min(i.end, end)) for i in intervals if i.start < end and i.end > start
    ]


def made_in(rows: list[Row], cycles: dict[str, Row], start: datetime, end: datetime) -> list[Made]:
    """The units counted in (start, end], per order from its authoritative source (the machine's
    where the order has machine counts in the whole range), of orders whose ideal cycle is known."""
    machine_orders = {r["order_number"] for r in rows if r["source"] == "machine"}
    totals: dict[str, tuple[int, int]] = {}
    for r in rows:
        order = r["order_number"]
        if order not in cycles or not start < stored_time(r["at"]) <= end:
            continue
        if (r["source"] == "machine") != (order in machine_orders):
            continue  # the order's other source: recorded, not counted
        good, reject = totals.get(order, (0, 0))
        totals[order] = (good + int(r["good"]), reject + int(r["reject"]))
    return [Made(g, j, Decimal(str(cycles[o]["ideal_cycle_time_s"]))) for o, (g, j) in totals.items()]


def equipment_oee(
    store: ReadStore, code: str, since: datetime, until: datetime, size: timedelta | None
) -> list[OeeBucket]:
    states = view.timeline(store, "rm_equipment_states", "state", code, since, until)
    modes = view.timeline(store, "rm_equipment_modes", "mode", code, since, until)
    rows = count_view.count_rows(store, code, since, until)
    cycles = count_view.routing_of(store, code, sorted({r["order_number"] for r in rows if r["order_number"]}))
    answer = []
    for start, end in buckets(since, until, size):
        figures: Oee = oee(code, clip(states, start, end), clip(modes, start, end), made_in(rows, cycles, start, end))
        answer.append(OeeBucket(start, end, **{f: getattr(figures, f) for f in Oee.__dataclass_fields__}))
    return answer


@query("/oee", summary="OEE of an equipment over a range, whole or by hour or day", tags=[TAG])
async def equipment_oee_route(
    views: Views,
    equipment: EquipmentCode,
    from_: From = None,
    to: Moment = None,
    bucket: Bucket = "range",
    min_position: MinPosition = None,
) -> OeeView:
    """Availability, performance, quality and OEE with the six big losses, from the equipment's
    states, modes, stops and counts (docs: projections/performance/oee.py). The shift calendar,
    line OEE and shift or order buckets come next."""
    size = SIZES[bucket]
    since, until = await equipment_range(
        views, equipment, from_, to, min_position, view.StatesProjection.name, count_view.CountsProjection.name
    )
    if size is not None and (until - since) / size > MOST_BUCKETS:
        raise invalid_query("bucket", f"makes more than {MOST_BUCKETS} buckets over this range")
    figures = await asyncio.to_thread(equipment_oee, views.store, equipment, since, until, size)
    return OeeView(equipment, bucket, since, until, figures)
