"""Downtime reasons: each class's reason tree, the equipment in each class, and the reasons and
splits operators gave stops (every one kept; the latest for a stop is the one in force)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from domain.equipment import Equipment
from domain.equipment_day import EquipmentDay
from domain.reason_tree import Reason, ReasonTree
from projections.performance.states import mark_changed
from projections.runner import ReadModelProjection, Recorded, applies, utc_text
from projections.store import ReadStore, Row, Tx, stored_time

MICRO_STOP = timedelta(minutes=2)  # the micro-stop threshold of equipment in no class
MARK_COLUMNS = (
    "equipment_code", "at", "position", "kind", "reason_code", "reason_name", "category", "planned", "note",
    "actor_id", "recorded_at",
)  # fmt: skip


class ReasonsProjection(ReadModelProjection):
    name = "downtime_reasons"
    tables = ("rm_reason_trees", "rm_equipment_classes", "rm_stop_marks", "rm_reason_dirty")

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        self.tx = tx
        self.marks: list[tuple[Any, ...]] = []

    def finish(self, tx: Tx) -> None:
        tx.executemany(
            f"INSERT INTO {self.t['rm_stop_marks']} ({', '.join(MARK_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(MARK_COLUMNS))})",
            self.marks,
        )
        mark_changed(tx, self.t["rm_reason_dirty"], [(m[0], m[1], m[2]) for m in self.marks])

    @applies(ReasonTree.Defined, ReasonTree.Redefined)
    def tree(self, r: Recorded) -> None:
        e = r.event
        table = self.t["rm_reason_trees"]
        self.tx.execute(f"DELETE FROM {table} WHERE equipment_class = ?", (e.equipment_class,))  # noqa: S608
        self.tx.executemany(
            f"INSERT INTO {table} (equipment_class, code, name, category, planned, fault_codes, micro_stop_s, "  # noqa: S608
            "position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*_tree_row(e.equipment_class, x), e.micro_stop_s, r.position) for x in e.reasons],
        )

    @applies(Equipment.Classified)
    def classified(self, r: Recorded) -> None:
        e = r.event
        self.tx.execute(
            f"INSERT INTO {self.t['rm_equipment_classes']} (equipment_code, equipment_class, position) "  # noqa: S608
            "VALUES (?, ?, ?) ON CONFLICT (equipment_code) DO UPDATE SET equipment_class = excluded.equipment_class, "
            "position = excluded.position",
            (e.code, e.equipment_class, r.position),
        )

    @applies(EquipmentDay.StopReasonAssigned)
    def assigned(self, r: Recorded) -> None:
        e, x = r.event, r.event.reason
        self.marks.append(
            (
                e.equipment_code, utc_text(e.at), r.position, "reason", x.code, x.name, x.category, x.planned, e.note,
                e.provenance.actor.id, r.at,
            )
        )  # fmt: skip

    @applies(EquipmentDay.StopSplit)
    def split(self, r: Recorded) -> None:
        e = r.event
        self.marks.append(
            (e.equipment_code, utc_text(e.at), r.position, "split", None, None, None, None, None,
             e.provenance.actor.id, r.at)
        )  # fmt: skip


def _tree_row(equipment_class: str, x: Reason) -> tuple[Any, ...]:
    return (equipment_class, x.code, x.name, x.category, x.planned, json.dumps(list(x.fault_codes)))


class Mark(NamedTuple):
    """A reason given to the stop running at `at`, or a split of it there."""

    at: datetime
    kind: str  # reason or split
    reason: Reason | None
    note: str | None
    actor_id: str


def marks(store: ReadStore, code: str, since: datetime, until: datetime) -> list[Mark]:
    """The reasons and splits given to the equipment's stops in [since, until), in the order given."""
    with store.reader() as tx:
        rows = tx.execute(
            "SELECT * FROM rm_stop_marks WHERE equipment_code = ? AND at >= ? AND at < ? ORDER BY position",
            (code, utc_text(since), utc_text(until)),
        )
    return [
        Mark(
            stored_time(row["at"]),
            str(row["kind"]),
            None
            if row["reason_code"] is None
            else Reason(row["reason_code"], row["reason_name"], row["category"], bool(row["planned"])),
            row["note"],
            str(row["actor_id"]),
        )
        for row in rows
    ]


class Tree(NamedTuple):
    """What an equipment's class says of its stops: the reasons its fault codes mean, and the
    micro-stop threshold (2 minutes for equipment in no class)."""

    faults: dict[str, Reason]
    micro_stop: timedelta


def equipment_reasons(store: ReadStore, code: str) -> Tree:
    with store.reader() as tx:
        rows = tx.execute(
            "SELECT t.* FROM rm_reason_trees t JOIN rm_equipment_classes c ON c.equipment_class = t.equipment_class "
            "WHERE c.equipment_code = ?",
            (code,),
        )
    faults = {
        fault: Reason(row["code"], row["name"], row["category"], bool(row["planned"]))
        for row in rows
        for fault in json.loads(row["fault_codes"])
    }
    return Tree(faults, timedelta(seconds=int(rows[0]["micro_stop_s"])) if rows else MICRO_STOP)


def reason_tree(store: ReadStore, equipment_class: str) -> tuple[list[Row], list[str]]:
    """A class's reasons (by code) and the equipment in it; no rows if the class has no tree."""
    with store.reader() as tx:
        reasons = tx.execute(
            "SELECT * FROM rm_reason_trees WHERE equipment_class = ? ORDER BY code", (equipment_class,)
        )
        members = tx.execute(
            "SELECT equipment_code FROM rm_equipment_classes WHERE equipment_class = ? ORDER BY equipment_code",
            (equipment_class,),
        )
    return reasons, [str(m["equipment_code"]) for m in members]
