"""The shift calendar: the shifts a pattern works (overnight shifts, breaks, non-working days, a
time zone with summer time, a pattern taking over), and what the calendar refuses (the past,
overlapping shifts, breaks outside their shift)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.errors import CalendarError
from domain.shift_calendar import (
    Break,
    Pattern,
    Shift,
    ShiftCalendar,
    Window,
    operation_time,
    subtract,
    worked_shifts,
)
from tests.builders import provenance

MON = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
WEEKDAYS = (1, 2, 3, 4, 5)
THREE_SHIFTS = (
    Shift("Early", time(6), time(14), (Break(time(10), time(10, 30)),)),
    Shift("Late", time(14), time(22), (Break(time(18), time(18, 30)),)),
    Shift("Night", time(22), time(6), (Break(time(2), time(2, 30)),)),
)


def hours(h: float) -> datetime:
    return MON + timedelta(hours=h)


def test_three_shifts_with_breaks_on_weekdays_give_22_5_hours_a_day_and_no_weekend() -> None:
    pattern = Pattern(MON - timedelta(days=30), "UTC", THREE_SHIFTS, WEEKDAYS)

    week = worked_shifts([pattern], [], MON, MON + timedelta(days=7))

    assert len(week) == 15
    assert [(s.name, s.start, s.end) for s in week[:3]] == [
        ("Early", hours(6), hours(14)),
        ("Late", hours(14), hours(22)),
        ("Night", hours(22), hours(30)),
    ]
    assert week[2].breaks == (Window(hours(26), hours(26.5)),)  # the night's break is on Tuesday
    # Friday's night shift runs into Saturday; the Sunday night shift is not worked (Sunday is off),
    # and the range starts at Monday 00:00, so Sunday night's 00:00-06:00 is not in it.
    assert week[-1].name == "Night"
    assert week[-1].end == hours(4 * 24 + 30)
    assert sum((w.end - w.start for w in operation_time(week)), timedelta()) == timedelta(hours=5 * 22.5)


def test_a_non_working_day_starts_no_shift_and_the_night_before_still_ends_on_it() -> None:
    pattern = Pattern(MON - timedelta(days=30), "UTC", THREE_SHIFTS, WEEKDAYS)

    tuesday = worked_shifts([pattern], [date(2026, 12, 1)], hours(24), hours(48))

    assert [(s.name, s.day) for s in tuesday] == [("Night", date(2026, 11, 30))]
    assert tuesday[0].start == hours(24)  # Monday's night, clipped to Tuesday's start


def test_a_new_pattern_takes_over_for_the_shifts_starting_after_it() -> None:
    old = Pattern(MON - timedelta(days=30), "UTC", THREE_SHIFTS, WEEKDAYS)
    new = Pattern(hours(12), "UTC", (Shift("Day", time(7), time(19)),), WEEKDAYS)

    monday = worked_shifts([old, new], [], MON, hours(24))

    # Early began before 12:00, under the old pattern; Late and Night would begin after it, and the
    # new pattern's Day shift began before it: neither pattern works Monday afternoon.
    assert [s.name for s in monday] == ["Early"]
    tuesday = worked_shifts([old, new], [], hours(24), hours(48))
    assert [(s.name, s.start, s.end) for s in tuesday] == [("Day", hours(31), hours(43))]


def test_shifts_follow_local_time_across_the_change_to_summer_time() -> None:
    # Europe/Berlin went to summer time on Sunday 29 March 2026: 06:00 local is 05:00 UTC before,
    # 04:00 UTC after.
    pattern = Pattern(
        datetime(2026, 3, 1, tzinfo=UTC), "Europe/Berlin", (Shift("Early", time(6), time(14)),), (1, 2, 3, 4, 5, 6, 7)
    )

    days = worked_shifts([pattern], [], datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))

    assert [s.start.hour for s in days] == [5, 4, 4]
    assert all(s.end - s.start == timedelta(hours=8) for s in days)


def test_planned_downtime_is_cut_out_of_operation_time() -> None:
    busy = subtract([Window(hours(6), hours(14))], [Window(hours(8), hours(9)), Window(hours(13), hours(15))])

    assert busy == [Window(hours(6), hours(8)), Window(hours(9), hours(13))]


def _calendar() -> ShiftCalendar:
    return ShiftCalendar.start(code="L1", provenance=provenance(MON))


def test_a_calendar_changes_the_future_only() -> None:
    calendar = _calendar()
    now, at = hours(12), provenance(hours(-48))  # a business time back-dated does not open the past

    with pytest.raises(CalendarError, match="in the past"):
        calendar.define_pattern(
            effective_from=hours(11),
            time_zone="UTC",
            shifts=THREE_SHIFTS,
            working_days=WEEKDAYS,
            now=now,
            provenance=at,
        )
    with pytest.raises(CalendarError, match="in the past"):
        calendar.plan_downtime(
            window=Window(hours(10), hours(14)), kind="Maintenance", note=None, now=now, provenance=at
        )
    with pytest.raises(CalendarError, match="in the past"):
        calendar.mark_non_working(day=date(2026, 11, 30), name="Too late", now=now, provenance=at)
    calendar.define_pattern(
        effective_from=hours(12), time_zone="UTC", shifts=THREE_SHIFTS, working_days=WEEKDAYS, now=now, provenance=at
    )
    calendar.mark_non_working(day=date(2026, 12, 25), name="Christmas", now=now, provenance=at)
    assert [type(e).__name__ for e in calendar.collect_events()] == ["Started", "PatternDefined", "NonWorkingDayMarked"]


@pytest.mark.parametrize(
    ("shifts", "message"),
    [
        ((Shift("A", time(6), time(14)), Shift("B", time(13), time(22))), "overlap"),
        ((Shift("A", time(6), time(14)), Shift("A", time(14), time(22))), "name of its own"),
        ((Shift("A", time(6), time(14), (Break(time(14), time(14, 30)),)),), "not within shift"),
        ((Shift("A", time(6), time(18)), Shift("B", time(18), time(7))), "fit in one day"),
    ],
)
def test_a_pattern_that_does_not_make_sense_is_refused(shifts: tuple[Shift, ...], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        _calendar().define_pattern(
            effective_from=hours(12),
            time_zone="UTC",
            shifts=shifts,
            working_days=WEEKDAYS,
            now=MON,
            provenance=provenance(MON),
        )


def test_an_unknown_time_zone_is_refused_by_name() -> None:
    with pytest.raises(CalendarError, match="Mars/Olympus"):
        _calendar().define_pattern(
            effective_from=hours(12),
            time_zone="Mars/Olympus",
            shifts=THREE_SHIFTS,
            working_days=WEEKDAYS,
            now=MON,
            provenance=provenance(MON),
        )
