"""Equipment view: the ISA-95 hierarchy and each unit's current status."""

from __future__ import annotations

from domain.equipment import Equipment
from projections.runner import Recorded, RowPerAggregateProjection, applies
from projections.store import ReadStore, Row, list_rows


class EquipmentProjection(RowPerAggregateProjection):
    name = "equipment"
    tables = ("rm_equipment",)
    table, key = "rm_equipment", "equipment_id"
    columns = (
        "equipment_id",
        "code",
        "name",
        "level",
        "parent_code",
        "status",
        "registered_at",
        "updated_at",
        "position",
    )
    creations = (Equipment.Registered,)

    @applies(Equipment.Registered)
    def registered(self, r: Recorded) -> Row:
        e = r.event
        return {
            "code": e.code,
            "name": e.name,
            "level": str(e.level),
            "parent_code": e.parent_code,
            "status": "Active",
            "registered_at": r.at,
        }

    @applies(Equipment.Decommissioned)
    def decommissioned(self, row: Row, r: Recorded) -> None:
        row["status"] = "Decommissioned"


def list_equipment(
    store: ReadStore, *, level: str | None, parent_code: str | None, status: str | None, after: str | None, limit: int
) -> list[Row]:
    return list_rows(
        store, "rm_equipment", "code", {"level": level, "parent_code": parent_code, "status": status}, after, limit
    )


def get_equipment(store: ReadStore, code: str) -> Row | None:
    with store.reader() as tx:
        rows = tx.execute("SELECT * FROM rm_equipment WHERE code = ?", (code,))
        return rows[0] if rows else None
