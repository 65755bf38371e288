"""Equipment states over HTTP: report an observed state, command a state, set the mode; the state
and mode timelines of a time range."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from api.command_routes import CommandRoute
from api.query_routes import DATE_TIME, MinPosition, Views, invalid_query, moment_of, query
from api.validation import KeyPath
from application.performance.states import CommandState, ObserveState, SetMode
from domain.errors import NotFoundError
from domain.packml import EquipmentMode
from projections.performance import states as view
from projections.status import ReadModels
from projections.traceability.equipment import EquipmentProjection, get_equipment

TAG = "Equipment states"
MAX_RANGE = timedelta(days=366)
ROUTES = tuple(
    CommandRoute(f"/equipment/{{equipment_code:str}}/{verb}", command, summary, TAG, path_fields=("equipment_code",))
    for verb, command, summary in (
        ("observed-states", ObserveState, "Report the PackML state a machine is in, at the source's time"),
        ("state-commands", CommandState, "Command a PackML state change (Start, Stop, Hold, ...)"),
        ("mode", SetMode, "Set the equipment's mode (Production, Maintenance, Changeover, ...)"),
    )
)
Moment = Annotated[str | None, QueryParameter(max_length=40, schema_extra=DATE_TIME, description="RFC 3339 date-time")]
From = Annotated[
    str | None,
    QueryParameter(
        name="from", max_length=40, schema_extra=DATE_TIME, description="RFC 3339; default: 24 h before `to`"
    ),
]


class IntervalView(msgspec.Struct, frozen=True):
    """One stretch of time in one state or mode; `in_model` is false where the machine went there by
    a transition PackML does not have (recorded, flagged)."""

    start: datetime
    end: datetime
    value: str
    kind: str
    in_model: bool


class StatesView(msgspec.Struct, frozen=True):
    """The equipment's state and mode timelines over [from, to), placed by source time."""

    equipment_code: str
    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    states: list[IntervalView] = msgspec.field(default_factory=list)
    modes: list[IntervalView] = msgspec.field(default_factory=list)


def time_range(since_text: str | None, until_text: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The range asked for; 422 naming the field when it is backwards or longer than a year."""
    until = moment_of(until_text, "to") or now
    since = moment_of(since_text, "from") or until - timedelta(hours=24)
    if since >= until:
        raise invalid_query("from", "must be before to")
    if until - since > MAX_RANGE:
        raise invalid_query("to", "must be at most 366 days after from")
    return since, until


async def equipment_range(
    views: ReadModels, equipment_code: str, from_: str | None, to: str | None, position: int | None, *projections: str
) -> tuple[datetime, datetime]:
    """The range a query asks about (422 naming a bad bound), once the views (and the equipment
    view, which says whether the equipment exists) have reached `position`; 404 for unknown equipment."""
    since, until = time_range(from_, to, datetime.now(UTC))
    await views.reached(position, EquipmentProjection.name, *projections)
    if await asyncio.to_thread(get_equipment, views.store, equipment_code) is None:
        raise NotFoundError("equipment", equipment_code)
    return since, until


def _views(intervals: list[view.Interval]) -> list[IntervalView]:
    return [IntervalView(i.start, i.end, i.value, i.kind, i.in_model) for i in intervals]


@query("/equipment/{equipment_code:str}/states", summary="An equipment's state and mode timelines", tags=[TAG])
async def equipment_states(
    views: Views,
    equipment_code: KeyPath,
    from_: From = None,
    to: Moment = None,
    min_position: MinPosition = None,
) -> StatesView:
    """Each interval in a state and in a mode over the range (default: the last 24 hours), by the
    source's time, wherever a late report was recorded in the log."""
    since, until = await equipment_range(views, equipment_code, from_, to, min_position, view.StatesProjection.name)
    states = await asyncio.to_thread(
        view.timeline, views.store, "rm_equipment_states", "state", equipment_code, since, until
    )
    modes = await asyncio.to_thread(
        view.timeline,
        views.store,
        "rm_equipment_modes",
        "mode",
        equipment_code,
        since,
        until,
        str(EquipmentMode.PRODUCTION),
    )
    return StatesView(equipment_code, since, until, _views(states), _views(modes))
