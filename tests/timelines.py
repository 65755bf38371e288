"""Timelines for the performance tests: intervals from (minute, value) changes, and strategies
that make any sequence of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from domain.shift_calendar import Window
from projections.performance.oee import Made, Oee, oee
from projections.performance.reasons import MICRO_STOP
from projections.performance.states import Interval
from projections.performance.stops import planned, stops

T = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def minutes(m: float) -> datetime:
    return T + timedelta(minutes=m)


def timeline(*changes: tuple[float, str] | tuple[float, str, str], end: float) -> list[Interval]:
    """Intervals from (minute, value[, raw code]) changes, the last running to `end`."""
    bounds = [*(c[0] for c in changes[1:]), end]
    return [
        Interval(minutes(c[0]), minutes(b), c[1], True, "observed", c[2] if len(c) > 2 else None)
        for c, b in zip(changes, bounds, strict=True)
    ]


STATE_NAMES = st.sampled_from(["Execute", "Held", "Suspended", "Idle", "Stopped", "Starting"])
MODE_NAMES = st.sampled_from(["Production", "Changeover", "Maintenance"])


def changes(names: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[float, str]]]:
    """A timeline's changes: the first at minute 0, then strictly later ones up to minute 480."""
    steps = st.lists(st.tuples(st.integers(1, 90), names), max_size=25)
    return st.tuples(names, steps).map(lambda t: _cumulative(t[0], t[1]))


def _cumulative(first: str, steps: list[tuple[int, str]]) -> list[tuple[float, str]]:
    out, at = [(0.0, first)], 0.0
    for gap, name in steps:
        at += gap
        if at < 480:
            out.append((at, name))
    return out


def oee_of(
    states: Sequence[Interval],
    modes: Sequence[Interval],
    made: Sequence[Made],
    busy: Sequence[Window] | None = None,
    micro: timedelta = MICRO_STOP,
) -> Oee:
    """The OEE over the span of the mode timeline (or the calendar's busy time), from the timelines
    alone: no reasons given."""
    operation = busy if busy is not None else [Window(modes[0].start, modes[-1].end)] if modes else []
    found = stops("X", states, modes, busy=busy, micro_stop=micro)
    pot = sum((w.end - w.start for w in operation), timedelta()).total_seconds() / 60
    return oee(pot, planned(modes, busy), found, made)
