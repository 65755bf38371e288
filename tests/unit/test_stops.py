"""Stops from the state and mode timelines: a hand-computed shift, and properties that hold for any
timeline (stops lie inside planned time, never overlap, and with Execute time fill it exactly)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given

from domain.reason_tree import Reason
from domain.shift_calendar import ShiftWindow, Window
from projections.performance.reasons import MICRO_STOP, Mark
from projections.performance.stops import planned, stops
from tests.timelines import MODE_NAMES, STATE_NAMES, changes, minutes, timeline


def test_a_hand_computed_shift_has_one_minor_stop_a_breakdown_and_no_stop_outside_production() -> None:
    # 06:00 Idle 5 min, Starting 1, Execute 30, Suspended 1 (starved), Execute 20, Held 25 and
    # Unholding 2 (one breakdown), Execute 16 until 07:40; changeover from 07:30 to the end.
    states = timeline(
        (0, "Idle"),
        (5, "Starting"),
        (6, "Execute"),
        (36, "Suspended"),
        (37, "Execute"),
        (57, "Held"),
        (82, "Unholding"),
        (84, "Execute"),
        (100, "Stopped"),
        end=120,
    )
    modes = timeline((0, "Production"), (90, "Changeover"), end=120)

    found = stops("FILL-1", states, modes)

    assert [(s.start, s.end, s.states, s.minor) for s in found] == [
        (minutes(0), minutes(6), ("Idle", "Starting"), False),
        (minutes(36), minutes(37), ("Suspended",), True),
        (minutes(57), minutes(84), ("Held", "Unholding"), False),
    ]  # Stopped from 100 lies in the changeover: not planned time, no stop
    assert sum((s.duration for s in found if not s.minor), timedelta()) == timedelta(minutes=33)


def test_a_stop_as_long_as_the_threshold_is_downtime() -> None:
    states = timeline((0, "Execute"), (10, "Held"), (12, "Execute"), end=20)
    modes = timeline((0, "Production"), end=20)

    (stop,) = stops("FILL-1", states, modes)

    assert stop.duration == MICRO_STOP
    assert not stop.minor


@given(changes(STATE_NAMES), changes(MODE_NAMES))
def test_stops_and_execute_time_fill_production_time_exactly_and_never_overlap(
    state_changes: list[tuple[float, str]], mode_changes: list[tuple[float, str]]
) -> None:
    states, modes = timeline(*state_changes, end=480), timeline(*mode_changes, end=480)

    found = stops("X", states, modes)

    windows = [(p.start, p.end) for p in planned(modes) if p.mode == "Production"]
    planned_time = sum((end - start for start, end in windows), timedelta())
    executing = sum(
        (
            max(timedelta(), min(s.end, end) - max(s.start, start))
            for s in states
            if s.value == "Execute"
            for start, end in windows
        ),
        timedelta(),
    )
    assert sum((s.duration for s in found), timedelta()) + executing == planned_time
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert all(any(start <= s.start and s.end <= end for start, end in windows) for s in found)
    assert all((s.duration < MICRO_STOP) == s.minor for s in found)


FAULT = Reason("JAM", "Bottle jam", "Mechanical", planned=False)
CLEANING = Reason("CIP", "Cleaning in place", "Cleaning", planned=True)


def _shift(name: str, start: float, end: float) -> ShiftWindow:
    return ShiftWindow(name, minutes(0).date(), minutes(start), minutes(end), ())


def test_a_stop_is_cut_at_the_shift_boundary_yet_is_downtime_by_its_whole_length() -> None:
    # A 3-minute stop from 58 to 61 crosses the change of shift at 60: two pieces of 2 and 1
    # minutes, both downtime (the stop is 3 minutes long), the second going on from the first.
    states = timeline((0, "Execute"), (58, "Held"), (61, "Execute"), end=120)
    modes = timeline((0, "Production"), end=120)

    found = stops("FILL-1", states, modes, shifts=[_shift("Early", 0, 60), _shift("Late", 60, 120)])

    assert [(s.start, s.end, s.minor, s.shift, s.first) for s in found] == [
        (minutes(58), minutes(60), False, "Early", True),
        (minutes(60), minutes(61), False, "Late", False),
    ]


def test_operators_split_a_stop_and_give_each_piece_a_reason_the_last_one_given_counts() -> None:
    states = timeline((0, "Execute"), (10, "Held", "E-17"), (40, "Execute"), end=60)
    modes = timeline((0, "Production"), end=60)
    given = [
        Mark(minutes(10), "reason", CLEANING, None, "u-1"),
        Mark(minutes(25), "split", None, None, "u-1"),
        Mark(minutes(10), "reason", FAULT, "it was a jam after all", "u-2"),  # re-classified
    ]

    found = stops("FILL-1", states, modes, marks=given, faults={"E-17": FAULT})

    assert [(s.start, s.end, s.at, s.reason, s.explained_by) for s in found] == [
        (minutes(10), minutes(25), minutes(10), FAULT, "operator"),
        (minutes(25), minutes(40), minutes(25), FAULT, "fault code"),  # no reason given: the machine's
    ]


def test_a_calendar_leaves_breaks_and_planned_downtime_out_of_planned_time_and_changeover_in() -> None:
    modes = timeline((0, "Production"), (100, "Changeover"), (110, "Production"), end=120)
    busy = [Window(minutes(0), minutes(30)), Window(minutes(45), minutes(120))]  # a break from 30 to 45

    pieces = planned(modes, busy)

    assert [(p.start, p.end, p.mode) for p in pieces] == [
        (minutes(0), minutes(30), "Production"),
        (minutes(45), minutes(100), "Production"),
        (minutes(100), minutes(110), "Changeover"),
        (minutes(110), minutes(120), "Production"),
    ]
