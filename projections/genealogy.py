"""Genealogy: the graph of lots linked by production, split and merge, traced with recursive SQL.

An edge runs from the lot material came out of (`parent_lot`) to the lot it went into
(`child_lot`). A backward trace follows edges to parents (everything that went into a lot); a
forward trace follows them to children (everywhere a lot went: the recall list). Both can be
asked as of a past time, since every edge keeps when it happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from projections.runner import Projection, Recorded, utc_text
from projections.store import ReadStore, Row, Tx

TOPIC = "domain.material_lot:MaterialLot"
MAX_DEPTH = 64
NODE_COLUMNS = ("lot_number", "lot_id", "material_code", "origin", "order_number", "created_at", "position")
EDGE_COLUMNS = (
    "parent_lot",
    "child_lot",
    "kind",
    "quantity",
    "unit",
    "order_number",
    "operation",
    "equipment_code",
    "actor_id",
    "actor_name",
    "occurred_at",
    "position",
)
ORIGIN = {"Received": "received", "Produced": "produced", "CreatedBySplit": "split", "CreatedByMerge": "merged"}


class GenealogyProjection(Projection):
    name = "genealogy"
    tables = ("rm_genealogy_lots", "rm_genealogy_edges")
    topics = frozenset(f"{TOPIC}.{kind}" for kind in ORIGIN)

    def apply(self, tx: Tx, page: Sequence[Recorded]) -> None:
        nodes: list[tuple[Any, ...]] = []
        edges: list[tuple[Any, ...]] = []
        for r in page:
            e, kind = r.event, r.kind.split(".")[1]
            at = utc_text(e.provenance.occurred_at)
            nodes.append(
                (
                    e.lot_number,
                    str(e.originator_id),
                    e.material_code,
                    ORIGIN[kind],
                    getattr(e, "order_number", None),
                    at,
                    r.position,
                )
            )
            actor = e.provenance.actor
            common = (actor.id, actor.name, at, r.position)
            if kind == "Produced":
                edges += [
                    (
                        p.lot_number,
                        e.lot_number,
                        "consumed-into",
                        _value(p.quantity),
                        _unit(p.quantity),
                        e.order_number,
                        e.operation,
                        e.equipment_code,
                        *common,
                    )
                    for p in e.inputs
                ]
            elif kind == "CreatedBySplit":
                edges.append(
                    (
                        e.parent_lot,
                        e.lot_number,
                        "split",
                        str(e.quantity.value),
                        e.quantity.unit,
                        None,
                        None,
                        None,
                        *common,
                    )
                )
            elif kind == "CreatedByMerge":
                edges += [
                    (
                        p.lot_number,
                        e.lot_number,
                        "merge",
                        _value(p.quantity),
                        _unit(p.quantity),
                        None,
                        None,
                        None,
                        *common,
                    )
                    for p in e.sources
                ]
        tx.executemany(
            f"INSERT INTO {self.t['rm_genealogy_lots']} ({', '.join(NODE_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(NODE_COLUMNS))})",
            nodes,
        )
        tx.executemany(
            f"INSERT INTO {self.t['rm_genealogy_edges']} ({', '.join(EDGE_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(EDGE_COLUMNS))})",
            edges,
        )


def _value(quantity: Any) -> str | None:
    return None if quantity is None else str(quantity.value)


def _unit(quantity: Any) -> str | None:
    return None if quantity is None else quantity.unit


def trace(
    store: ReadStore,
    lot_number: str,
    direction: Literal["backward", "forward"],
    *,
    as_of: datetime | None = None,
    max_depth: int = MAX_DEPTH,
) -> list[Row]:
    """Every path from `lot_number` through the genealogy, one row per lot reached, nearest first.

    A row names the lot reached, the lot it was reached from (`via_lot`), the link (kind,
    quantity, order, operation, equipment, who, when), its depth and the whole path.
    """
    near, far = ("child_lot", "parent_lot") if direction == "backward" else ("parent_lot", "child_lot")
    when = " AND e.occurred_at <= ?" if as_of else ""
    moment = [utc_text(as_of)] if as_of else []
    fields = "e.kind, e.quantity, e.unit, e.order_number, e.operation, e.equipment_code, e.actor_name, e.occurred_at"
    sql = f"""
        WITH RECURSIVE walk(lot_number, via_lot, kind, quantity, unit, order_number, operation, equipment_code,
                            actor_name, occurred_at, depth, path) AS (
            SELECT e.{far}, e.{near}, {fields}, 1, e.{near} || '>' || e.{far}
            FROM rm_genealogy_edges e WHERE e.{near} = ?{when}
            UNION ALL
            SELECT e.{far}, e.{near}, {fields}, w.depth + 1, w.path || '>' || e.{far}
            FROM rm_genealogy_edges e JOIN walk w ON e.{near} = w.lot_number
            WHERE w.depth < ?{when}
        )
        SELECT w.*, n.material_code FROM walk w LEFT JOIN rm_genealogy_lots n ON n.lot_number = w.lot_number
        ORDER BY w.depth, w.path
    """  # noqa: S608 - the only interpolations are fixed column names
    with store.reader() as tx:
        return tx.execute(sql, [lot_number, *moment, max_depth, *moment])


def lot_node(store: ReadStore, lot_number: str) -> Row | None:
    with store.reader() as tx:
        rows = tx.execute("SELECT * FROM rm_genealogy_lots WHERE lot_number = ?", (lot_number,))
        return rows[0] if rows else None
