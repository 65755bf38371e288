"""Material definitions: codes, names, base units and the units they may be counted in."""

from __future__ import annotations

import msgspec

from domain.material_definition import MaterialDefinition
from projections.runner import Recorded, RowPerAggregateProjection, applies
from projections.store import ReadStore, Row, list_rows


class MaterialsProjection(RowPerAggregateProjection):
    name = "materials"
    tables = ("rm_materials",)
    table, key = "rm_materials", "material_id"
    columns = ("material_id", "code", "name", "base_unit", "conversions", "defined_at", "position")
    creations = (MaterialDefinition.Defined,)

    @applies(MaterialDefinition.Defined)
    def defined(self, r: Recorded) -> Row:
        e = r.event
        conversions = {c.unit: str(c.factor) for c in e.conversions}
        return {
            "code": e.code,
            "name": e.name,
            "base_unit": e.base_unit,
            "conversions": msgspec.json.encode(conversions).decode(),
            "defined_at": r.at,
        }

    @applies(MaterialDefinition.ConversionDefined)
    def conversion_defined(self, row: Row, r: Recorded) -> None:
        conversion = r.event.conversion
        conversions = msgspec.json.decode(row["conversions"]) | {conversion.unit: str(conversion.factor)}
        row["conversions"] = msgspec.json.encode(conversions).decode()


def list_materials(store: ReadStore, *, after: str | None, limit: int) -> list[Row]:
    return list_rows(store, "rm_materials", "code", {}, after, limit)


def get_material(store: ReadStore, code: str) -> Row | None:
    with store.reader() as tx:
        rows = tx.execute("SELECT * FROM rm_materials WHERE code = ?", (code,))
        return rows[0] if rows else None
