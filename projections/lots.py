"""Lots and inventory: each lot's status, quantity and location; stock per material and location."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from projections.runner import Projection, Recorded, Rows, utc_text
from projections.store import ReadStore, Row, Tx, list_rows

TOPIC = "domain.material_lot:MaterialLot"
CREATED = {
    "MaterialLot.Received": "received",
    "MaterialLot.Produced": "produced",
    "MaterialLot.CreatedBySplit": "split",
    "MaterialLot.CreatedByMerge": "merged",
}
TAKEN = {"MaterialLot.Consumed", "MaterialLot.SplitOff", "MaterialLot.MergedInto", "MaterialLot.Scrapped"}
COLUMNS = (
    "lot_id",
    "lot_number",
    "material_code",
    "quantity",
    "unit",
    "status",
    "location",
    "expiry",
    "supplier_lot",
    "origin",
    "order_number",
    "hold_reason",
    "status_before_hold",
    "created_at",
    "updated_at",
    "position",
)
OUT_OF_STOCK = ("Consumed", "Scrapped")


class LotsProjection(Projection):
    name = "lots"
    tables = ("rm_lots",)
    topics = frozenset(
        f"{TOPIC}.{kind.split('.')[1]}"
        for kind in (*CREATED, *TAKEN, "MaterialLot.Moved", "MaterialLot.Held", "MaterialLot.Released")
    )

    def apply(self, tx: Tx, page: Sequence[Recorded]) -> None:
        rows = Rows(tx, self.t["rm_lots"], "lot_id", COLUMNS)
        rows.load(str(r.event.originator_id) for r in page if r.kind not in CREATED)
        for r in page:
            e, key, at = r.event, str(r.event.originator_id), utc_text(r.event.provenance.occurred_at)
            if r.kind in CREATED:
                rows.put(_created(key, r.kind, e, at))
            row = rows.get(key)
            if row is None:
                continue
            if r.kind in TAKEN:
                left = Decimal(str(row["quantity"])) - e.quantity.value
                row["quantity"] = str(left)
                if left == 0:
                    row["status"] = "Scrapped" if r.kind == "MaterialLot.Scrapped" else "Consumed"
            elif r.kind == "MaterialLot.Moved":
                row["location"] = e.to_location
            elif r.kind == "MaterialLot.Held":
                row["status_before_hold"], row["status"], row["hold_reason"] = row["status"], "OnHold", e.reason
            elif r.kind == "MaterialLot.Released":
                back_to_quarantine = row["status"] == "OnHold" and row["status_before_hold"] == "Quarantine"
                row["status"] = "Quarantine" if back_to_quarantine else "Available"
                row["hold_reason"] = row["status_before_hold"] = None
            row["updated_at"], row["position"] = at, r.position
        rows.flush()


def _created(key: str, kind: str, e: Any, at: str) -> Row:
    status = str(getattr(e, "parent_status", "Available"))
    if getattr(e, "quarantined", False):
        status = "Quarantine"
    expiry = getattr(e, "expiry", None)
    return {
        "lot_id": key,
        "lot_number": e.lot_number,
        "material_code": e.material_code,
        "quantity": str(e.quantity.value),
        "unit": e.quantity.unit,
        "status": status,
        "location": e.location,
        "expiry": expiry.isoformat() if expiry else None,
        "supplier_lot": getattr(e, "supplier_lot", None),
        "origin": CREATED[kind],
        "order_number": getattr(e, "order_number", None),
        "hold_reason": getattr(e, "hold_reason", None),
        "status_before_hold": _text(getattr(e, "status_before_hold", None)),
        "created_at": at,
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def list_lots(
    store: ReadStore,
    *,
    material_code: str | None,
    status: str | None,
    location: str | None,
    after: str | None,
    limit: int,
) -> list[Row]:
    return list_rows(
        store,
        "rm_lots",
        "lot_number",
        {"material_code": material_code, "status": status, "location": location},
        after,
        limit,
    )


def get_lot(store: ReadStore, lot_number: str) -> Row | None:
    with store.reader() as tx:
        rows = tx.execute("SELECT * FROM rm_lots WHERE lot_number = ?", (lot_number,))
        return rows[0] if rows else None


def inventory(
    store: ReadStore, *, material_code: str | None, location: str | None, after: list[str] | None, limit: int
) -> list[Row]:
    """Stock on hand per material and location, split by status (Available, OnHold, Quarantine),
    a page at a time in order of (material, location, status)."""
    where, params = ["status NOT IN (?, ?)"], list(OUT_OF_STOCK)
    for column, value in (("material_code", material_code), ("location", location)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if after is not None:
        where.append("(material_code, location, status) > (?, ?, ?)")
        params += after
    with store.reader() as tx:
        return tx.execute(
            f"SELECT material_code, location, status, unit, {store.decimal_sum('quantity')} AS quantity, "  # noqa: S608
            f"count(*) AS lots FROM rm_lots WHERE {' AND '.join(where)} "
            "GROUP BY material_code, location, status, unit "
            "ORDER BY material_code, location, status LIMIT ?",
            [*params, limit],
        )
