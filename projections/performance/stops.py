"""Stops: every stretch of planned production time the equipment spent outside Execute.

Planned production time is, until the shift calendar arrives, the time in the Production mode.
Contiguous non-Execute states make one stop (Held, then Unholding, is one stop). A stop shorter
than the micro-stop threshold is a minor stop (a performance loss); a longer one is downtime, which
needs a reason. Stops are clipped to the range asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from domain.packml import EquipmentMode, PackMLState
from projections.performance.states import Interval

MICRO_STOP = timedelta(minutes=2)


class Stop(NamedTuple):
    """One stop of one equipment: when, the states it went through, and whether it was minor."""

    equipment_code: str
    start: datetime
    end: datetime
    states: tuple[str, ...]
    minor: bool

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def planned(modes: Sequence[Interval]) -> list[tuple[datetime, datetime]]:
    """The stretches of planned production time: in the Production mode (the mode set again, or
    carried over midnight, does not cut a stretch)."""
    windows: list[tuple[datetime, datetime]] = []
    for m in modes:
        if m.value != EquipmentMode.PRODUCTION:
            continue
        if windows and windows[-1][1] == m.start:
            windows[-1] = (windows[-1][0], m.end)
        else:
            windows.append((m.start, m.end))
    return windows


def stops(
    equipment_code: str, states: Sequence[Interval], modes: Sequence[Interval], micro_stop: timedelta = MICRO_STOP
) -> list[Stop]:
    """The equipment's stops, by start time, from its state and mode timelines over one range."""
    windows = planned(modes)
    pieces = sorted(
        (max(s.start, start), min(s.end, end), s.value)
        for s in states
        if s.value != PackMLState.EXECUTE
        for start, end in windows
        if max(s.start, start) < min(s.end, end)
    )
    found: list[tuple[datetime, datetime, list[str]]] = []
    for start, end, state in pieces:
        if found and found[-1][1] == start:  # the machine went on from one stopped state to another
            found[-1] = (found[-1][0], end, found[-1][2] + ([state] if found[-1][2][-1] != state else []))
        else:
            found.append((start, end, [state]))
    return [Stop(equipment_code, start, end, tuple(names), end - start < micro_stop) for start, end, names in found]
