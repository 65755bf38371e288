"""OEE over HTTP: one equipment, or a line by its bottleneck, over a range, whole or by hour, shift,
day or work order, with the ISO 22400-2 elements, the six big losses, MTBF and MTTR.

Line OEE is the OEE of the line's bottleneck: of the line's equipment that ran the orders in the
range, the one with the longest ideal cycle time (the later in the routing on a tie). The line
makes what its slowest machine lets through, so its availability, performance and quality are the
bottleneck's, while `equipment` gives each machine's own figures beside it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Annotated, Literal

import msgspec
from litestar.params import QueryParameter

from api.performance.downtime import on_line
from api.performance.states import TAG, From, Moment, equipment_range
from api.query_routes import KeyFilter, MinPosition, Views, invalid_query, query
from domain.errors import NotFoundError
from projections.performance import counts as count_view
from projections.performance import states as view
from projections.performance.calendar import CalendarProjection, plan
from projections.performance.counts import bottleneck
from projections.performance.history import Bucket, order_buckets, shift_buckets, time_buckets
from projections.performance.oee import Oee
from projections.performance.reasons import ReasonsProjection
from projections.performance.summary import summary_figures
from projections.store import ReadStore

SIZES = {"range": None, "hour": timedelta(hours=1), "day": timedelta(days=1)}
BucketKind = Annotated[
    Literal["range", "hour", "shift", "day", "order"],
    QueryParameter(description="One figure for the range, or one per hour, shift, day or work order"),
]
MACHINES_AT_ONCE = 4  # a line's machines computed at once (each takes a read connection)
VIEWS = (view.StatesProjection.name, count_view.CountsProjection.name, CalendarProjection.name, ReasonsProjection.name)


class OeeBucket(msgspec.Struct, frozen=True):
    """OEE over one bucket; times in minutes, ISO 22400-2 element names (POT, PDOT, PBT, AUST, ADOT,
    ADET, APT, PQ, GQ, SQ) beside availability, performance, quality, the six big losses, MTBF and
    MTTR (of breakdowns: downtime without a planned reason)."""

    start: datetime
    end: datetime
    name: str | None
    pot: float
    pdot: float
    pbt: float
    aust: float
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
    breakdowns: int
    mtbf_minutes: float | None
    mttr_minutes: float | None


class EquipmentOee(msgspec.Struct, frozen=True):
    """One machine of a line over the whole range."""

    equipment_code: str
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None


class OeeView(msgspec.Struct, frozen=True):
    """OEE over [from, to) of an equipment, or of a line (its bottleneck's; see the docs)."""

    bucket: str
    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    equipment_code: str | None = None
    line: str | None = None
    bottleneck: str | None = None
    buckets: list[OeeBucket] = msgspec.field(default_factory=list)
    equipment: list[EquipmentOee] = msgspec.field(default_factory=list)


def _bucket(b: Bucket, f: Oee) -> OeeBucket:
    return OeeBucket(b.start, b.end, b.name, *f)  # the bucket's fields after `name` are Oee's, in order


def cuts(store: ReadStore, code: str, since: datetime, until: datetime, kind: str) -> list[Bucket]:
    """The buckets of the kind asked for; 404 for shifts without a shift calendar."""
    if kind == "shift":
        calendar = plan(store, code, since, until)
        if calendar is None:
            raise NotFoundError("shift calendar", f"of {code} or above it")
        return shift_buckets(calendar, since, until)
    if kind == "order":
        return order_buckets(store, code, since, until)
    return time_buckets(since, until, SIZES[kind])


def report(store: ReadStore, code: str, since: datetime, until: datetime, kind: str) -> list[OeeBucket]:
    """The equipment's figures per bucket of the kind asked for (projections/performance/summary.py)."""
    found = cuts(store, code, since, until, kind)
    return [_bucket(b, f) for b, f in zip(found, summary_figures(store, code, since, until, found), strict=True)]


def line_oee(store: ReadStore, line: str, since: datetime, until: datetime, kind: str) -> OeeView:
    codes = on_line(store, line)
    slowest = bottleneck(store, codes, since, until)
    whole = Bucket(since, until)
    wanted = {code: [whole, *cuts(store, code, since, until, kind)] if code == slowest else [whole] for code in codes}
    # The machines one beside another: most of each one's time is waiting for its statements.
    with ThreadPoolExecutor(max_workers=max(1, min(len(codes), MACHINES_AT_ONCE))) as pool:
        figures = dict(
            zip(codes, pool.map(lambda c: summary_figures(store, c, since, until, wanted[c]), codes), strict=True)
        )
    machines = [
        EquipmentOee(c, f[0].availability, f[0].performance, f[0].quality, f[0].oee) for c, f in figures.items()
    ]
    found = (
        []
        if slowest is None
        else [_bucket(b, f) for b, f in zip(wanted[slowest][1:], figures[slowest][1:], strict=True)]
    )
    return OeeView(kind, since, until, line=line, bottleneck=slowest, buckets=found, equipment=machines)


@query("/oee", summary="OEE of an equipment or a line, whole or by hour, shift, day or order", tags=[TAG])
async def oee_route(
    views: Views,
    equipment: KeyFilter = None,
    line: KeyFilter = None,
    from_: From = None,
    to: Moment = None,
    bucket: BucketKind = "range",
    min_position: MinPosition = None,
) -> OeeView:
    """Availability, performance, quality and OEE with the ISO 22400-2 elements, the six big losses,
    MTBF and MTTR, from the states, modes, shift calendar, stops, reasons and counts (the model:
    projections/performance/oee.py). Name one `equipment` or one `line`; a line's OEE is its
    bottleneck's (the equipment with the longest ideal cycle in the orders it ran), each machine's
    own beside it. Shift buckets need a shift calendar; order buckets follow the orders' runs."""
    if (equipment is None) == (line is None):
        raise invalid_query("equipment", "name exactly one of equipment and line")
    code = equipment or line or ""
    since, until = await equipment_range(views, code, from_, to, min_position, *VIEWS)
    if line is not None:
        return await asyncio.to_thread(line_oee, views.store, line, since, until, bucket)
    found = await asyncio.to_thread(report, views.store, code, since, until, bucket)
    return OeeView(bucket, since, until, equipment_code=code, buckets=found)
