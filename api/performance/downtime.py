"""Downtime over HTTP: the stops of every equipment on a line (or of one of them) over a range, and
their Pareto by reason or category."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.params import QueryParameter

from api.performance.states import TAG, From, Moment, equipment_range
from api.query_routes import KeyFilter, MinPosition, Views, query
from application.commands import CODE_PATTERN
from domain.errors import NotFoundError
from projections.performance import states as view
from projections.performance.calendar import CalendarProjection
from projections.performance.history import history
from projections.performance.reasons import ReasonsProjection
from projections.performance.stops import Stop
from projections.store import ReadStore
from projections.traceability.equipment import list_equipment

Line = Annotated[
    str, QueryParameter(min_length=1, max_length=64, pattern=CODE_PATTERN, description="The production line's code.")
]
Unassigned = Annotated[bool, QueryParameter(description="Only downtime that has no reason yet (minor stops need none)")]
By = Annotated[Literal["reason", "category"], QueryParameter(description="Group downtime by reason or by category")]
VIEWS = (view.StatesProjection.name, CalendarProjection.name, ReasonsProjection.name)
UNASSIGNED = "unassigned"


class StopView(msgspec.Struct, frozen=True):
    """One stop, or a piece of one (cut by an operator's split or at a shift boundary): when, how
    long, the states the equipment went through, whether it was minor (shorter than the micro-stop
    threshold: a performance loss, no reason needed), and its reason. `at` names it in a reason or
    split command."""

    equipment_code: str
    start: datetime
    end: datetime
    at: datetime
    minutes: float
    states: list[str]
    minor: bool
    shift: str | None = None
    reason_code: str | None = None
    reason_name: str | None = None
    category: str | None = None
    planned: bool | None = None
    explained_by: str | None = None


class DowntimeView(msgspec.Struct, frozen=True):
    """The stops over [from, to), by start, in planned busy time (the shift calendar's, in a mode
    that counts)."""

    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    downtime_minutes: float = 0
    unassigned_minutes: float = 0
    minor_stops: int = 0
    minor_stop_minutes: float = 0
    stops: list[StopView] = msgspec.field(default_factory=list)


class ParetoRow(msgspec.Struct, frozen=True):
    """Downtime of one reason (or category), with its share and the running share of the rows so far."""

    key: str
    name: str
    category: str | None
    planned: bool | None
    minutes: float
    stops: int
    share: float
    cumulative_share: float


class ParetoView(msgspec.Struct, frozen=True):
    """Downtime over [from, to) by reason or category, largest first; stops without a reason are
    the `unassigned` row."""

    by: str
    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    downtime_minutes: float = 0
    rows: list[ParetoRow] = msgspec.field(default_factory=list)


def _minutes(stops: Iterable[Stop]) -> float:
    return round(sum(s.duration.total_seconds() for s in stops) / 60, 3)


def _view(s: Stop) -> StopView:
    view = StopView(s.equipment_code, s.start, s.end, s.at, _minutes([s]), list(s.states), s.minor, s.shift)
    r = s.reason
    if r is None:
        return view
    return msgspec.structs.replace(
        view,
        reason_code=r.code,
        reason_name=r.name,
        category=r.category,
        planned=r.planned,
        explained_by=s.explained_by,
    )


def equipment_stops(store: ReadStore, codes: list[str], since: datetime, until: datetime) -> list[Stop]:
    found = [s for code in codes for s in history(store, code, since, until).stops]
    return sorted(found, key=lambda s: (s.start, s.equipment_code))


def on_line(store: ReadStore, line: str) -> list[str]:
    """The equipment registered under a line (its work cells)."""
    return [
        row["code"] for row in list_equipment(store, level=None, parent_code=line, status=None, after=None, limit=500)
    ]


async def line_stops(
    views: Views, line: str, equipment: str | None, from_: str | None, to: str | None, position: int | None
) -> tuple[datetime, datetime, list[Stop]]:
    """The stops of the line's equipment (or of the one named), once the views have caught up."""
    since, until = await equipment_range(views, line, from_, to, position, *VIEWS)
    codes = await asyncio.to_thread(on_line, views.store, line)
    if equipment is not None:
        if equipment not in codes:
            raise NotFoundError("equipment", f"{equipment} on line {line}")
        codes = [equipment]
    return since, until, await asyncio.to_thread(equipment_stops, views.store, codes, since, until)


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
    """Every stretch of planned busy time spent outside Execute in the Production mode, per
    equipment of the line (or the one `equipment` of it): contiguous stopped states make one stop;
    shorter than its class's micro-stop threshold it is a minor stop, else downtime that needs a
    reason. Stops are cut where operators split them and at shift boundaries."""
    since, until, found = await line_stops(views, line, equipment, from_, to, min_position)
    down = [s for s in found if not s.minor]
    minor = [s for s in found if s.minor]
    listed = [s for s in down if s.reason is None] if unassigned else found
    return DowntimeView(
        since,
        until,
        downtime_minutes=_minutes(down),
        unassigned_minutes=_minutes(s for s in down if s.reason is None),
        minor_stops=sum(1 for s in minor if s.first),
        minor_stop_minutes=_minutes(minor),
        stops=[_view(s) for s in listed],
    )


def pareto(found: list[Stop], by: str) -> list[ParetoRow]:
    """Downtime grouped by reason or category, largest first, with shares."""
    groups: dict[str, list[Stop]] = {}
    for s in found:
        key = UNASSIGNED if s.reason is None else s.reason.code if by == "reason" else s.reason.category
        groups.setdefault(key, []).append(s)
    total = _minutes(found)
    rows, running = [], 0.0
    for key, stops in sorted(groups.items(), key=lambda g: (-_minutes(g[1]), g[0])):
        minutes, r = _minutes(stops), stops[0].reason
        running += minutes
        by_reason = by == "reason" and r is not None
        rows.append(
            ParetoRow(
                key,
                (r.name if by_reason else key) if r else "No reason given yet",
                r.category if r else None,
                r.planned if by_reason and r else None,
                minutes,
                sum(1 for s in stops if s.first),
                round(minutes / total, 4) if total else 0,
                round(running / total, 4) if total else 0,
            )
        )
    return rows


@query("/downtime/pareto", summary="Downtime by reason or category, largest first", tags=[TAG])
async def downtime_pareto(
    views: Views,
    line: Line,
    equipment: KeyFilter = None,
    from_: From = None,
    to: Moment = None,
    by: By = "reason",
    min_position: MinPosition = None,
) -> ParetoView:
    """The downtime (minor stops aside) of the line's equipment (or of the one named) over the
    range, by reason or category, with each row's share and the running share."""
    since, until, found = await line_stops(views, line, equipment, from_, to, min_position)
    down = [s for s in found if not s.minor]
    return ParetoView(by, since, until, _minutes(down), pareto(down, by))
