"""Stops from the state and mode timelines: a hand-computed shift, and properties that hold for any
timeline (stops lie inside planned time, never overlap, and with Execute time fill it exactly)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given

from projections.performance.stops import MICRO_STOP, planned, stops
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
def test_stops_and_execute_time_fill_planned_time_exactly_and_never_overlap(
    state_changes: list[tuple[float, str]], mode_changes: list[tuple[float, str]]
) -> None:
    states, modes = timeline(*state_changes, end=480), timeline(*mode_changes, end=480)

    found = stops("X", states, modes)

    windows = planned(modes)
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
