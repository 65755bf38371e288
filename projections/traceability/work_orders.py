"""Work orders: state, quantities, operations, consumption against the bill of materials, WIP per line."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.work_order import WorkOrder
from projections.runner import Recorded, RowPerAggregateProjection, Rows, applies
from projections.store import ReadStore, Row, Tx, list_rows

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
IN_PROGRESS = ("Released", "Running", "Held")


class WorkOrdersProjection(RowPerAggregateProjection):
    name = "work_orders"
    tables = ("rm_work_orders", "rm_work_order_operations", "rm_work_order_materials")
    table, key, columns = "rm_work_orders", "work_order_id", ORDER_COLUMNS
    creations = (WorkOrder.Created,)

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        super().begin(tx, page)
        self.materials = Rows(tx, self.t["rm_work_order_materials"], "material_key", MATERIAL_COLUMNS)
        self.materials.load(
            f"{r.event.originator_id}:{r.event.material_code}"
            for r in page
            if type(r.event) is WorkOrder.MaterialConsumed
        )
        self.operations: list[tuple[object, ...]] = []

    def finish(self, tx: Tx) -> None:
        super().finish(tx)
        self.materials.flush()
        tx.executemany(
            f"INSERT INTO {self.t['rm_work_order_operations']} "  # noqa: S608
            "(work_order_id, sequence, name, equipment_code, ideal_cycle_time_s) VALUES (?, ?, ?, ?, ?)",
            self.operations,
        )

    @applies(WorkOrder.Created)
    def created(self, r: Recorded) -> Row:
        e, key = r.event, str(r.event.originator_id)
        for line in e.bill_of_materials:
            self.materials.put(
                {
                    "material_key": f"{key}:{line.material_code}",
                    "work_order_id": key,
                    "material_code": line.material_code,
                    "quantity_per_unit": str(line.quantity_per_unit),
                    "unit": line.unit,
                    "required_quantity": str(line.quantity_per_unit * e.planned_quantity.value),
                    "consumed_quantity": "0",
                }
            )
        self.operations += [
            (key, op.sequence, op.name, op.equipment_code, str(op.ideal_cycle_time_s)) for op in e.routing
        ]
        return {
            "order_number": e.order_number,
            "product_code": e.product_code,
            "state": "Forecast",
            "planned_quantity": str(e.planned_quantity.value),
            "unit": e.planned_quantity.unit,
            "good_quantity": "0",
            "scrap_quantity": "0",
            "created_at": r.at,
        }

    @applies(WorkOrder.Released)
    def released(self, row: Row, r: Recorded) -> None:
        row["state"], row["released_at"] = "Released", r.at

    @applies(WorkOrder.Started)
    def started(self, row: Row, r: Recorded) -> None:
        row["state"], row["started_at"] = "Running", r.at

    @applies(WorkOrder.Held)
    def held(self, row: Row, r: Recorded) -> None:
        row["state"], row["hold_reason"] = "Held", r.event.reason

    @applies(WorkOrder.Resumed)
    def resumed(self, row: Row, r: Recorded) -> None:
        row["state"] = str(r.event.state) if getattr(r.event, "state", None) else _state_before_hold(row)
        row["hold_reason"] = None

    @applies(WorkOrder.Completed)
    def completed(self, row: Row, r: Recorded) -> None:
        row["state"], row["completed_at"] = "Completed", r.at

    @applies(WorkOrder.Closed)
    def closed(self, row: Row, r: Recorded) -> None:
        row["state"], row["closed_at"] = "Closed", r.at

    @applies(WorkOrder.Cancelled)
    def cancelled(self, row: Row, r: Recorded) -> None:
        row["state"], row["cancelled_at"], row["cancel_reason"] = "Cancelled", r.at, r.event.reason

    @applies(WorkOrder.MaterialConsumed)
    def material_consumed(self, row: Row, r: Recorded) -> None:
        line = self.materials.get(f"{r.event.originator_id}:{r.event.material_code}")
        if line is not None:
            line["consumed_quantity"] = str(Decimal(str(line["consumed_quantity"])) + r.event.quantity.value)

    @applies(WorkOrder.ProductionReported)
    def production_reported(self, row: Row, r: Recorded) -> None:
        row["good_quantity"] = str(Decimal(str(row["good_quantity"])) + r.event.good.value)
        row["scrap_quantity"] = str(Decimal(str(row["scrap_quantity"])) + r.event.scrap.value)


def _state_before_hold(row: Row) -> str:
    """Events recorded before Resumed said which state it resumed to: the order's started stamp tells."""
    return "Running" if row["started_at"] else "Released"


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
    """Orders released, running or held, per production line (the parent of their first operation's
    equipment; '' where it has none, a routing on a site), a page at a time in order of (line,
    state, unit): quantities in different units are not added."""
    marks = ", ".join("?" * len(IN_PROGRESS))
    page, params = "", list(IN_PROGRESS)
    if after is not None:
        page = "AND (COALESCE(e.parent_code, ''), w.state, w.unit) > (?, ?, ?) "
        params += after
    with store.reader() as tx:
        return tx.execute(
            "SELECT COALESCE(e.parent_code, '') AS line_code, w.state, count(*) AS orders, "  # noqa: S608
            f"{store.decimal_sum('w.planned_quantity')} AS planned_quantity, "
            f"{store.decimal_sum('w.good_quantity')} AS good_quantity, w.unit "
            "FROM rm_work_orders w "
            "JOIN rm_work_order_operations o ON o.work_order_id = w.work_order_id AND o.sequence = "
            "  (SELECT min(x.sequence) FROM rm_work_order_operations x WHERE x.work_order_id = w.work_order_id) "
            "JOIN rm_equipment e ON e.code = o.equipment_code "
            f"WHERE w.state IN ({marks}) {page}"
            "GROUP BY COALESCE(e.parent_code, ''), w.state, w.unit "
            "ORDER BY COALESCE(e.parent_code, ''), w.state, w.unit LIMIT ?",
            [*params, limit],
        )
