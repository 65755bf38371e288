"""Materials over HTTP: define a material with its units; list and read definitions."""

from __future__ import annotations

import asyncio
from datetime import datetime

import msgspec
from litestar import Controller

from api.command_routes import CommandRoute
from api.query_routes import Cursor, Limit, MinPosition, Views, convert, next_cursor, query
from api.schemas import Page, decimal_text, decode_cursor, first_key
from api.validation import KeyPath
from application.traceability.materials import DefineMaterial
from domain.errors import NotFoundError
from projections.store import Row
from projections.traceability import materials as view

TAG = "Materials"
ROUTES = (
    CommandRoute(
        "/materials", DefineMaterial, "Define a material with its base unit", TAG, created="/api/v1/materials/{code}"
    ),
)


class ConversionView(msgspec.Struct, frozen=True):
    """`1 unit = factor x base unit`, as it is sent when a material is defined."""

    unit: str
    factor: str


class MaterialView(msgspec.Struct, frozen=True):
    material_id: str
    code: str
    name: str
    base_unit: str
    conversions: list[ConversionView]
    defined_at: datetime | None
    position: int | None


class MaterialPage(Page, frozen=True):
    items: list[MaterialView]


class MaterialsController(Controller):
    path = "/materials"
    tags = [TAG]

    @query("/", summary="List material definitions")
    async def list_materials(
        self, views: Views, cursor: Cursor = None, limit: Limit = 100, min_position: MinPosition = None
    ) -> MaterialPage:
        await views.reached(min_position, view.MaterialsProjection.name)
        rows = await asyncio.to_thread(
            view.list_materials, views.store, after=first_key(decode_cursor(cursor)), limit=limit
        )
        return MaterialPage(next_cursor=next_cursor(rows, limit, "code"), items=[_material(r) for r in rows])

    @query("/{code:str}", summary="One material definition")
    async def get_material(self, views: Views, code: KeyPath, min_position: MinPosition = None) -> MaterialView:
        await views.reached(min_position, view.MaterialsProjection.name)
        row = await asyncio.to_thread(view.get_material, views.store, code)
        if row is None:
            raise NotFoundError("material", code)
        return _material(row)


def _material(row: Row) -> MaterialView:
    conversions = msgspec.json.decode(row["conversions"])
    listed = [ConversionView(unit, decimal_text(factor)) for unit, factor in conversions.items()]
    return convert({**row, "conversions": listed}, MaterialView)  # type: ignore[no-any-return]
