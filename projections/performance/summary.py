"""Hourly summaries: each equipment's planned busy time, setup, downtime and minor stops per hour,
so that OEE over a month or a year reads a row per hour, not a row per state change.

The views mark where an equipment's history changed, an hour at a time (`rm_summary_dirty`: a
state or a mode, marked by the states view; `rm_reason_dirty`: a reason or a split, marked by the
reasons view). Before a query reads an equipment's summary it brings it up to date: it
recomputes the hours from the start of the stop running at the earliest mark up to the equipment's
horizon (the start of the interval, or the stop, still in progress: its length, and so whether a
stop is minor, is not known yet) with the same code the live figures use (`history.py`). Hours
after the horizon, and the partial hours at a range's ends, are computed live.

Counts are summed per hour, order and source as they are projected (`rm_count_hours`, kept by the
counts view): a count's order is the one it names, else the one running on the equipment when the
count was projected.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import NamedTuple

from domain.packml import EquipmentMode, PackMLState, authoritative
from projections.performance import counts as count_view
from projections.performance.calendar import plan
from projections.performance.history import Bucket, History, history, stop_began
from projections.performance.oee import Oee, Sums, from_sums, sums_of
from projections.performance.states import floor_hour
from projections.performance.stops import clip_stops
from projections.runner import utc_text
from projections.store import ReadStore, Row, stored_time

HOUR = timedelta(hours=1)
DIRTY = ("rm_summary_dirty", "rm_reason_dirty")  # the states view's marks and the reasons view's
SUMS = ("pbt_s", "aust_s", "down_s", "planned_down_s", "minor_s", "breakdowns")


def ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == moment else floor + HOUR


def _spread(sums: dict[datetime, Sums], start: datetime, end: datetime, name: str) -> None:
    """Adds [start, end) to `name` of each hour it covers."""
    hour = floor_hour(start)
    while hour < end:
        part = (min(end, hour + HOUR) - max(start, hour)).total_seconds()
        if part > 0:
            item = sums[hour]
            setattr(item, name, getattr(item, name) + part)
        hour += HOUR


def hourly(h: History) -> dict[datetime, Sums]:
    """The history's sums per hour, in one sweep over its planned time and its stops."""
    sums: dict[datetime, Sums] = defaultdict(Sums)
    hour = floor_hour(h.since)
    while hour < h.until:  # every hour gets a row, an idle one too
        sums[hour] = Sums()
        hour += HOUR
    for piece in h.pieces:
        _spread(sums, piece.start, piece.end, "pbt_s")
        if piece.mode == EquipmentMode.CHANGEOVER:
            _spread(sums, piece.start, piece.end, "aust_s")
    for stop in h.stops:
        name = "minor_s" if stop.minor else "down_s" if stop.unplanned else "planned_down_s"
        _spread(sums, stop.start, stop.end, name)
        if stop.unplanned and stop.first:
            sums[floor_hour(stop.start)].breakdowns += 1
    return sums


def horizon(store: ReadStore, code: str) -> datetime | None:
    """Where the equipment's settled history ends: the start of its last interval, or of the stop
    in progress (None: no state reported yet)."""
    with store.reader() as tx:
        last = tx.execute(
            "SELECT at, state FROM rm_equipment_states WHERE equipment_code = ? AND kind <> 'opened' "
            "ORDER BY at DESC, position DESC LIMIT 1",
            (code,),
        )
    if not last:
        return None
    at = stored_time(last[0]["at"])
    return at if last[0]["state"] == PackMLState.EXECUTE else stop_began(store, code, at)


def refresh(store: ReadStore, code: str) -> datetime | None:
    """Brings the equipment's hourly summary up to date; answers the hour it is settled until (the
    hours before it have their rows), None when the equipment has reported no state yet."""
    with store.reader() as tx:
        marks = [
            (table, tx.execute(f"SELECT hour, at, position FROM {table} WHERE equipment_code = ?", (code,)))  # noqa: S608
            for table in DIRTY
        ]
        settled = tx.execute("SELECT until FROM rm_equipment_summary WHERE equipment_code = ?", (code,))
    until = stored_time(settled[0]["until"]) if settled else None
    seen = [stored_time(row["at"]) for _, rows in marks for row in rows]
    if not seen:
        return until
    settled_at = horizon(store, code)
    end = None if settled_at is None else floor_hour(settled_at)
    start = floor_hour(stop_began(store, code, min(seen)))
    if until is not None:
        start = min(start, until)  # the hours between were beyond the horizon last time
    sums = hourly(history(store, code, start, end)) if end is not None and start < end else {}
    hours = [(code, utc_text(hour), *(getattr(s, n) for n in SUMS)) for hour, s in sorted(sums.items())]
    with store.transaction() as tx:
        tx.executemany(
            f"INSERT INTO rm_equipment_hours (equipment_code, hour, {', '.join(SUMS)}) "  # noqa: S608
            f"VALUES (?, ?, {', '.join('?' * len(SUMS))}) ON CONFLICT (equipment_code, hour) DO UPDATE SET "
            + ", ".join(f"{n} = excluded.{n}" for n in SUMS),
            hours,
        )
        tx.execute("DELETE FROM rm_equipment_summary WHERE equipment_code = ?", (code,))
        if end is not None:  # every hour before `end` has its row now (those before `start` had)
            tx.execute("INSERT INTO rm_equipment_summary (equipment_code, until) VALUES (?, ?)", (code, utc_text(end)))
        for table, rows in marks:  # a mark moved on since (a later position) stays for next time
            tx.executemany(
                f"DELETE FROM {table} WHERE equipment_code = ? AND hour = ? AND position = ?",  # noqa: S608
                [(code, row["hour"], row["position"]) for row in rows],
            )
    return end


def summed_hours(store: ReadStore, code: str, since: datetime, until: datetime) -> list[Row]:
    """The summary's rows for the whole hours in [since, until), by hour."""
    with store.reader() as tx:
        return tx.execute(
            f"SELECT hour, {', '.join(SUMS)} FROM rm_equipment_hours "  # noqa: S608
            "WHERE equipment_code = ? AND hour >= ? AND hour < ? ORDER BY hour",
            (code, utc_text(since), utc_text(until)),
        )


def counted_hours(store: ReadStore, code: str, since: datetime, until: datetime) -> list[Row]:
    """Units per hour, order and source for the counts in (since, until] (hours whole)."""
    with store.reader() as tx:
        return tx.execute(
            "SELECT hour, order_number, source, good, reject FROM rm_count_hours "
            "WHERE equipment_code = ? AND hour >= ? AND hour < ? ORDER BY hour",
            (code, utc_text(since), utc_text(until)),
        )


def _sums(r: Row) -> Sums:
    return Sums(
        float(r["pbt_s"]),
        float(r["aust_s"]),
        float(r["down_s"]),
        float(r["planned_down_s"]),
        float(r["minor_s"]),
        int(r["breakdowns"]),
    )


def to_sums(rows: Iterable[Row]) -> dict[datetime, Sums]:
    """The summary's rows as sums, by hour."""
    return {stored_time(r["hour"]): _sums(r) for r in rows}


class Cell(NamedTuple):
    """A stretch of the range, [start, end): its sums and its counts (order, source, good, reject)."""

    start: datetime
    end: datetime
    sums: Sums
    counts: list[tuple[str | None, str, int, int]]


def _live_cells(store: ReadStore, code: str, start: datetime, end: datetime, cuts: list[datetime]) -> list[Cell]:
    """[start, end) computed from the timelines, cut at each of `cuts` within it."""
    h = history(store, code, start, end)
    rows = count_view.count_rows(store, code, start, end)
    bounds = [start, *(c for c in cuts if start < c < end), end]
    cells = []
    for s, e in pairwise(bounds):
        pieces = [p._replace(start=max(p.start, s), end=min(p.end, e)) for p in h.pieces if p.start < e and p.end > s]
        counted = [
            (r["order_number"], str(r["source"]), int(r["good"]), int(r["reject"]))
            for r in rows
            if s < stored_time(r["at"]) <= e
        ]
        cells.append(Cell(s, e, sums_of(pieces, clip_stops(h.stops, s, e)), counted))
    return cells


def _summary_cells(store: ReadStore, code: str, start: datetime, end: datetime, skip: set[datetime]) -> list[Cell]:
    """The summary's hours in [start, end), but those in `skip`."""
    counted: dict[datetime, list[tuple[str | None, str, int, int]]] = defaultdict(list)
    for r in counted_hours(store, code, start, end):
        counted[stored_time(r["hour"])].append(
            (r["order_number"] or None, str(r["source"]), int(r["good"]), int(r["reject"]))
        )
    return [
        Cell(hour, hour + HOUR, sums, counted.get(hour, []))
        for hour, sums in to_sums(summed_hours(store, code, start, end)).items()
        if hour not in skip
    ]


def _one_cell(store: ReadStore, code: str, start: datetime, end: datetime) -> Cell:
    """The summary's hours in [start, end) added up by the database, as one cell."""
    span = (code, utc_text(start), utc_text(end))
    with store.reader() as tx:
        (total,) = tx.execute(
            f"SELECT {', '.join(f'COALESCE(SUM({n}), 0) AS {n}' for n in SUMS)} FROM rm_equipment_hours "  # noqa: S608
            "WHERE equipment_code = ? AND hour >= ? AND hour < ?",
            span,
        )
        counted = tx.execute(
            "SELECT order_number, source, SUM(good) AS good, SUM(reject) AS reject FROM rm_count_hours "
            "WHERE equipment_code = ? AND hour >= ? AND hour < ? GROUP BY order_number, source",
            span,
        )
    units = [(r["order_number"] or None, str(r["source"]), int(r["good"]), int(r["reject"])) for r in counted]
    return Cell(start, end, _sums(total), units)


def cells(store: ReadStore, code: str, since: datetime, until: datetime, cuts: list[datetime]) -> list[Cell]:
    """The range as cells, by start: whole hours from the summary where it is settled and no cut
    falls inside them (added up by the database where no cut falls inside them all), the rest
    live (cut at `cuts`)."""
    settled = refresh(store, code) or since
    first, last = ceil_hour(since), min(floor_hour(until), settled)
    if last <= first:
        return _live_cells(store, code, since, until, cuts)
    split = {floor_hour(c) for c in cuts if first <= c < last and c.timestamp() % 3600}
    whole = not any(first < c < last for c in cuts)
    found = [_one_cell(store, code, first, last)] if whole else _summary_cells(store, code, first, last, split)
    spans = [(since, first), (last, until), *((hour, hour + HOUR) for hour in split)]
    for start, end in spans:
        if start < end:
            found += _live_cells(store, code, start, end, cuts)
    return sorted(found, key=lambda c: c.start)


def _operation_minutes(windows: list[tuple[datetime, datetime]], buckets: list[Bucket]) -> list[float]:
    """Each bucket's planned operation time, in minutes, from windows sorted by start."""
    spans = [(w[0].timestamp(), w[1].timestamp()) for w in windows]  # seconds: quick to compare
    starts = [w[0] for w in spans]
    answer = []
    for b in buckets:
        start, end = b.start.timestamp(), b.end.timestamp()
        total = 0.0
        i = max(0, bisect_right(starts, start) - 1)
        while i < len(spans) and spans[i][0] < end:
            total += max(0.0, min(spans[i][1], end) - max(spans[i][0], start))
            i += 1
        answer.append(total / 60)
    return answer


def summary_figures(store: ReadStore, code: str, since: datetime, until: datetime, buckets: list[Bucket]) -> list[Oee]:
    """The equipment's OEE per bucket (each within [since, until)), from its hourly summary and,
    where that cannot serve, its timelines; the same figures as `history.figures`."""
    found = cells(store, code, since, until, sorted({t for b in buckets for t in (b.start, b.end)}))
    calendar = plan(store, code, since, until)
    windows = [(since, until)] if calendar is None else [(w.start, w.end) for w in calendar.operation]
    pots = _operation_minutes(windows, buckets)
    sources: dict[str | None, set[str]] = defaultdict(set)
    for cell in found:
        for order, source, _, _ in cell.counts:
            sources[order].add(source)
    counting = {order: authoritative(found_sources) for order, found_sources in sources.items()}
    cycles = {
        order: float(row["ideal_cycle_time_s"])
        for order, row in count_view.routing_of(store, code, sorted(o for o in counting if o)).items()
    }
    for cell in found:  # each cell's units of its orders' authoritative sources, at their ideal cycle
        for order, source, good, reject in cell.counts:
            if order in cycles and source == counting[order]:
                cell.sums.count(good, reject, cycles[order])
    starts = [c.start.timestamp() for c in found]  # seconds: quick to compare
    answer = []
    for b, pot in zip(buckets, pots, strict=True):
        i = bisect_left(starts, b.start.timestamp())
        j = bisect_left(starts, b.end.timestamp(), lo=i)  # the bucket's cells: found[i:j]
        if j - i == 1:  # one cell (hour by hour): nothing to add up
            answer.append(from_sums(pot, found[i].sums))
            continue
        total = Sums()
        for cell in found[i:j]:
            total.add(cell.sums)
        answer.append(from_sums(pot, total))
    return answer
