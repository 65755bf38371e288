"""Genealogy: the graph of lots linked by production, split and merge, traced with recursive SQL.

An edge runs from the lot material came out of (`parent_lot`) to the lot it went into
(`child_lot`). A backward trace follows edges to parents (everything that went into a lot); a
forward trace follows them to children (everywhere a lot went: the recall list). Both can be
asked as of a past time, since every edge keeps when it happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from domain.material_lot import MaterialLot
from projections.runner import ReadModelProjection, Recorded, applies, utc_text
from projections.store import ReadStore, Row, Tx

# The every-path trace lists each path, and paths multiply through merges and splits, so it stops at
# a depth (and says so). The recall list visits each lot once per distance and needs no limit.
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
    "child_material",
)


class GenealogyProjection(ReadModelProjection):
    name = "genealogy"
    tables = ("rm_genealogy_lots", "rm_genealogy_edges")

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        self.nodes: list[tuple[Any, ...]] = []
        self.edges: list[tuple[Any, ...]] = []

    def finish(self, tx: Tx) -> None:
        tx.executemany(
            f"INSERT INTO {self.t['rm_genealogy_lots']} ({', '.join(NODE_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(NODE_COLUMNS))})",
            self.nodes,
        )
        # The parent's material comes from its node, written earlier (or just above, in this page).
        tx.executemany(
            f"INSERT INTO {self.t['rm_genealogy_edges']} ({', '.join(EDGE_COLUMNS)}, parent_material) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(EDGE_COLUMNS))}, "
            f"(SELECT material_code FROM {self.t['rm_genealogy_lots']} WHERE lot_number = ?))",
            [(*edge, edge[0]) for edge in self.edges],
        )

    def _node(self, r: Recorded, origin: str) -> tuple[Any, ...]:
        """Records the lot; returns what every edge into it shares (who, when, where, its material)."""
        e = r.event
        self.nodes.append(
            (
                e.lot_number,
                str(e.originator_id),
                e.material_code,
                origin,
                getattr(e, "order_number", None),
                r.at,
                r.position,
            )
        )
        actor = e.provenance.actor
        return (actor.id, actor.name, r.at, r.position, e.material_code)

    @applies(MaterialLot.Received)
    def received(self, r: Recorded) -> None:
        self._node(r, "received")

    @applies(MaterialLot.Produced)
    def produced(self, r: Recorded) -> None:
        e, common = r.event, self._node(r, "produced")
        self.edges += [
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

    @applies(MaterialLot.CreatedBySplit)
    def split_off(self, r: Recorded) -> None:
        e, common = r.event, self._node(r, "split")
        self.edges.append(
            (e.parent_lot, e.lot_number, "split", str(e.quantity.value), e.quantity.unit, None, None, None, *common)
        )

    @applies(MaterialLot.CreatedByMerge)
    def merged(self, r: Recorded) -> None:
        e, common = r.event, self._node(r, "merged")
        self.edges += [
            (p.lot_number, e.lot_number, "merge", _value(p.quantity), _unit(p.quantity), None, None, None, *common)
            for p in e.sources
        ]


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
) -> Trace:
    """Every path from `lot_number` through the genealogy, one row per lot reached, nearest first,
    up to `max_depth` links.

    A row names the lot reached and its material, the lot it was reached from (`via_lot`), the
    link (kind, quantity, order, operation, equipment, who, when), its depth and the whole path.
    """
    with store.walker() as tx:
        return _paths(tx, store, lot_number, direction, as_of, max_depth)


class Trace(NamedTuple):
    """The rows of an every-path trace, and whether a path went on beyond the depth asked for."""

    rows: list[Row]
    truncated: bool


def _paths(
    tx: Tx,
    store: ReadStore,
    lot_number: str,
    direction: Literal["backward", "forward"],
    as_of: datetime | None,
    max_depth: int,
) -> Trace:
    # One level more than asked shows whether anything lies beyond the limit.
    rows = tx.execute(_paths_sql(store, direction, as_of), _walk_params(lot_number, as_of, max_depth + 1))
    if rows and rows[-1]["depth"] > max_depth:
        return Trace([r for r in rows if r["depth"] <= max_depth], truncated=True)
    return Trace(rows, truncated=False)


def _paths_sql(store: ReadStore, direction: Literal["backward", "forward"], as_of: datetime | None) -> str:
    near, far = _ends(direction)
    when = _when(as_of)
    fields = "e.kind, e.quantity, e.unit, e.order_number, e.operation, e.equipment_code, e.actor_name, e.occurred_at"
    return f"""
        WITH RECURSIVE walk(lot_number, material_code, via_lot, kind, quantity, unit, order_number, operation,
                            equipment_code, actor_name, occurred_at, depth, path) AS (
            SELECT e.{far}_lot, e.{far}_material, e.{near}_lot, {fields}, 1, e.{near}_lot || '>' || e.{far}_lot
            FROM rm_genealogy_edges e WHERE e.{near}_lot = ?{when}
            UNION ALL
            SELECT e.{far}_lot, e.{far}_material, e.{near}_lot, {fields}, w.depth + 1, w.path || '>' || e.{far}_lot
            FROM rm_genealogy_edges e JOIN walk w ON e.{near}_lot = w.lot_number
            WHERE w.depth < ?{when}
        )
        SELECT * FROM walk ORDER BY depth, path{store.byte_order}
    """  # noqa: S608 - the only interpolations are fixed column names


def reached_lots(
    store: ReadStore,
    lot_number: str,
    direction: Literal["backward", "forward"],
    *,
    as_of: datetime | None = None,
) -> list[Row]:
    """Each lot a trace reaches, once, at its shortest distance: forward, this is the recall list.

    No depth limit: a tank heel or yeast carried from batch to batch makes chains of any length,
    and a recall that left out the newest lots would leave out the ones most likely still in the
    field.
    """
    with store.walker() as tx:
        return _reached(tx, lot_number, direction, as_of)


def _reached(tx: Tx, lot_number: str, direction: Literal["backward", "forward"], as_of: datetime | None) -> list[Row]:
    # The recursion collects edges, and UNION keeps each edge once: a lot's onward edges are
    # followed once per edge into it, not once per path or per distance (a bulk lot in every batch
    # of a heel chain reaches batch i along i paths). Distances are then counted over those edges.
    near, far = _ends(direction)
    when = _when(as_of)
    edges = tx.execute(
        f"""
        WITH RECURSIVE walk(near, far, material) AS (
            SELECT e.{near}_lot, e.{far}_lot, e.{far}_material FROM rm_genealogy_edges e WHERE e.{near}_lot = ?{when}
            UNION
            SELECT e.{near}_lot, e.{far}_lot, e.{far}_material
            FROM rm_genealogy_edges e JOIN walk w ON e.{near}_lot = w.far{when}
        )
        SELECT near, far, material FROM walk
        """,  # noqa: S608 - the only interpolations are fixed column names
        _walk_params(lot_number, as_of),
    )
    onward: dict[str, list[Row]] = {}
    for edge in edges:
        onward.setdefault(edge["near"], []).append(edge)
    depth_of, material_of = {lot_number: 0}, {}
    frontier, depth = [lot_number], 0
    while frontier:
        depth += 1
        ahead = []
        for lot in frontier:
            for edge in onward.get(lot, ()):
                reached = edge["far"]
                if reached not in depth_of:
                    depth_of[reached], material_of[reached] = depth, edge["material"]
                    ahead.append(reached)
        frontier = ahead
    del depth_of[lot_number]
    # Text order is code point order, which is the UTF-8 byte order the traces sort by.
    return [
        {"lot_number": lot, "material_code": material_of[lot], "depth": d}
        for lot, d in sorted(depth_of.items(), key=lambda item: (item[1], item[0]))
    ]


def _ends(direction: Literal["backward", "forward"]) -> tuple[str, str]:
    """(near, far) ends of an edge: a backward trace walks from children to parents."""
    return ("child", "parent") if direction == "backward" else ("parent", "child")


def _when(as_of: datetime | None) -> str:
    return " AND e.occurred_at <= ?" if as_of else ""


def _walk_params(lot_number: str, as_of: datetime | None, max_depth: int | None = None) -> list[object]:
    """The start lot and the depth limit (if any), each followed by the `as_of` moment when there is one."""
    moment = [utc_text(as_of)] if as_of else []
    limit = [] if max_depth is None else [max_depth]
    return [lot_number, *moment, *limit, *moment]


def lot_with_trace(
    store: ReadStore,
    lot_number: str,
    direction: Literal["backward", "forward"],
    *,
    as_of: datetime | None = None,
    lots_only: bool = False,
    max_depth: int = MAX_DEPTH,
) -> tuple[Row, Trace] | None:
    """The lot's node and its `trace` (or, `lots_only`, its `reached_lots`) read in one
    transaction: None for a lot the genealogy does not know."""
    with store.walker() as tx:
        nodes = tx.execute("SELECT * FROM rm_genealogy_lots WHERE lot_number = ?", (lot_number,))
        if not nodes:
            return None
        if lots_only:
            return nodes[0], Trace(_reached(tx, lot_number, direction, as_of), truncated=False)
        return nodes[0], _paths(tx, store, lot_number, direction, as_of, max_depth)
