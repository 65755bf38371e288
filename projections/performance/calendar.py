"""The shift calendars: each line's (or site's, area's, equipment's) patterns, planned downtime and
non-working days, and what they make of a range for one equipment: its shifts and its planned
busy time. An equipment follows the nearest calendar up its hierarchy (its own, its line's, its
area's, its site's); with none anywhere, or before its first pattern takes effect, every hour is
planned (the mode alone decides).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

import msgspec

from domain.shift_calendar import (
    Pattern,
    ShiftCalendar,
    ShiftWindow,
    Window,
    operation_time,
    subtract,
    worked_shifts,
)
from projections.runner import ReadModelProjection, Recorded, applies, utc_text
from projections.store import ReadStore, Tx, stored_time

_PATTERN = msgspec.json.Decoder(Pattern)
MOST_LEVELS = 8  # an equipment hierarchy is a handful deep; a cycle in bad data stops here


class CalendarProjection(ReadModelProjection):
    name = "shift_calendars"
    tables = ("rm_shift_patterns", "rm_planned_downtime", "rm_non_working_days")

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        self.tx = tx

    @applies(ShiftCalendar.PatternDefined)
    def pattern(self, r: Recorded) -> None:
        e = r.event
        self.tx.execute(
            f"INSERT INTO {self.t['rm_shift_patterns']} "  # noqa: S608
            "(calendar_code, effective_from, position, pattern, actor_id) VALUES (?, ?, ?, ?, ?)",
            (
                e.code,
                utc_text(e.pattern.effective_from),
                r.position,
                msgspec.json.encode(e.pattern).decode(),
                e.provenance.actor.id,
            ),
        )

    @applies(ShiftCalendar.DowntimePlanned)
    def downtime(self, r: Recorded) -> None:
        e = r.event
        self.tx.execute(
            f"INSERT INTO {self.t['rm_planned_downtime']} "  # noqa: S608
            "(calendar_code, start_at, end_at, position, kind, note, actor_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.code, utc_text(e.start), utc_text(e.end), r.position, e.kind, e.note, e.provenance.actor.id),
        )

    @applies(ShiftCalendar.NonWorkingDayMarked)
    def non_working(self, r: Recorded) -> None:
        e = r.event
        self.tx.execute(
            f"INSERT INTO {self.t['rm_non_working_days']} "  # noqa: S608
            "(calendar_code, day, name, position, actor_id) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (calendar_code, day) DO NOTHING",
            (e.code, e.day.isoformat(), e.name, r.position, e.provenance.actor.id),
        )


class Plan(NamedTuple):
    """What one equipment's calendar makes of a range: the calendar's code, the shifts worked,
    planned operation time (POT: the shifts less breaks and non-working days) and planned busy
    time (PBT: that less planned downtime)."""

    calendar_code: str
    shifts: list[ShiftWindow]
    operation: list[Window]
    busy: list[Window]


def calendar_code(store: ReadStore, equipment_code: str) -> str | None:
    """The nearest equipment up the hierarchy, from the equipment itself, that has a shift pattern
    (one statement: the hierarchy is walked in the database)."""
    with store.reader() as tx:
        found = tx.execute(
            "WITH RECURSIVE up(code, depth) AS (SELECT ?, 0 UNION ALL "
            "SELECT e.parent_code, up.depth + 1 FROM rm_equipment e JOIN up ON e.code = up.code "
            "WHERE e.parent_code IS NOT NULL AND up.depth < ?) "
            "SELECT up.code FROM up WHERE EXISTS (SELECT 1 FROM rm_shift_patterns p WHERE p.calendar_code = up.code) "
            "ORDER BY up.depth LIMIT 1",
            (equipment_code, MOST_LEVELS),
        )
    return str(found[0]["code"]) if found else None


def plan(store: ReadStore, equipment_code: str, since: datetime, until: datetime) -> Plan | None:
    """The equipment's shifts and planned busy time over [since, until), or None without a calendar."""
    code = calendar_code(store, equipment_code)
    if code is None:
        return None
    with store.reader() as tx:
        patterns = [
            _PATTERN.decode(row["pattern"])
            for row in tx.execute(
                "SELECT pattern FROM rm_shift_patterns WHERE calendar_code = ? AND effective_from < ? "
                "ORDER BY effective_from, position",
                (code, utc_text(until)),
            )
        ]
        off = [
            date.fromisoformat(row["day"])
            for row in tx.execute("SELECT day FROM rm_non_working_days WHERE calendar_code = ?", (code,))
        ]
        downtime = [
            Window(max(stored_time(row["start_at"]), since), min(stored_time(row["end_at"]), until))
            for row in tx.execute(
                "SELECT start_at, end_at FROM rm_planned_downtime WHERE calendar_code = ? AND start_at < ? "
                "AND end_at > ?",
                (code, utc_text(until), utc_text(since)),
            )
        ]
    shifts = worked_shifts(_latest_per_time(patterns), off, since, until)
    # Before its first pattern takes effect a calendar says nothing: every hour is planned, as
    # without a calendar.
    first = min((p.effective_from for p in patterns), default=until)
    before = [Window(since, min(first, until))] if since < first else []
    operation = [*before, *operation_time(shifts)]
    return Plan(code, shifts, operation, subtract(operation, downtime))


def _latest_per_time(patterns: list[Pattern]) -> list[Pattern]:
    """Of patterns taking effect at the same moment, the one defined last."""
    return list({p.effective_from: p for p in patterns}.values())
