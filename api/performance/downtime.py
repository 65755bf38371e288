"""Downtime over HTTP: the stops of every equipment on a line (or of one of them) over a range."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from api.performance.states import TAG, From, Moment, equipment_range
from api.query_routes import KeyFilter, MinPosition, Views, query
from application.commands import CODE_PATTERN
from domain.errors import NotFoundError
from projections.performance import states as view
from projections.performance.stops import MICRO_STOP, Stop, stops
from projections.store import ReadStore
from projections.traceability.equipment import list_equipment

Line = Annotated[
    str, QueryParameter(min_length=1, max_length=64, pattern=CODE_PATTERN, description="The production line's code.")
]
Unassigned = Annotated[
    bool, QueryParameter(description="Only downtime that still needs a reason (minor stops never do)")
]


class StopView(msgspec.Struct, frozen=True):
    """One stop: when, how long, the states the equipment went through, and whether it was minor
    (shorter than the micro-stop threshold: a performance loss, no reason needed)."""

    equipment_code: str
    start: datetime
    end: datetime
    minutes: float
    states: list[str]
    minor: bool
    reason: str | None = None


class DowntimeView(msgspec.Struct, frozen=True):
    """The stops over [from, to), by start; planned production time is the Production mode's."""

    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    micro_stop_minutes: float = MICRO_STOP.total_seconds() / 60
    downtime_minutes: float = 0
    minor_stops: int = 0
    minor_stop_minutes: float = 0
    stops: list[StopView] = msgspec.field(default_factory=list)


def _minutes(stop: Stop) -> float:
    return round(stop.duration.total_seconds() / 60, 3)


def equipment_stops(store: ReadStore, codes: list[str], since: datetime, until: datetime) -> list[Stop]:
    found: list[Stop] = []
    for code in codes:
        states = view.timeline(store, "rm_equipment_states", "state", code, since, until)
        modes = view.timeline(store, "rm_equipment_modes", "mode", code, since, until)
        found += stops(code, states, modes)
    return sorted(found, key=lambda s: (s.start, s.equipment_code))


def on_line(store: ReadStore, line: str) -> list[str]:
    """The equipment registered under a line (its work cells)."""
    return [
        row["code"] for row in list_equipment(store, level=None, parent_code=line, status=None, after=None, limit=500)
    ]


@query("/downtime", summary="Stops of an equipment or a line: downtime and minor stops", tags=[TAG])
async def downtime(
    views: Views,
    line: Line,
    equipment: KeyFilter = None,
    from_: From = None,
    to: Moment = None,
    unassigned: Unassigned = False,
    min_position: MinPosition = None,
) -> DowntimeView:
    """Every stretch of planned production time spent outside Execute, per equipment of the line (or
    the one `equipment` of it): contiguous stopped states make one stop; shorter than the
    micro-stop threshold it is a minor stop, longer it is downtime that needs a reason (reasons
    come with the reason tree)."""
    since, until = await equipment_range(views, line, from_, to, min_position, view.StatesProjection.name)
    codes = await asyncio.to_thread(on_line, views.store, line)
    if equipment is not None:
        if equipment not in codes:
            raise NotFoundError("equipment", f"{equipment} on line {line}")
        codes = [equipment]
    found = await asyncio.to_thread(equipment_stops, views.store, codes, since, until)
    minor = [s for s in found if s.minor]
    listed = [s for s in found if not (unassigned and s.minor)]
    return DowntimeView(
        since,
        until,
        downtime_minutes=round(sum(_minutes(s) for s in found if not s.minor), 3),
        minor_stops=len(minor),
        minor_stop_minutes=round(sum(_minutes(s) for s in minor), 3),
        stops=[StopView(s.equipment_code, s.start, s.end, _minutes(s), list(s.states), s.minor) for s in listed],
    )
