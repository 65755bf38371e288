"""Stops: every stretch of planned busy time the equipment spent outside Execute, with its reason.

Planned busy time (PBT) is the calendar's (shifts less breaks, non-working days and planned
downtime; every hour without a calendar) in a mode that counts: Production, or Changeover (all of
it setup time, ISO 22400 AUST). A stop is contiguous time in Production outside Execute (Held, then
Unholding, is one stop). One shorter than the micro-stop threshold is a minor stop (a performance
loss); a longer one is downtime, which needs a reason. The length that decides is the whole stop's,
wherever reports cut it:

- an operator's split cuts a stop in two, each piece taking a reason of its own;
- a piece's reason is the last an operator gave at a moment within it, else the one its machine's
  fault code (the raw code of the state it stopped in) means in its class's tree;
- reports cut stops again at shift boundaries (each piece keeps its reason and its shift).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from domain.packml import EquipmentMode, PackMLState
from domain.reason_tree import Reason
from domain.shift_calendar import ShiftWindow, Window
from projections.performance.reasons import MICRO_STOP, Mark
from projections.performance.states import Interval

COUNTING = frozenset({EquipmentMode.PRODUCTION, EquipmentMode.CHANGEOVER})


class Piece(NamedTuple):
    """A stretch of planned busy time in one mode that counts."""

    start: datetime
    end: datetime
    mode: str


class Stop(NamedTuple):
    """One stop (or a piece of one, cut by an operator's split or a shift boundary)."""

    equipment_code: str
    start: datetime
    end: datetime
    states: tuple[str, ...]
    minor: bool
    at: datetime  # the moment that names it: its start, or its operator split's
    first: bool = True  # it begins the stop (or the split piece), rather than going on from a cut
    reason: Reason | None = None
    explained_by: str | None = None  # operator or fault code
    shift: str | None = None

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def unplanned(self) -> bool:
        """Downtime that is a breakdown: unplanned, or without a reason yet."""
        return not self.minor and (self.reason is None or not self.reason.planned)


def planned(modes: Sequence[Interval], busy: Sequence[Window] | None = None) -> list[Piece]:
    """Planned busy time, by mode: the calendar's busy windows (all of the modes' span without a
    calendar) in a mode that counts; contiguous stretches of one mode make one piece."""
    pieces: list[Piece] = []
    counting = [m for m in modes if m.value in COUNTING]
    spans = ((m, m.start, m.end) for m in counting) if busy is None else _overlaps(counting, busy)
    for m, start, end in spans:
        if pieces and pieces[-1].end == start and pieces[-1].mode == m.value:
            pieces[-1] = pieces[-1]._replace(end=end)
        else:
            pieces.append(Piece(start, end, m.value))
    return pieces


def _cut(stop: Stop, cuts: Sequence[datetime], *, new_pieces: bool) -> list[Stop]:
    """The stop cut at each moment (of `cuts`, sorted) within it; a piece after an operator's split
    is a stop of its own (named by the split's moment), one after a shift boundary goes on from the
    one before."""
    pieces, start = [], stop.start
    for at in cuts[bisect_right(cuts, stop.start) : bisect_left(cuts, stop.end)]:
        pieces.append(stop._replace(start=start, end=at))
        start = at
        stop = stop._replace(at=at) if new_pieces else stop._replace(first=False)
    pieces.append(stop._replace(start=start))
    return pieces


def stops(
    equipment_code: str,
    states: Sequence[Interval],
    modes: Sequence[Interval],
    *,
    busy: Sequence[Window] | None = None,
    micro_stop: timedelta = MICRO_STOP,
    marks: Sequence[Mark] = (),
    faults: Mapping[str, Reason] | None = None,
    shifts: Sequence[ShiftWindow] = (),
) -> list[Stop]:
    """The equipment's stops by start, from its timelines over one range and what the calendar, the
    operators (`marks`, in the order given) and its fault codes say."""
    windows = [Window(p.start, p.end) for p in planned(modes, busy) if p.mode == EquipmentMode.PRODUCTION]
    stopped = [s for s in states if s.value != PackMLState.EXECUTE]
    parts = [(start, end, s.value, s.raw_code) for s, start, end in _overlaps(stopped, windows)]
    found: list[tuple[datetime, datetime, list[str], str | None]] = []
    for start, end, state, raw in parts:
        if found and found[-1][1] == start:  # the machine went on from one stopped state to another
            first, _, names, fault = found[-1]
            found[-1] = (first, end, names + ([state] if names[-1] != state else []), fault)
        else:
            found.append((start, end, [state], raw))
    splits = sorted(m.at for m in marks if m.kind == "split")
    # Reasons by their moment; of those within a piece, the last given (the highest index) counts.
    reasons = sorted((m.at, n, m.reason) for n, m in enumerate(marks) if m.reason is not None)
    moments = [r[0] for r in reasons]
    boundaries = sorted({t for s in shifts for t in (s.start, s.end)})
    shift_starts = [s.start for s in shifts]
    answer = []
    for start, end, names, raw in found:
        whole = Stop(equipment_code, start, end, tuple(names), end - start < micro_stop, start)
        known = (faults or {}).get(raw) if raw else None
        for piece in _cut(whole, splits, new_pieces=True):
            given = reasons[bisect_left(moments, piece.start) : bisect_left(moments, piece.end)]
            explained = piece
            if given:
                explained = piece._replace(reason=max(given, key=lambda r: r[1])[2], explained_by="operator")
            elif known is not None:
                explained = piece._replace(reason=known, explained_by="fault code")
            for part in _cut(explained, boundaries, new_pieces=False):
                i = bisect_right(shift_starts, part.start) - 1
                shift = shifts[i].name if i >= 0 and part.start < shifts[i].end else None
                answer.append(part._replace(shift=shift))
    return answer


def _overlaps(spans: Sequence[Interval], windows: Sequence[Window]) -> Iterable[tuple[Interval, datetime, datetime]]:
    """Each span's overlap with each window, both sorted by start and neither overlapping itself,
    in one sweep."""
    w = 0
    for span in spans:
        while w < len(windows) and windows[w].end <= span.start:
            w += 1
        k = w
        while k < len(windows) and windows[k].start < span.end:
            start, end = max(span.start, windows[k].start), min(span.end, windows[k].end)
            if start < end:
                yield span, start, end
            k += 1


def clip_stops(found: Iterable[Stop], start: datetime, end: datetime) -> list[Stop]:
    """The stops within [start, end), cut to it (a piece that began before goes on from a cut)."""
    return [
        s._replace(start=max(s.start, start), end=min(s.end, end), first=s.first and s.start >= start)
        for s in found
        if s.start < end and s.end > start
    ]
