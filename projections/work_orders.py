"""Work orders: state, quantities, operations, consumption against the bill of materials, WIP per line."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from projections.runner import Projection, Recorded, Rows, utc_text
from projections.store import ReadStore, Row, Tx, list_rows

TOPIC = "domain.work_order:WorkOrder"
ORDER_COLUMNS = (
    "work_order_id",
    "order_number",
    "product_code",
    "state",
    "planned_quantity",
    "unit",
    "good_quantity",
    "scrap_quantity",
    "hold_reason",
    "cancel_reason",
    "created_at",
    "released_at",
    "started_at",
    "completed_at",
    "closed_at",
    "cancelled_at",
    "updated_at",
    "position",
)
MATERIAL_COLUMNS = (
    "material_key",
    "work_order_id",
    "material_code",
    "quantity_per_unit",
    "unit",
    "required_quantity",
    "consumed_quantity",
)
STATE_AFTER = {
    "WorkOrder.Released": ("Released", "released_at"),
    "WorkOrder.Started": ("Running", "started_at"),
    "WorkOrder.Completed": ("Completed", "completed_at"),
    "WorkOrder.Closed": ("Closed", "closed_at"),
    "WorkOrder.Cancelled": ("Cancelled", "cancelled_at"),
}
IN_PROGRESS = ("Released", "Running", "Held")


class WorkOrdersProjection(Projection):
    name = "work_orders"
    tables = ("rm_work_orders", "rm_work_order_operations", "rm_work_order_materials")
    topics = frozenset(
        f"{TOPIC}.{kind}"
        for kind in (
            "Created",
            "Released",
            "Started",
            "Held",
            "Resumed",
            "MaterialConsumed",
            "ProductionReported",
            "Completed",
            "Closed",
            "Cancelled",
        )
    )

    def apply(self, tx: Tx, page: Sequence[Recorded]) -> None:
        orders = Rows(tx, self.t["rm_work_orders"], "work_order_id", ORDER_COLUMNS)
        materials = Rows(tx, self.t["rm_work_order_materials"], "material_key", MATERIAL_COLUMNS)
        orders.load(str(r.event.originator_id) for r in page if r.kind != "WorkOrder.Created")
        materials.load(
            f"{r.event.originator_id}:{r.event.material_code}" for r in page if r.kind == "WorkOrder.MaterialConsumed"
        )
        operations: list[tuple[object, ...]] = []
        for r in page:
            e, key, at = r.event, str(r.event.originator_id), utc_text(r.event.provenance.occurred_at)
            if r.kind == "WorkOrder.Created":
                orders.put(
                    {
                        "work_order_id": key,
                        "order_number": e.order_number,
                        "product_code": e.product_code,
                        "state": "Forecast",
                        "planned_quantity": str(e.planned_quantity.value),
                        "unit": e.planned_quantity.unit,
                        "good_quantity": "0",
                        "scrap_quantity": "0",
                        "created_at": at,
                    }
                )
                for line in e.bill_of_materials:
                    required = line.quantity_per_unit * e.planned_quantity.value
                    materials.put(
                        {
                            "material_key": f"{key}:{line.material_code}",
                            "work_order_id": key,
                            "material_code": line.material_code,
                            "quantity_per_unit": str(line.quantity_per_unit),
                            "unit": line.unit,
                            "required_quantity": str(required),
                            "consumed_quantity": "0",
                        }
                    )
                operations += [
                    (key, op.sequence, op.name, op.equipment_code, str(op.ideal_cycle_time_s)) for op in e.routing
                ]
            order = orders.get(key)
            if order is None:
                continue
            if r.kind in STATE_AFTER:
                state, stamp = STATE_AFTER[r.kind]
                order["state"], order[stamp] = state, at
                if r.kind == "WorkOrder.Cancelled":
                    order["cancel_reason"] = e.reason
            elif r.kind == "WorkOrder.Held":
                order["state"], order["hold_reason"] = "Held", e.reason
            elif r.kind == "WorkOrder.Resumed":
                order["state"] = "Running" if order["started_at"] else "Released"
                order["hold_reason"] = None
            elif r.kind == "WorkOrder.MaterialConsumed":
                line = materials.get(f"{key}:{e.material_code}")
                if line is not None:
                    line["consumed_quantity"] = str(Decimal(str(line["consumed_quantity"])) + e.quantity.value)
            elif r.kind == "WorkOrder.ProductionReported":
                order["good_quantity"] = str(Decimal(str(order["good_quantity"])) + e.good.value)
                order["scrap_quantity"] = str(Decimal(str(order["scrap_quantity"])) + e.scrap.value)
            order["updated_at"], order["position"] = at, r.position
        orders.flush()
        materials.flush()
        tx.executemany(
            f"INSERT INTO {self.t['rm_work_order_operations']} "  # noqa: S608
            "(work_order_id, sequence, name, equipment_code, ideal_cycle_time_s) VALUES (?, ?, ?, ?, ?)",
            operations,
        )


def list_work_orders(
    store: ReadStore, *, state: str | None, product_code: str | None, after: str | None, limit: int
) -> list[Row]:
    return list_rows(
        store, "rm_work_orders", "order_number", {"state": state, "product_code": product_code}, after, limit
    )


def get_work_order(store: ReadStore, order_number: str) -> tuple[Row, list[Row], list[Row]] | None:
    """The order with its operations and its bill of materials against what was consumed."""
    with store.reader() as tx:
        found = tx.execute("SELECT * FROM rm_work_orders WHERE order_number = ?", (order_number,))
        if not found:
            return None
        order = found[0]
        operations = tx.execute(
            "SELECT sequence, name, equipment_code, ideal_cycle_time_s FROM rm_work_order_operations "
            "WHERE work_order_id = ? ORDER BY sequence",
            (order["work_order_id"],),
        )
        materials = tx.execute(
            "SELECT material_code, quantity_per_unit, unit, required_quantity, consumed_quantity "
            "FROM rm_work_order_materials WHERE work_order_id = ? ORDER BY material_code",
            (order["work_order_id"],),
        )
        return order, operations, materials


def wip_per_line(store: ReadStore, *, after: list[str] | None, limit: int) -> list[Row]:
    """Orders released, running or held, per production line (the line of their first operation),
    a page at a time in order of (line, state, unit): quantities in different units are not added."""
    marks = ", ".join("?" * len(IN_PROGRESS))
    page, params = "", list(IN_PROGRESS)
    if after is not None:
        page = "AND (e.parent_code, w.state, w.unit) > (?, ?, ?) "
        params += after
    with store.reader() as tx:
        return tx.execute(
            "SELECT e.parent_code AS line_code, w.state, count(*) AS orders, "  # noqa: S608
            f"{store.decimal_sum('w.planned_quantity')} AS planned_quantity, "
            f"{store.decimal_sum('w.good_quantity')} AS good_quantity, w.unit "
            "FROM rm_work_orders w "
            "JOIN rm_work_order_operations o ON o.work_order_id = w.work_order_id AND o.sequence = "
            "  (SELECT min(x.sequence) FROM rm_work_order_operations x WHERE x.work_order_id = w.work_order_id) "
            "JOIN rm_equipment e ON e.code = o.equipment_code "
            f"WHERE w.state IN ({marks}) {page}"
            f"GROUP BY e.parent_code, w.state, w.unit "
            "ORDER BY e.parent_code, w.state, w.unit LIMIT ?",
            [*params, limit],
        )
