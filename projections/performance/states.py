"""The state and mode timelines: every change of every equipment, placed by its source time.

An observation that arrives late (a connector's backlog) lands where its time says, so an interval
is always from one change to the next in time, whatever order they were recorded in. Each day's
opening state and mode are rows too (kind `opened`), kept as recorded; the timelines read the
changes themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from domain.equipment_day import EquipmentDay
from projections.runner import ReadModelProjection, Recorded, applies, utc_text
from projections.store import ReadStore, Tx, stored_time

STATE_COLUMNS = ("equipment_code", "at", "position", "state", "kind", "in_model", "command", "raw_code", "actor_id")
MODE_COLUMNS = ("equipment_code", "at", "position", "mode", "actor_id", "kind")


class StatesProjection(ReadModelProjection):
    name = "equipment_states"
    # The hourly summaries go with the timelines they sum up (projections/performance/summary.py).
    tables = (
        "rm_equipment_states",
        "rm_equipment_modes",
        "rm_equipment_hours",
        "rm_equipment_summary",
        "rm_summary_dirty",
    )

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        self.states: list[tuple[Any, ...]] = []
        self.modes: list[tuple[Any, ...]] = []

    def finish(self, tx: Tx) -> None:
        for table, columns, rows in (
            ("rm_equipment_states", STATE_COLUMNS, self.states),
            ("rm_equipment_modes", MODE_COLUMNS, self.modes),
        ):
            tx.executemany(
                f"INSERT INTO {self.t[table]} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
                rows,
            )
        mark_changed(tx, self.t["rm_summary_dirty"], [(r[0], r[1], r[2]) for r in (*self.states, *self.modes)])

    def _state(self, r: Recorded, state: str, kind: str, *, in_model: bool = True, **more: Any) -> None:
        e = r.event
        self.states.append(
            (
                e.equipment_code,
                r.at,
                r.position,
                state,
                kind,
                in_model,
                more.get("command"),
                more.get("raw_code"),
                e.provenance.actor.id,
            )
        )

    @applies(EquipmentDay.Opened)
    def opened(self, r: Recorded) -> None:
        e = r.event
        day_start = utc_text(datetime(e.day.year, e.day.month, e.day.day, tzinfo=UTC))
        self.states.append(
            (e.equipment_code, day_start, r.position, str(e.state), "opened", True, None, None, e.provenance.actor.id)
        )
        self.modes.append((e.equipment_code, day_start, r.position, str(e.mode), e.provenance.actor.id, "opened"))

    @applies(EquipmentDay.StateObserved)
    def observed(self, r: Recorded) -> None:
        e = r.event
        self._state(r, str(e.state), "observed", in_model=e.in_model, raw_code=e.raw_code)

    @applies(EquipmentDay.StateCommanded)
    def commanded(self, r: Recorded) -> None:
        e = r.event
        self._state(r, str(e.state), "commanded", command=str(e.command))

    @applies(EquipmentDay.ModeSet)
    def mode_set(self, r: Recorded) -> None:
        e = r.event
        self.modes.append((e.equipment_code, r.at, r.position, str(e.mode), e.provenance.actor.id, "set"))


def mark_changed(tx: Tx, table: str, changes: Sequence[tuple[str, str, int]]) -> None:
    """Marks where each equipment's history changed, an hour at a time (the earliest change in the
    hour, the last position), so that its hourly summary is brought up to date before it is read
    again. However the log is paged, the marks come out the same."""
    marked: dict[tuple[str, str], tuple[str, int]] = {}
    for code, at, position in changes:
        key = (code, utc_text(floor_hour(stored_time(at))))
        first, last = marked.get(key, (at, position))
        marked[key] = (min(first, at), max(last, position))
    tx.executemany(
        f"INSERT INTO {table} (equipment_code, hour, at, position) VALUES (?, ?, ?, ?) "  # noqa: S608
        "ON CONFLICT (equipment_code, hour) DO UPDATE SET "
        f"at = CASE WHEN excluded.at < {table}.at THEN excluded.at ELSE {table}.at END, "
        f"position = CASE WHEN excluded.position > {table}.position THEN excluded.position ELSE {table}.position END",
        [(code, hour, at, position) for (code, hour), (at, position) in marked.items()],
    )


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class Interval(NamedTuple):
    """One stretch of time in one state (or mode), clipped to the range asked for."""

    start: datetime
    end: datetime
    value: str
    in_model: bool
    kind: str  # how it began: observed, commanded, set (a mode), or default (no change before it)
    raw_code: str | None = None  # what the machine sent (a fault code, for a stop)


def timeline(
    store: ReadStore,
    table: str,
    column: str,
    code: str,
    since: datetime,
    until: datetime,
    default: str | None = None,
) -> list[Interval]:
    """The equipment's intervals in [since, until): the change in force at `since`, then each change
    before `until`, by source time (`default` from `since` when no change came before it).

    The rows that open each day are left out: a day opens with what was known when it opened, and
    a report of the day before that arrives later (a connector's backlog) would be hidden behind it.
    """
    extra = (
        ", in_model, kind, raw_code" if table == "rm_equipment_states" else ", TRUE AS in_model, kind, NULL AS raw_code"
    )
    select = f"SELECT at, {column} AS value{extra} FROM {table} WHERE equipment_code = ? AND kind <> 'opened'"  # noqa: S608
    with store.reader() as tx:
        before = tx.execute(f"{select} AND at <= ? ORDER BY at DESC, position DESC LIMIT 1", (code, utc_text(since)))
        changes = tx.execute(
            f"{select} AND at > ? AND at < ? ORDER BY at, position", (code, utc_text(since), utc_text(until))
        )
    intervals = [] if before or default is None else [Interval(since, until, default, True, "default")]
    for row in [*before, *changes]:
        start = max(stored_time(row["at"]), since)
        if intervals:
            intervals[-1] = intervals[-1]._replace(end=start)
        intervals.append(
            Interval(start, until, str(row["value"]), bool(row["in_model"]), str(row["kind"]), row["raw_code"])
        )
    return [i for i in intervals if i.end > i.start]
