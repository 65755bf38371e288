"""WorkOrder: a production request moving through the ISA-95 RequestState lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    IllegalTransitionError,
    InvalidOrderError,
    InvalidQuantityError,
    MaterialNotInBomError,
    ReasonRequiredError,
    UnitMismatchError,
    UnknownOperationError,
)
from domain.ids import work_order_id
from domain.values import BomLine, LotPortion, Operation, Provenance, Quantity, RequestState

S = RequestState

# Which states each order command may start from.
ALLOWED_FROM: dict[str, frozenset[RequestState]] = {
    "release": frozenset({S.FORECAST}),
    "start": frozenset({S.RELEASED}),
    "hold": frozenset({S.RELEASED, S.RUNNING}),
    "resume": frozenset({S.HELD}),
    "report consumption on": frozenset({S.RUNNING}),
    "report production on": frozenset({S.RUNNING}),
    "complete": frozenset({S.RUNNING}),
    "close": frozenset({S.COMPLETED}),
    "cancel": frozenset({S.FORECAST, S.RELEASED, S.HELD}),
}


class WorkOrder(Aggregate):
    """An order to make a planned quantity of a product by a routing, from a bill of materials."""

    record_name = "work order"

    order_number: str
    product_code: str
    planned_quantity: Quantity
    bill_of_materials: tuple[BomLine, ...]
    routing: tuple[Operation, ...]
    state: RequestState
    state_before_hold: RequestState | None
    good_quantity: Quantity
    scrap_quantity: Quantity
    consumed: dict[str, Quantity]
    consumed_lots: list[str]
    produced_lots: list[str]
    inputs_since_last_report: dict[str, Quantity]
    last_report_inputs: tuple[LotPortion, ...]

    @staticmethod
    def create_id(order_number: str) -> UUID:
        return work_order_id(order_number)

    @classmethod
    def create(
        cls,
        *,
        order_number: str,
        product_code: str,
        planned_quantity: Quantity,
        bill_of_materials: Sequence[BomLine],
        routing: Sequence[Operation],
        provenance: Provenance,
    ) -> WorkOrder:
        """Creates an order in the Forecast state; nothing runs before it is released."""
        if not planned_quantity.is_positive():
            raise InvalidQuantityError(str(planned_quantity), "must be greater than zero")
        if not routing:
            msg = f"work order {order_number!r} needs at least one operation in its routing"
            raise InvalidOrderError(msg)
        sequences = [op.sequence for op in routing]
        if len(set(sequences)) != len(sequences):
            msg = f"work order {order_number!r} repeats an operation sequence number"
            raise InvalidOrderError(msg)
        for op in routing:
            if op.ideal_cycle_time_s <= 0:
                raise InvalidQuantityError(str(op.ideal_cycle_time_s), f"is no cycle time for operation {op.sequence}")
        materials = [line.material_code for line in bill_of_materials]
        if len(set(materials)) != len(materials):
            msg = f"work order {order_number!r} lists a material twice in its bill of materials"
            raise InvalidOrderError(msg)
        for line in bill_of_materials:
            if line.quantity_per_unit <= 0:
                raise InvalidQuantityError(str(line.quantity_per_unit), f"per unit of {line.material_code} must be > 0")
        return cls(
            order_number=order_number,
            product_code=product_code,
            planned_quantity=planned_quantity,
            bill_of_materials=tuple(bill_of_materials),
            routing=tuple(sorted(routing, key=lambda op: op.sequence)),
            provenance=provenance,
        )

    class Created(Aggregate.Created):
        """The order was created, in the Forecast state."""

        order_number: str
        product_code: str
        planned_quantity: Quantity
        bill_of_materials: tuple[BomLine, ...]
        routing: tuple[Operation, ...]
        provenance: Provenance

    @event(Created)
    def __init__(
        self,
        order_number: str,
        product_code: str,
        planned_quantity: Quantity,
        bill_of_materials: tuple[BomLine, ...],
        routing: tuple[Operation, ...],
        provenance: Provenance,
    ) -> None:
        self.order_number = order_number
        self.product_code = product_code
        self.planned_quantity = planned_quantity
        self.bill_of_materials = bill_of_materials
        self.routing = routing
        self.state = RequestState.FORECAST
        self.state_before_hold = None
        self.good_quantity = Quantity.zero(planned_quantity.unit)
        self.scrap_quantity = Quantity.zero(planned_quantity.unit)
        self.consumed = {}
        self.consumed_lots = []
        self.produced_lots = []
        self.inputs_since_last_report = {}
        self.last_report_inputs = ()

    def _ensure(self, action: str) -> None:
        if self.state not in ALLOWED_FROM[action]:
            raise IllegalTransitionError(self.order_number, action, self.state)

    def operation(self, sequence: int) -> Operation:
        for op in self.routing:
            if op.sequence == sequence:
                return op
        raise UnknownOperationError(self.order_number, sequence)

    def bom_line(self, material_code: str) -> BomLine:
        for line in self.bill_of_materials:
            if line.material_code == material_code:
                return line
        raise MaterialNotInBomError(self.order_number, material_code)

    def release(self, *, provenance: Provenance) -> None:
        """Releases the order to the floor."""
        self._ensure("release")
        self._released(provenance=provenance)

    class Released(Aggregate.Event):
        """The order was released to the floor."""

        provenance: Provenance

    @event(Released)
    def _released(self, provenance: Provenance) -> None:
        self.state = RequestState.RELEASED

    def start(self, *, provenance: Provenance) -> None:
        """Starts production on the order."""
        self._ensure("start")
        self._started(provenance=provenance)

    class Started(Aggregate.Event):
        """Production started on the order."""

        provenance: Provenance

    @event(Started)
    def _started(self, provenance: Provenance) -> None:
        self.state = RequestState.RUNNING

    def hold(self, *, reason: str, provenance: Provenance) -> None:
        """Stops the order until it is resumed (material shortage, quality alert)."""
        if not reason.strip():
            raise ReasonRequiredError("holding a work order")
        self._ensure("hold")
        self._held(reason=reason, provenance=provenance)

    class Held(Aggregate.Event):
        """The order was stopped until resumed."""

        reason: str
        provenance: Provenance

    @event(Held)
    def _held(self, reason: str, provenance: Provenance) -> None:
        self.state_before_hold = self.state
        self.state = RequestState.HELD

    def resume(self, *, provenance: Provenance) -> None:
        """Resumes a held order in the state it was held from."""
        self._ensure("resume")
        self._resumed(state=self.state_before_hold or RequestState.RELEASED, provenance=provenance)

    class Resumed(Aggregate.Event):
        """The order went back to work; `state` is the state it resumed (None in events recorded before it was kept)."""

        provenance: Provenance
        state: RequestState | None = None

    @event(Resumed)
    def _resumed(self, provenance: Provenance, state: RequestState | None = None) -> None:
        # The event says which state the order went back to; events recorded before it did (None)
        # are replayed by the same rule.
        self.state = state or self.state_before_hold or RequestState.RELEASED
        self.state_before_hold = None

    def report_consumption(
        self,
        *,
        lot_number: str,
        material_code: str,
        quantity: Quantity,
        operation: int,
        equipment_code: str,
        provenance: Provenance,
    ) -> None:
        """Records material taken from a lot by one operation of this order."""
        self._ensure("report consumption on")
        self.operation(operation)
        line = self.bom_line(material_code)
        if quantity.unit != line.unit:
            raise UnitMismatchError(expected=line.unit, given=quantity.unit)
        if not quantity.is_positive():
            raise InvalidQuantityError(str(quantity), "must be greater than zero")
        window = self.inputs_since_last_report.get(lot_number)
        if window is not None and window.unit != quantity.unit:
            raise UnitMismatchError(expected=window.unit, given=quantity.unit)
        self._material_consumed(
            lot_number=lot_number,
            material_code=material_code,
            quantity=quantity,
            operation=operation,
            equipment_code=equipment_code,
            provenance=provenance,
        )

    class MaterialConsumed(Aggregate.Event):
        """An operation of the order took material from a lot."""

        lot_number: str
        material_code: str
        quantity: Quantity
        operation: int
        equipment_code: str
        provenance: Provenance

    @event(MaterialConsumed)
    def _material_consumed(
        self,
        lot_number: str,
        material_code: str,
        quantity: Quantity,
        operation: int,
        equipment_code: str,
        provenance: Provenance,
    ) -> None:
        before = self.consumed.get(material_code, Quantity.zero(quantity.unit))
        self.consumed = {**self.consumed, material_code: before + quantity}
        if lot_number not in self.consumed_lots:
            self.consumed_lots = [*self.consumed_lots, lot_number]
        window = self.inputs_since_last_report.get(lot_number, Quantity.zero(quantity.unit))
        self.inputs_since_last_report = {**self.inputs_since_last_report, lot_number: window + quantity}

    def report_production(
        self,
        *,
        lot_number: str | None,
        good: Quantity,
        scrap: Quantity,
        operation: int,
        equipment_code: str,
        provenance: Provenance,
    ) -> None:
        """Records good and scrap output of one operation; good output becomes `lot_number`."""
        self._ensure("report production on")
        self.operation(operation)
        for amount in (good, scrap):
            if amount.unit != self.planned_quantity.unit:
                raise UnitMismatchError(expected=self.planned_quantity.unit, given=amount.unit)
            if amount.value < 0:
                raise InvalidQuantityError(str(amount), "cannot be negative")
        if not good and not scrap:
            raise InvalidQuantityError(str(good), "and no scrap: a production report needs some output")
        if good and not lot_number:
            msg = "good output needs the number of the lot it becomes"
            raise InvalidOrderError(msg)
        self._production_reported(
            lot_number=lot_number if good else None,
            good=good,
            scrap=scrap,
            operation=operation,
            equipment_code=equipment_code,
            inputs=self.current_inputs(),
            provenance=provenance,
        )

    class ProductionReported(Aggregate.Event):
        """An operation reported good and scrap output; good output became `lot_number`."""

        lot_number: str | None
        good: Quantity
        scrap: Quantity
        operation: int
        equipment_code: str
        inputs: tuple[LotPortion, ...]
        provenance: Provenance

    @event(ProductionReported)
    def _production_reported(
        self,
        lot_number: str | None,
        good: Quantity,
        scrap: Quantity,
        operation: int,
        equipment_code: str,
        inputs: tuple[LotPortion, ...],
        provenance: Provenance,
    ) -> None:
        self.good_quantity = self.good_quantity + good
        self.scrap_quantity = self.scrap_quantity + scrap
        if lot_number is not None:
            self.produced_lots = [*self.produced_lots, lot_number]
        self.last_report_inputs = inputs
        self.inputs_since_last_report = {}

    def current_inputs(self) -> tuple[LotPortion, ...]:
        """What the next production report is made from: the lots consumed since the last report
        with their quantities, or, when nothing was consumed in between, the last report's lots
        (shared, so without a quantity of their own)."""
        if self.inputs_since_last_report:
            return tuple(LotPortion(lot, qty) for lot, qty in self.inputs_since_last_report.items())
        return tuple(LotPortion(p.lot_number, None) for p in self.last_report_inputs)

    def complete(self, *, provenance: Provenance) -> None:
        """Ends production on the order; actuals may still be reviewed before closing."""
        self._ensure("complete")
        self._completed(provenance=provenance)

    class Completed(Aggregate.Event):
        """Production on the order ended."""

        provenance: Provenance

    @event(Completed)
    def _completed(self, provenance: Provenance) -> None:
        self.state = RequestState.COMPLETED

    def close(self, *, provenance: Provenance) -> None:
        """Closes a completed order for good (costed, reported to ERP)."""
        self._ensure("close")
        self._closed(provenance=provenance)

    class Closed(Aggregate.Event):
        """The completed order was closed for good."""

        provenance: Provenance

    @event(Closed)
    def _closed(self, provenance: Provenance) -> None:
        self.state = RequestState.CLOSED

    def cancel(self, *, reason: str, provenance: Provenance) -> None:
        """Cancels an order that has not finished."""
        if not reason.strip():
            raise ReasonRequiredError("cancelling a work order")
        self._ensure("cancel")
        self._cancelled(reason=reason, provenance=provenance)

    class Cancelled(Aggregate.Event):
        """The order was cancelled before it finished."""

        reason: str
        provenance: Provenance

    @event(Cancelled)
    def _cancelled(self, reason: str, provenance: Provenance) -> None:
        self.state = RequestState.CANCELLED
