"""Equipment view: the ISA-95 hierarchy and each unit's current status."""

from __future__ import annotations

from collections.abc import Sequence

from projections.runner import Projection, Recorded, Rows, utc_text
from projections.store import ReadStore, Row, Tx, list_rows

TOPIC = "domain.equipment:Equipment"
COLUMNS = ("equipment_id", "code", "name", "level", "parent_code", "status", "registered_at", "updated_at", "position")


class EquipmentProjection(Projection):
    name = "equipment"
    tables = ("rm_equipment",)
    topics = frozenset({f"{TOPIC}.Registered", f"{TOPIC}.Decommissioned"})

    def apply(self, tx: Tx, page: Sequence[Recorded]) -> None:
        rows = Rows(tx, self.t["rm_equipment"], "equipment_id", COLUMNS)
        rows.load(str(r.event.originator_id) for r in page if r.kind != "Equipment.Registered")
        for r in page:
            e, key, at = r.event, str(r.event.originator_id), utc_text(r.event.provenance.occurred_at)
            if r.kind == "Equipment.Registered":
                rows.put(
                    {
                        "equipment_id": key,
                        "code": e.code,
                        "name": e.name,
                        "level": str(e.level),
                        "parent_code": e.parent_code,
                        "status": "Active",
                        "registered_at": at,
                    }
                )
            row = rows.get(key)
            if row is None:
                continue
            if r.kind == "Equipment.Decommissioned":
                row["status"] = "Decommissioned"
            row["updated_at"], row["position"] = at, r.position
        rows.flush()


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
