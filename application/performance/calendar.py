"""Calendar commands: the shift pattern of a line (or site, area, equipment), planned downtime and
non-working days. Each affects the future only, so a report of the past never changes."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

import msgspec

from application.commands import Code, Command, Name, Reason
from application.handlers import Handles, registry
from application.unit_of_work import Scope
from domain.equipment import Equipment
from domain.shift_calendar import Break, Shift, ShiftCalendar, Window

ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local time, HH:MM")]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]
Weekday = Literal[1, 2, 3, 4, 5, 6, 7]  # ISO: 1 Monday to 7 Sunday
Kind = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9 _-]*$")]


def _clock(text: str) -> time:
    return time.fromisoformat(text)


class BreakIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A break within a shift, in local time."""

    start: ClockTime
    end: ClockTime


class ShiftIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A shift, in local time; it ends the next day when `end` is not after `start` (22:00-06:00)."""

    name: Name
    start: ClockTime
    end: ClockTime
    breaks: Annotated[list[BreakIn], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)

    def as_shift(self) -> Shift:
        breaks = tuple(Break(_clock(b.start), _clock(b.end)) for b in self.breaks)
        return Shift(self.name, _clock(self.start), _clock(self.end), breaks)


class DefineShiftPattern(Command, frozen=True):
    """Works these shifts on these ISO weekdays (1 Monday to 7 Sunday) from `effective_from` (now or
    later) on, in an IANA time zone; the pattern in force before stays in force before."""

    calendar_code: Code
    effective_from: Moment
    shifts: Annotated[list[ShiftIn], msgspec.Meta(min_length=1, max_length=12)]
    working_days: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    time_zone: TimeZone = "UTC"


class PlanDowntime(Command, frozen=True):
    """Plans a stretch without production from now or later (maintenance, no orders): it is not
    planned busy time, so it is no loss."""

    calendar_code: Code
    start: Moment
    end: Moment
    kind: Kind
    note: Reason | None = None


class MarkNonWorkingDay(Command, frozen=True):
    """No shift starts on this day (a holiday, a shutdown), which must not have begun."""

    calendar_code: Code
    day: date
    name: Name


class CalendarChanged(msgspec.Struct, frozen=True):
    calendar_code: str


def _calendar(scope: Scope, code: str) -> ShiftCalendar:
    """The calendar of a line (or site, area, equipment), begun on its first change."""
    scope.get(Equipment, code).ensure_in_service()
    found = scope.find(ShiftCalendar, code)
    if found is None:
        found = ShiftCalendar.start(code=code, provenance=scope.provenance)
        scope.add(found)
    return found


def define_shift_pattern(cmd: DefineShiftPattern, scope: Scope) -> CalendarChanged:
    _calendar(scope, cmd.calendar_code).define_pattern(
        effective_from=cmd.effective_from,
        time_zone=cmd.time_zone,
        shifts=tuple(s.as_shift() for s in cmd.shifts),
        working_days=tuple(cmd.working_days),
        now=scope.now,
        provenance=scope.provenance,
    )
    return CalendarChanged(cmd.calendar_code)


def plan_downtime(cmd: PlanDowntime, scope: Scope) -> CalendarChanged:
    _calendar(scope, cmd.calendar_code).plan_downtime(
        window=Window(cmd.start, cmd.end), kind=cmd.kind, note=cmd.note, now=scope.now, provenance=scope.provenance
    )
    return CalendarChanged(cmd.calendar_code)


def mark_non_working_day(cmd: MarkNonWorkingDay, scope: Scope) -> CalendarChanged:
    _calendar(scope, cmd.calendar_code).mark_non_working(
        day=cmd.day, name=cmd.name, now=scope.now, provenance=scope.provenance
    )
    return CalendarChanged(cmd.calendar_code)


HANDLERS = registry(
    Handles(DefineShiftPattern, define_shift_pattern, CalendarChanged),
    Handles(PlanDowntime, plan_downtime, CalendarChanged),
    Handles(MarkNonWorkingDay, mark_non_working_day, CalendarChanged),
)
