"""Lots and inventory: each lot's status, quantity and location; stock per material and location."""

from __future__ import annotations

from decimal import Decimal

from domain.material_lot import MaterialLot, status_after_release, status_after_taking
from domain.values import LotStatus, Quantity
from projections.runner import Recorded, RowPerAggregateProjection, applies
from projections.store import ReadStore, Row, list_rows

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


class LotsProjection(RowPerAggregateProjection):
    name = "lots"
    tables = ("rm_lots",)
    table, key, columns = "rm_lots", "lot_id", COLUMNS
    creations = (MaterialLot.Received, MaterialLot.Produced, MaterialLot.CreatedBySplit, MaterialLot.CreatedByMerge)

    @applies(MaterialLot.Received)
    def received(self, r: Recorded) -> Row:
        e = r.event
        status = LotStatus.QUARANTINE if e.quarantined else LotStatus.AVAILABLE
        return _new_lot(r, "received", status, expiry=e.expiry, supplier_lot=e.supplier_lot)

    @applies(MaterialLot.Produced)
    def produced(self, r: Recorded) -> Row:
        return _new_lot(r, "produced", LotStatus.AVAILABLE, order_number=r.event.order_number)

    @applies(MaterialLot.CreatedBySplit)
    def split_off(self, r: Recorded) -> Row:
        e = r.event
        row = _new_lot(r, "split", e.parent_status, expiry=e.expiry, supplier_lot=e.supplier_lot)
        return row | {"hold_reason": e.hold_reason, "status_before_hold": _text(e.status_before_hold)}

    @applies(MaterialLot.CreatedByMerge)
    def merged(self, r: Recorded) -> Row:
        return _new_lot(r, "merged", LotStatus.AVAILABLE, expiry=r.event.expiry)

    @applies(MaterialLot.SplitOff)
    def split(self, row: Row, r: Recorded) -> None:
        row["quantity"] = str(Decimal(str(row["quantity"])) - r.event.quantity.value)

    @applies(MaterialLot.Consumed, MaterialLot.MergedInto)
    def consumed(self, row: Row, r: Recorded) -> None:
        self._take(row, r, LotStatus.CONSUMED)

    @applies(MaterialLot.Scrapped)
    def scrapped(self, row: Row, r: Recorded) -> None:
        self._take(row, r, LotStatus.SCRAPPED)

    @staticmethod
    def _take(row: Row, r: Recorded, status_when_empty: LotStatus) -> None:
        e = r.event
        left = Quantity(Decimal(str(row["quantity"])), row["unit"]) - e.quantity
        row["quantity"] = str(left.value)
        status = getattr(e, "status", None)
        if status is None:  # recorded before the event said where the lot went: the lot's own rule
            status = status_after_taking(LotStatus(row["status"]), left, status_when_empty)
        row["status"] = str(status)

    @applies(MaterialLot.Moved)
    def moved(self, row: Row, r: Recorded) -> None:
        row["location"] = r.event.to_location

    @applies(MaterialLot.Held)
    def held(self, row: Row, r: Recorded) -> None:
        row["status_before_hold"], row["status"], row["hold_reason"] = row["status"], "OnHold", r.event.reason

    @applies(MaterialLot.Released)
    def released(self, row: Row, r: Recorded) -> None:
        status = getattr(r.event, "status", None)
        if status is None:  # recorded before Released said where the lot went: the lot's own rule
            status = status_after_release(LotStatus(row["status"]), _status(row["status_before_hold"]))
        row["status"] = str(status)
        row["hold_reason"] = row["status_before_hold"] = None


def _new_lot(r: Recorded, origin: str, status: LotStatus, **extra: object) -> Row:
    e = r.event
    expiry = extra.pop("expiry", None)
    return {
        "lot_number": e.lot_number,
        "material_code": e.material_code,
        "quantity": str(e.quantity.value),
        "unit": e.quantity.unit,
        "status": str(status),
        "location": e.location,
        "expiry": expiry.isoformat() if expiry else None,  # type: ignore[attr-defined]
        "origin": origin,
        "created_at": r.at,
        **extra,
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _status(value: str | None) -> LotStatus | None:
    return None if value is None else LotStatus(value)


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
