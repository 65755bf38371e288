"""Genealogy over HTTP: a lot traced backward (what went into it) or forward (where it went)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller
from litestar.params import QueryParameter

from api.query_routes import DATE_TIME, MinPosition, Views, moment_of, query
from api.schemas import QuantityView, quantity
from api.validation import KeyPath
from domain.errors import NotFoundError
from projections.traceability import genealogy as view

Direction = Annotated[Literal["backward", "forward"], QueryParameter(description="backward or forward")]
AsOf = Annotated[
    str | None,
    QueryParameter(
        max_length=40, schema_extra=DATE_TIME, description="Trace as the genealogy stood at this time (ISO 8601)"
    ),
]
MaxDepth = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=1000,
        description="Most links a path may have; the answer says `truncated` when some path goes on beyond it.",
    ),
]


class TraceStep(msgspec.Struct, frozen=True):
    """One lot reached by a trace, and the link it was reached by."""

    lot_number: str
    material_code: str | None
    via_lot: str
    kind: str
    quantity: QuantityView | None
    order_number: str | None
    operation: int | None
    equipment_code: str | None
    actor_name: str
    occurred_at: datetime
    depth: int
    path: list[str]


class TraceNode(msgspec.Struct, frozen=True):
    lot_number: str
    material_code: str | None
    kind: str | None = None
    quantity: QuantityView | None = None
    order_number: str | None = None
    children: list[TraceNode] = []


class Genealogy(msgspec.Struct, frozen=True):
    """A backward trace (what went into the lot) or a forward trace (where it went), every path.

    `truncated` says that some path goes on beyond `max_depth` links: ask again with a larger
    `max_depth`, or use `/genealogy/lots`, which has no limit."""

    lot_number: str
    direction: str
    as_of: datetime | None
    max_depth: int
    truncated: bool
    lots: list[str]
    steps: list[TraceStep]
    tree: TraceNode


class ReachedLot(msgspec.Struct, frozen=True):
    """A lot reached by a trace: its material and how many links away it is (the shortest way)."""

    lot_number: str
    material_code: str | None
    depth: int


class ReachedLots(msgspec.Struct, frozen=True):
    """The lots a trace reaches, each once, however far; forward from a raw lot, the recall list."""

    lot_number: str
    direction: str
    as_of: datetime | None
    count: int
    lots: list[ReachedLot]


class GenealogyController(Controller):
    path = "/lots/{lot_number:str}/genealogy"
    tags = ["Genealogy"]

    @query("/", summary="Trace a lot backward (what went into it) or forward (where it went), every path")
    async def lot_genealogy(
        self,
        views: Views,
        lot_number: KeyPath,
        direction: Direction,
        as_of: AsOf = None,
        max_depth: MaxDepth = view.MAX_DEPTH,
        min_position: MinPosition = None,
    ) -> Genealogy:
        at = moment_of(as_of, "as_of")
        await views.reached(min_position, view.GenealogyProjection.name)
        found = await asyncio.to_thread(
            view.lot_with_trace, views.store, lot_number, direction, as_of=at, max_depth=max_depth
        )
        if found is None:
            raise NotFoundError("lot", lot_number)
        node, (rows, truncated) = found
        for row in rows:
            row["path"] = row["path"].split(">")
            row["quantity"] = quantity(row["quantity"], row["unit"])
        steps = msgspec.convert(rows, list[TraceStep], strict=False)
        return Genealogy(
            lot_number=lot_number,
            direction=direction,
            as_of=at,
            max_depth=max_depth,
            truncated=truncated,
            lots=list(dict.fromkeys(s.lot_number for s in steps)),
            steps=steps,
            tree=_tree(lot_number, node["material_code"], steps),
        )

    @query("/lots", summary="The lots a trace reaches, each once, however far (forward: the recall list)")
    async def lot_genealogy_lots(
        self,
        views: Views,
        lot_number: KeyPath,
        direction: Direction,
        as_of: AsOf = None,
        min_position: MinPosition = None,
    ) -> ReachedLots:
        """Every lot reached, once, with its material and shortest distance, without the paths.

        Forward from a raw lot this is the recall list; it stays small and fast where material was
        split and merged so often that the paths multiply, and it has no depth limit."""
        at = moment_of(as_of, "as_of")
        await views.reached(min_position, view.GenealogyProjection.name)
        found = await asyncio.to_thread(
            view.lot_with_trace, views.store, lot_number, direction, as_of=at, lots_only=True
        )
        if found is None:
            raise NotFoundError("lot", lot_number)
        _, (rows, _) = found
        return ReachedLots(
            lot_number=lot_number,
            direction=direction,
            as_of=at,
            count=len(rows),
            lots=msgspec.convert(rows, list[ReachedLot], strict=False),
        )


def _tree(root: str, material_code: str | None, steps: list[TraceStep]) -> TraceNode:
    """The trace as a tree: each step hangs under the step it was reached from (by its path)."""
    children: dict[tuple[str, ...], list[TraceStep]] = {}
    for step in steps:
        children.setdefault(tuple(step.path[:-1]), []).append(step)

    def build(path: tuple[str, ...], step: TraceStep | None) -> TraceNode:
        kids = [build((*path, s.lot_number), s) for s in children.get(path, [])]
        if step is None:
            return TraceNode(lot_number=root, material_code=material_code, children=kids)
        return TraceNode(
            lot_number=step.lot_number,
            material_code=step.material_code,
            kind=step.kind,
            quantity=step.quantity,
            order_number=step.order_number,
            children=kids,
        )

    return build((root,), None)
