"""Counts: what each equipment made, attributed to the order that ran on it at the time.

A count names its order, or is attributed to the order whose run on the equipment (from its start
to its completion or cancellation, for each equipment of its routing) covers the count's time.
Per order, one source is authoritative so nothing is counted twice: the machine's counters where
the order has any machine count on that equipment, else the operators' reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from domain.equipment_day import EquipmentDay
from domain.work_order import WorkOrder
from projections.performance.states import floor_hour
from projections.runner import ReadModelProjection, Recorded, applies, utc_text
from projections.store import ReadStore, Row, Tx, stored_time


def count_hour(moment: datetime) -> datetime:
    """The hour (h, h + 1] a count whose window ends at `moment` falls in, by its start."""
    return floor_hour(moment - timedelta(microseconds=1))


COUNT_COLUMNS = ("equipment_code", "at", "position", "since", "good", "reject", "source", "order_number")


class CountsProjection(ReadModelProjection):
    name = "equipment_counts"
    tables = ("rm_equipment_counts", "rm_order_routing", "rm_order_runs", "rm_count_hours")

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        self.tx = tx
        self.counts: list[tuple[Any, ...]] = []

    def finish(self, tx: Tx) -> None:
        tx.executemany(
            f"INSERT INTO {self.t['rm_equipment_counts']} ({', '.join(COUNT_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(COUNT_COLUMNS))})",
            self.counts,
        )
        self._sum_by_hour(tx)

    def _sum_by_hour(self, tx: Tx) -> None:
        """Adds the page's counts to their hours, per order (the one a count names, else the one
        running on the equipment at its time, as the views know it now) and source."""
        if not self.counts:
            return
        codes = sorted({c[0] for c in self.counts})
        runs: dict[str, list[tuple[datetime, datetime | None, str]]] = {}
        for row in tx.execute(
            f"SELECT equipment_code, order_number, started_at, ended_at FROM {self.t['rm_order_runs']} "  # noqa: S608
            f"WHERE equipment_code IN ({', '.join('?' * len(codes))}) ORDER BY started_at DESC",
            codes,
        ):
            ended = None if row["ended_at"] is None else stored_time(row["ended_at"])
            runs.setdefault(row["equipment_code"], []).append(
                (stored_time(row["started_at"]), ended, row["order_number"])
            )
        sums: dict[tuple[str, str, str, str], tuple[int, int]] = {}
        for code, at_text, _, _, good, reject, source, named in self.counts:
            at = stored_time(at_text)
            order = named or next(
                (o for start, end, o in runs.get(code, []) if start <= at and (end is None or at <= end)), ""
            )
            key = (code, utc_text(count_hour(at)), order, source)
            before = sums.get(key, (0, 0))
            sums[key] = (before[0] + good, before[1] + reject)
        tx.executemany(
            f"INSERT INTO {self.t['rm_count_hours']} (equipment_code, hour, order_number, source, good, reject) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (equipment_code, hour, order_number, source) DO UPDATE SET "
            f"good = {self.t['rm_count_hours']}.good + excluded.good, "
            f"reject = {self.t['rm_count_hours']}.reject + excluded.reject",
            [(*key, good, reject) for key, (good, reject) in sums.items()],
        )

    @applies(EquipmentDay.CountsReported)
    def counted(self, r: Recorded) -> None:
        e = r.event
        since = None if e.since is None else utc_text(e.since)
        self.counts.append((e.equipment_code, r.at, r.position, since, e.good, e.reject, str(e.source), e.order_number))

    @applies(WorkOrder.Created)
    def created(self, r: Recorded) -> None:
        e = r.event
        self.tx.executemany(
            f"INSERT INTO {self.t['rm_order_routing']} "  # noqa: S608
            "(order_number, order_id, equipment_code, product_code, operation, ideal_cycle_time_s) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    e.order_number,
                    str(e.originator_id),
                    op.equipment_code,
                    e.product_code,
                    op.sequence,
                    str(op.ideal_cycle_time_s),
                )
                for op in e.routing
            ],
        )

    @applies(WorkOrder.Started)
    def started(self, r: Recorded) -> None:
        routing = self.tx.execute(
            f"SELECT DISTINCT equipment_code, order_number FROM {self.t['rm_order_routing']} "  # noqa: S608
            "WHERE order_id = ?",
            (str(r.event.originator_id),),
        )
        self.tx.executemany(
            f"INSERT INTO {self.t['rm_order_runs']} (equipment_code, order_number, started_at, position) "  # noqa: S608
            "VALUES (?, ?, ?, ?)",
            [(row["equipment_code"], row["order_number"], r.at, r.position) for row in routing],
        )

    @applies(WorkOrder.Completed, WorkOrder.Cancelled)
    def ended(self, r: Recorded) -> None:
        self.tx.execute(
            f"UPDATE {self.t['rm_order_runs']} SET ended_at = ?, position = ? WHERE ended_at IS NULL "  # noqa: S608
            f"AND order_number IN (SELECT order_number FROM {self.t['rm_order_routing']} WHERE order_id = ?)",
            (r.at, r.position, str(r.event.originator_id)),
        )


# The order a count is for: the one it names, else the one running on the equipment at its time.
ORDER_OF_COUNT = (
    "COALESCE(c.order_number, (SELECT r.order_number FROM rm_order_runs r "
    "WHERE r.equipment_code = c.equipment_code AND r.started_at <= c.at "
    "AND (r.ended_at IS NULL OR c.at <= r.ended_at) ORDER BY r.started_at DESC LIMIT 1))"
)
IN_RANGE = "FROM rm_equipment_counts c WHERE c.equipment_code = ? AND c.at > ? AND c.at <= ?"


def order_counts(store: ReadStore, code: str, since: datetime, until: datetime) -> list[Row]:
    """Good and reject units the equipment made in (since, until], per order and source: the order
    named by the count, else the one running on the equipment at its time (null: none was)."""
    with store.reader() as tx:
        return tx.execute(
            f"SELECT {ORDER_OF_COUNT} AS order_number, c.source AS source, SUM(c.good) AS good, "
            f"SUM(c.reject) AS reject {IN_RANGE} GROUP BY 1, 2 ORDER BY 1, 2",
            (code, utc_text(since), utc_text(until)),
        )


def routing_of(store: ReadStore, code: str, orders: Sequence[str]) -> dict[str, Row]:
    """Each order's product and ideal cycle time on this equipment (its first operation there)."""
    if not orders:
        return {}
    marks = ", ".join("?" * len(orders))
    with store.reader() as tx:
        rows = tx.execute(
            "SELECT order_number, product_code, ideal_cycle_time_s FROM rm_order_routing "  # noqa: S608
            f"WHERE equipment_code = ? AND order_number IN ({marks}) ORDER BY operation DESC",
            (code, *orders),
        )
    return {row["order_number"]: row for row in rows}


def count_rows(store: ReadStore, code: str, since: datetime, until: datetime) -> list[Row]:
    """Each count of the equipment in (since, until], with the order it is for."""
    with store.reader() as tx:
        return tx.execute(
            f"SELECT c.at AS at, {ORDER_OF_COUNT} AS order_number, c.source AS source, c.good AS good, "
            f"c.reject AS reject {IN_RANGE} ORDER BY c.at, c.position",
            (code, utc_text(since), utc_text(until)),
        )


def bottleneck(store: ReadStore, codes: list[str], since: datetime, until: datetime) -> str | None:
    """Of the equipment (a line's), its bottleneck: the one with the longest ideal cycle time in the
    routings of the orders run in the range (the later operation on a tie). Line OEE is its OEE."""
    if not codes:
        return None
    marks = ", ".join("?" * len(codes))
    with store.reader() as tx:
        rows = tx.execute(
            "SELECT g.equipment_code FROM rm_order_routing g JOIN rm_order_runs r "  # noqa: S608
            "ON r.order_number = g.order_number AND r.equipment_code = g.equipment_code "
            f"WHERE g.equipment_code IN ({marks}) AND r.started_at < ? AND (r.ended_at IS NULL OR r.ended_at > ?) "
            "ORDER BY CAST(g.ideal_cycle_time_s AS REAL) DESC, g.operation DESC LIMIT 1",  # SQLite keeps it as text
            (*codes, utc_text(until), utc_text(since)),
        )
    return str(rows[0]["equipment_code"]) if rows else None
