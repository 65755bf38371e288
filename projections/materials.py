"""Material definitions: codes, names, base units and the units they may be counted in."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from projections.runner import Projection, Recorded, Rows, utc_text
from projections.store import ReadStore, Row, Tx, list_rows

TOPIC = "domain.material_definition:MaterialDefinition"
COLUMNS = ("material_id", "code", "name", "base_unit", "conversions", "defined_at", "position")


class MaterialsProjection(Projection):
    name = "materials"
    tables = ("rm_materials",)
    topics = frozenset({f"{TOPIC}.Defined", f"{TOPIC}.ConversionDefined"})

    def apply(self, tx: Tx, page: Sequence[Recorded]) -> None:
        rows = Rows(tx, self.t["rm_materials"], "material_id", COLUMNS)
        rows.load(str(r.event.originator_id) for r in page if r.kind != "MaterialDefinition.Defined")
        for r in page:
            e, key = r.event, str(r.event.originator_id)
            if r.kind == "MaterialDefinition.Defined":
                conversions = {c.unit: str(c.factor) for c in e.conversions}
                rows.put(
                    {
                        "material_id": key,
                        "code": e.code,
                        "name": e.name,
                        "base_unit": e.base_unit,
                        "conversions": msgspec.json.encode(conversions).decode(),
                        "defined_at": utc_text(e.provenance.occurred_at),
                    }
                )
            row = rows.get(key)
            if row is None:
                continue
            if r.kind == "MaterialDefinition.ConversionDefined":
                conversions = msgspec.json.decode(row["conversions"]) | {e.conversion.unit: str(e.conversion.factor)}
                row["conversions"] = msgspec.json.encode(conversions).decode()
            row["position"] = r.position
        rows.flush()


def list_materials(store: ReadStore, *, after: str | None, limit: int) -> list[Row]:
    return list_rows(store, "rm_materials", "code", {}, after, limit)


def get_material(store: ReadStore, code: str) -> Row | None:
    with store.reader() as tx:
        rows = tx.execute("SELECT * FROM rm_materials WHERE code = ?", (code,))
        return rows[0] if rows else None
