"""ShiftCalendar: when a line (or a site, an area, one equipment) is planned to produce.

Shift patterns (e.g. three 8-hour shifts with breaks, Monday to Friday) in a time zone, planned
downtime windows (maintenance, no orders) and non-working days. Planned operation time (ISO 22400
POT) is the shifts' time less their breaks and the non-working days; planned busy time (PBT) is
that less planned downtime (PDOT). Every change affects the future only (from when it is recorded,
whatever business time the command carries): a report of last week says tomorrow what it says today.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from domain.errors import CalendarError
from domain.ids import shift_calendar_id
from domain.values import Provenance

DAY = timedelta(days=1)
LONGEST_DOWNTIME = timedelta(days=366)


@dataclass(frozen=True)
class Break:
    """A planned break within a shift, in the shift's local time."""

    start: time
    end: time


@dataclass(frozen=True)
class Shift:
    """One shift of a pattern, in local time; it ends the next day when `end` is not after `start`."""

    name: str
    start: time
    end: time
    breaks: tuple[Break, ...] = ()


@dataclass(frozen=True)
class Pattern:
    """The shifts worked from `effective_from` on, on the given ISO weekdays (1 Monday to 7 Sunday;
    a shift belongs to the day it starts on), in an IANA time zone."""

    effective_from: datetime
    time_zone: str
    shifts: tuple[Shift, ...]
    working_days: tuple[int, ...]


class Window(NamedTuple):
    """A stretch of time, [start, end), in UTC."""

    start: datetime
    end: datetime


class ShiftWindow(NamedTuple):
    """One shift as worked: its name, the local day it started on, its span and its breaks (UTC)."""

    name: str
    day: date
    start: datetime
    end: datetime
    breaks: tuple[Window, ...]


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, zone).astimezone(UTC)


def _span(day: date, start: time, end: time, zone: ZoneInfo) -> Window:
    """A local [start, end) on `day`, ending the next day when `end` is not after `start`."""
    return Window(_local(day, start, zone), _local(day + DAY if end <= start else day, end, zone))


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        msg = f"time zone {name!r} is not an IANA time zone"
        raise CalendarError(msg) from error


def worked_shifts(
    patterns: Sequence[Pattern], off_days: Iterable[date], since: datetime, until: datetime
) -> list[ShiftWindow]:
    """The shifts worked in [since, until), clipped to it, by start. A shift follows the pattern in
    force when it starts; none is worked on a non-working day (the day the shift starts)."""
    off = set(off_days)
    ordered = sorted(patterns, key=lambda p: p.effective_from)
    worked: list[ShiftWindow] = []
    for i, pattern in enumerate(ordered):
        ends = ordered[i + 1].effective_from if i + 1 < len(ordered) else until
        zone = ZoneInfo(pattern.time_zone)
        first = max(since, pattern.effective_from).astimezone(zone).date() - DAY
        last = min(until, ends).astimezone(zone).date()
        day = first
        while day <= last:
            if day.isoweekday() in pattern.working_days and day not in off:
                for shift in pattern.shifts:
                    span = _span(day, shift.start, shift.end, zone)
                    if not pattern.effective_from <= span.start < ends:
                        continue
                    start, end = max(span.start, since), min(span.end, until)
                    if start < end:
                        breaks = tuple(_span(day if b.start >= shift.start else day + DAY, b.start, b.end, zone)
                                       for b in shift.breaks)  # fmt: skip
                        worked.append(ShiftWindow(shift.name, day, start, end, breaks))
            day += DAY
    return sorted(worked, key=lambda s: s.start)


def subtract(windows: Iterable[Window], holes: Iterable[Window]) -> list[Window]:
    """The windows less the holes (both sorted by start or not), as disjoint windows by start."""
    out: list[Window] = []
    cuts = sorted(holes)
    for window in sorted(windows):
        start = window.start
        for hole in cuts:
            if hole.end <= start or hole.start >= window.end:
                continue
            if hole.start > start:
                out.append(Window(start, hole.start))
            start = max(start, hole.end)
        if start < window.end:
            out.append(Window(start, window.end))
    return out


def operation_time(shifts: Sequence[ShiftWindow]) -> list[Window]:
    """Planned operation time (POT): the shifts less their breaks. Less planned downtime (PDOT), it
    is planned busy time (PBT)."""
    return subtract((Window(s.start, s.end) for s in shifts), (b for s in shifts for b in s.breaks))


def _check_shifts(shifts: Sequence[Shift], working_days: Sequence[int]) -> None:
    if not shifts:
        raise CalendarError("a shift pattern needs at least one shift")
    if len({s.name for s in shifts}) != len(shifts):
        raise CalendarError("each shift of a pattern needs a name of its own")
    if not working_days or not set(working_days) <= set(range(1, 8)):
        raise CalendarError("working days are ISO weekdays, 1 (Monday) to 7 (Sunday), at least one")
    utc = ZoneInfo("UTC")
    anchor = date(2001, 1, 1)  # a Monday: shifts are compared on one day and the next
    spans = sorted(_span(anchor, s.start, s.end, utc) for s in shifts)
    for before, after in pairwise(spans):
        if after.start < before.end:
            raise CalendarError("the shifts of a pattern must not overlap")
    if spans[-1].end > spans[0].start + DAY:
        raise CalendarError("the shifts of a pattern must fit in one day, the last not reaching the first")
    for shift in shifts:
        span = _span(anchor, shift.start, shift.end, utc)
        for b in shift.breaks:
            worked = _span(anchor if b.start >= shift.start else anchor + DAY, b.start, b.end, utc)
            if not span.start <= worked.start < worked.end <= span.end:
                msg = f"break {b.start:%H:%M}-{b.end:%H:%M} is not within shift {shift.name!r}"
                raise CalendarError(msg)


class ShiftCalendar(Aggregate):
    """The shift patterns, planned downtime and non-working days of one line (or site, area,
    equipment): what planned production time is made of. Changes apply to the future only."""

    record_name = "shift calendar"

    code: str
    time_zone: str

    @staticmethod
    def create_id(code: str) -> UUID:
        return shift_calendar_id(code)

    @classmethod
    def start(cls, *, code: str, provenance: Provenance) -> ShiftCalendar:
        return cls(code=code, provenance=provenance)

    class Started(Aggregate.Created):
        """The calendar of a line (or site, area, equipment) was begun."""

        code: str
        provenance: Provenance

    @event(Started)
    def __init__(self, code: str, provenance: Provenance) -> None:
        self.code = code
        self.time_zone = "UTC"

    @staticmethod
    def _future_only(moment: datetime, what: str, now: datetime) -> None:
        if moment < now:
            msg = f"{what} ({moment.isoformat()}) is in the past: a calendar changes the future only"
            raise CalendarError(msg)

    def define_pattern(
        self,
        *,
        effective_from: datetime,
        time_zone: str,
        shifts: tuple[Shift, ...],
        working_days: tuple[int, ...],
        now: datetime,
        provenance: Provenance,
    ) -> None:
        """Works the shifts from `effective_from` (not before `now`, when this is recorded) on; the
        pattern in force before it stays in force before it."""
        zone_of(time_zone)
        _check_shifts(shifts, working_days)
        self._future_only(effective_from, "a pattern's effective_from", now)
        self._pattern_defined(
            code=self.code,
            pattern=Pattern(effective_from, time_zone, shifts, tuple(sorted(set(working_days)))),
            provenance=provenance,
        )

    class PatternDefined(Aggregate.Event):
        """A shift pattern takes effect from its `effective_from` on."""

        code: str
        pattern: Pattern
        provenance: Provenance

    @event(PatternDefined)
    def _pattern_defined(self, code: str, pattern: Pattern, provenance: Provenance) -> None:
        self.time_zone = pattern.time_zone

    def plan_downtime(
        self, *, window: Window, kind: str, note: str | None, now: datetime, provenance: Provenance
    ) -> None:
        """Plans a stretch without production (maintenance, no orders) from `now` on: it is not
        planned busy time."""
        if window.end <= window.start:
            raise CalendarError("planned downtime must end after it starts")
        if window.end - window.start > LONGEST_DOWNTIME:
            raise CalendarError("planned downtime may last at most 366 days")
        self._future_only(window.start, "planned downtime's start", now)
        self._downtime_planned(
            code=self.code, start=window.start, end=window.end, kind=kind, note=note, provenance=provenance
        )

    class DowntimePlanned(Aggregate.Event):
        """No production is planned over [start, end): maintenance, no orders, ..."""

        code: str
        start: datetime
        end: datetime
        kind: str
        note: str | None
        provenance: Provenance

    @event(DowntimePlanned)
    def _downtime_planned(
        self, code: str, start: datetime, end: datetime, kind: str, note: str | None, provenance: Provenance
    ) -> None:
        pass  # the read model keeps the windows; no decision here depends on them

    def mark_non_working(self, *, day: date, name: str, now: datetime, provenance: Provenance) -> None:
        """No shift starts on `day` (a holiday, a plant shutdown), which must not have begun in the
        calendar's time zone."""
        begins = datetime.combine(day, time(0), zone_of(self.time_zone))
        self._future_only(begins, f"non-working day {day.isoformat()}", now)
        self._non_working(code=self.code, day=day, name=name, provenance=provenance)

    class NonWorkingDayMarked(Aggregate.Event):
        """No shift starts on this day."""

        code: str
        day: date
        name: str
        provenance: Provenance

    @event(NonWorkingDayMarked)
    def _non_working(self, code: str, day: date, name: str, provenance: Provenance) -> None:
        pass  # as above
