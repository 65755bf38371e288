"""One equipment's performance history over a range, read once, and its figures per bucket.

The stops running when the range begins and ends are read whole (up to a week beyond it), so each
is a minor stop or downtime by its whole length, and the reasons operators gave it still apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar

from domain.packml import EquipmentMode, PackMLState
from domain.shift_calendar import Window
from projections.performance import states as view
from projections.performance.calendar import Plan, plan
from projections.performance.oee import buckets
from projections.performance.reasons import equipment_reasons, marks
from projections.performance.states import Interval
from projections.performance.stops import Piece, Stop, clip_stops, planned, stops
from projections.runner import utc_text
from projections.store import ReadStore, stored_time

Span = TypeVar("Span", Piece, Window, Interval)
MODE = str(EquipmentMode.PRODUCTION)
LOOK_BACK = timedelta(days=7)  # how far the stops running at a range's ends are read beyond it


class Bucket(NamedTuple):
    """One bucket of a report: its span and, for a shift or an order, its name."""

    start: datetime
    end: datetime
    name: str | None = None


@dataclass(frozen=True)
class History:
    """What one equipment's figures over [since, until) come from."""

    code: str
    since: datetime
    until: datetime
    plan: Plan | None
    pieces: list[Piece]
    stops: list[Stop]


def stop_began(store: ReadStore, code: str, since: datetime) -> datetime:
    """Where to read from so that the stop running at `since` is read whole: the last change into
    Execute at or before it (within a week)."""
    with store.reader() as tx:
        rows = tx.execute(
            "SELECT at FROM rm_equipment_states WHERE equipment_code = ? AND at <= ? AND at >= ? AND state = ? "
            "AND kind <> 'opened' ORDER BY at DESC LIMIT 1",
            (code, utc_text(since), utc_text(since - LOOK_BACK), str(PackMLState.EXECUTE)),
        )
    return stored_time(rows[0]["at"]) if rows else since - LOOK_BACK


def stop_ended(store: ReadStore, code: str, until: datetime) -> datetime:
    """Where to read to so that the stop running at `until` is read whole: the next change into
    Execute (within a week; `until` itself when the equipment is in Execute then)."""
    with store.reader() as tx:
        last = tx.execute(
            "SELECT state FROM rm_equipment_states WHERE equipment_code = ? AND kind <> 'opened' AND at < ? "
            "ORDER BY at DESC, position DESC LIMIT 1",
            (code, utc_text(until)),
        )
        if not last or last[0]["state"] == PackMLState.EXECUTE:
            return until
        ends = tx.execute(
            "SELECT at FROM rm_equipment_states WHERE equipment_code = ? AND at >= ? AND at <= ? AND state = ? "
            "AND kind <> 'opened' ORDER BY at LIMIT 1",
            (code, utc_text(until), utc_text(until + LOOK_BACK), str(PackMLState.EXECUTE)),
        )
    return stored_time(ends[0]["at"]) if ends else until + LOOK_BACK


def history(store: ReadStore, code: str, since: datetime, until: datetime) -> History:
    """The equipment's history over [since, until), its stops read whole (from where the one
    running at `since` began to where the one running at `until` ends)."""
    begin, end = stop_began(store, code, since), stop_ended(store, code, until)
    states: list[Interval] = view.timeline(store, "rm_equipment_states", "state", code, begin, end)
    # Production is the mode of an equipment never set otherwise, from its first reported state on:
    # before that nothing is known of it, and unknown time is no planned time.
    known = states[0].start if states else end
    modes = clip(view.timeline(store, "rm_equipment_modes", "mode", code, begin, end, default=MODE), known, end)
    calendar = plan(store, code, begin, end)
    tree = equipment_reasons(store, code)
    found = stops(
        code,
        states,
        modes,
        busy=None if calendar is None else calendar.busy,
        micro_stop=tree.micro_stop,
        marks=marks(store, code, begin, end),
        faults=tree.faults,
        shifts=[] if calendar is None else calendar.shifts,
    )
    pieces = planned(modes, None if calendar is None else calendar.busy)
    return History(code, since, until, calendar, clip(pieces, since, until), clip_stops(found, since, until))


def clip(spans: list[Span], start: datetime, end: datetime) -> list[Span]:
    """The spans within [start, end), cut to it."""
    return [
        s._replace(start=max(s.start, start), end=min(s.end, end)) for s in spans if s.start < end and s.end > start
    ]


def shift_buckets(calendar: Plan | None, since: datetime, until: datetime) -> list[Bucket]:
    """One bucket per shift worked in [since, until) (none without a calendar)."""
    shifts = [] if calendar is None else calendar.shifts
    return [
        Bucket(max(s.start, since), min(s.end, until), f"{s.name} {s.day.isoformat()}")
        for s in shifts
        if s.start < until and s.end > since
    ]


def order_buckets(store: ReadStore, code: str, since: datetime, until: datetime) -> list[Bucket]:
    """One bucket per order run on the equipment in [since, until), from its start to its end."""
    with store.reader() as tx:
        rows = tx.execute(
            "SELECT order_number, started_at, ended_at FROM rm_order_runs WHERE equipment_code = ? "
            "AND started_at < ? AND (ended_at IS NULL OR ended_at > ?) ORDER BY started_at",
            (code, utc_text(until), utc_text(since)),
        )
    return [
        Bucket(
            max(stored_time(r["started_at"]), since),
            until if r["ended_at"] is None else min(stored_time(r["ended_at"]), until),
            str(r["order_number"]),
        )
        for r in rows
    ]


def time_buckets(since: datetime, until: datetime, size: timedelta | None) -> list[Bucket]:
    return [Bucket(start, end) for start, end in buckets(since, until, size)]
