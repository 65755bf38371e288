"""The shift calendar and the reason trees over HTTP: define a pattern, plan downtime, mark a
non-working day; define a class's reason tree; give a stop a reason or split it. Read back the
shifts of a range and a class's tree."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import msgspec

from api.command_routes import CommandRoute
from api.performance.states import TAG, From, Moment, equipment_range
from api.query_routes import MinPosition, Views, query
from api.validation import KeyPath
from application.performance.calendar import DefineShiftPattern, MarkNonWorkingDay, PlanDowntime
from application.performance.reasons import AssignStopReason, DefineReasonTree, SplitStop
from domain.errors import NotFoundError
from projections.performance.calendar import CalendarProjection, plan
from projections.performance.reasons import ReasonsProjection, reason_tree

CALENDAR = "/shift-calendars/{calendar_code:str}"
STOPS = "/equipment/{equipment_code:str}"
ROUTES = (
    CommandRoute(f"{CALENDAR}/patterns", DefineShiftPattern, "Define the shift pattern from a moment on", TAG,
                 path_fields=("calendar_code",)),
    CommandRoute(f"{CALENDAR}/planned-downtime", PlanDowntime, "Plan downtime (maintenance, no orders)", TAG,
                 path_fields=("calendar_code",)),
    CommandRoute(f"{CALENDAR}/non-working-days", MarkNonWorkingDay, "Mark a non-working day", TAG,
                 path_fields=("calendar_code",)),
    CommandRoute("/reason-trees/{equipment_class:str}", DefineReasonTree,
                 "Define an equipment class's downtime reasons and the equipment in it", TAG,
                 path_fields=("equipment_class",)),
    CommandRoute(f"{STOPS}/stop-reasons", AssignStopReason, "Give a stop a reason (again, to re-classify it)", TAG,
                 path_fields=("equipment_code",)),
    CommandRoute(f"{STOPS}/stop-splits", SplitStop, "Split a stop in two", TAG, path_fields=("equipment_code",)),
)  # fmt: skip


class ShiftView(msgspec.Struct, frozen=True):
    name: str
    day: str
    start: datetime
    end: datetime
    breaks: list[list[datetime]]


class WindowView(msgspec.Struct, frozen=True):
    start: datetime
    end: datetime


class CalendarView(msgspec.Struct, frozen=True):
    """What an equipment's calendar (its own or the nearest above it) plans over [from, to): the
    shifts worked, planned operation time (shifts less breaks) and planned busy time (less planned
    downtime)."""

    equipment_code: str
    calendar_code: str
    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field()
    shifts: list[ShiftView] = msgspec.field(default_factory=list)
    operation: list[WindowView] = msgspec.field(default_factory=list)
    busy: list[WindowView] = msgspec.field(default_factory=list)


class ReasonView(msgspec.Struct, frozen=True):
    code: str
    name: str
    category: str
    planned: bool
    fault_codes: list[str]


class ReasonTreeView(msgspec.Struct, frozen=True):
    """A class's downtime reasons, its micro-stop threshold and the equipment in the class."""

    equipment_class: str
    micro_stop_seconds: int
    reasons: list[ReasonView]
    equipment_codes: list[str]


@query(f"{STOPS}/calendar", summary="The shifts and planned time of an equipment over a range", tags=[TAG])
async def equipment_calendar(
    views: Views, equipment_code: KeyPath, from_: From = None, to: Moment = None, min_position: MinPosition = None
) -> CalendarView:
    """The shifts the equipment works over the range (default: the last 24 hours) by its own shift
    calendar or the nearest one above it, with planned operation and busy time."""
    since, until = await equipment_range(views, equipment_code, from_, to, min_position, CalendarProjection.name)
    found = await asyncio.to_thread(plan, views.store, equipment_code, since, until)
    if found is None:
        raise NotFoundError("shift calendar", f"of {equipment_code} or above it")
    return CalendarView(
        equipment_code,
        found.calendar_code,
        since,
        until,
        [
            ShiftView(s.name, s.day.isoformat(), s.start, s.end, [[b.start, b.end] for b in s.breaks])
            for s in found.shifts
        ],
        [WindowView(*w) for w in found.operation],
        [WindowView(*w) for w in found.busy],
    )


@query("/reason-trees/{equipment_class:str}", summary="An equipment class's downtime reasons", tags=[TAG])
async def get_reason_tree(views: Views, equipment_class: KeyPath, min_position: MinPosition = None) -> ReasonTreeView:
    """The class's reasons (Planned or not > category > reason, with the fault codes that mean each)."""
    await views.reached(min_position, ReasonsProjection.name)
    reasons, members = await asyncio.to_thread(reason_tree, views.store, equipment_class)
    if not reasons:
        raise NotFoundError("reason tree", equipment_class)
    return ReasonTreeView(
        equipment_class,
        int(reasons[0]["micro_stop_s"]),
        [
            ReasonView(r["code"], r["name"], r["category"], bool(r["planned"]), json.loads(r["fault_codes"]))
            for r in reasons
        ],
        members,
    )
