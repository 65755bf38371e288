"""WorkOrder: the ISA-95 RequestState lifecycle, and consumption and production reported on an order."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from api.runtime import Runtime
from application.traceability.work_orders import (
    BomLineIn,
    CreateWorkOrder,
    OperationIn,
    ReleaseWorkOrder,
    StartWorkOrder,
)
from domain.errors import (
    IllegalTransitionError,
    InvalidOrderError,
    InvalidQuantityError,
    MaterialNotInBomError,
    ReasonRequiredError,
    UnitMismatchError,
    UnknownOperationError,
)
from domain.ids import lot_id, work_order_id
from domain.material_lot import MaterialLot
from domain.values import BomLine, LotPortion, Operation, Quantity, RequestState
from domain.work_order import ALLOWED_FROM, WorkOrder
from tests.builders import (
    consume,
    context,
    next_id,
    plant_commands,
    produce,
    provenance,
    q_in,
    qty,
    receive,
    running_order,
)

S = RequestState


def order(planned: int = 100) -> WorkOrder:
    """A Forecast order for syrup from sugar and water, mixed in one operation."""
    created = WorkOrder.create(
        order_number="WO-1",
        product_code="SYRUP",
        planned_quantity=qty(planned, "L"),
        bill_of_materials=[BomLine("SUGAR", Decimal("0.2"), "kg"), BomLine("WATER", Decimal("0.8"), "L")],
        routing=[Operation(10, "Mix", "MIX", Decimal("0.5"))],
        provenance=provenance(),
    )
    created.collect_events()
    return created


def report_consumption(
    target: WorkOrder,
    lot_number: str = "LOT-S1",
    material: str = "SUGAR",
    quantity: Quantity | None = None,
    operation: int = 10,
) -> None:
    target.report_consumption(
        lot_number=lot_number,
        material_code=material,
        quantity=quantity or qty(5, "kg"),
        operation=operation,
        equipment_code="MIX",
        provenance=provenance(),
    )


def report_production(
    target: WorkOrder,
    lot_number: str | None = "OUT-1",
    good: Quantity | None = None,
    scrap: Quantity | None = None,
    operation: int = 10,
) -> None:
    target.report_production(
        lot_number=lot_number,
        good=qty(10, "L") if good is None else good,
        scrap=qty(0, "L") if scrap is None else scrap,
        operation=operation,
        equipment_code="MIX",
        provenance=provenance(),
    )


ACTIONS: dict[str, Callable[[WorkOrder], None]] = {
    "release": lambda o: o.release(provenance=provenance()),
    "start": lambda o: o.start(provenance=provenance()),
    "hold": lambda o: o.hold(reason="quality alert", provenance=provenance()),
    "resume": lambda o: o.resume(provenance=provenance()),
    "report consumption on": report_consumption,
    "report production on": report_production,
    "complete": lambda o: o.complete(provenance=provenance()),
    "close": lambda o: o.close(provenance=provenance()),
    "cancel": lambda o: o.cancel(reason="customer withdrew", provenance=provenance()),
}

# The commands that lead from Forecast to each state.
PATH_TO: dict[RequestState, list[str]] = {
    S.FORECAST: [],
    S.RELEASED: ["release"],
    S.RUNNING: ["release", "start"],
    S.HELD: ["release", "start", "hold"],
    S.COMPLETED: ["release", "start", "complete"],
    S.CLOSED: ["release", "start", "complete", "close"],
    S.CANCELLED: ["cancel"],
}

TARGET: dict[str, RequestState | None] = {
    "release": S.RELEASED,
    "start": S.RUNNING,
    "hold": S.HELD,
    "resume": S.RUNNING,  # the state PATH_TO[HELD] was held from
    "report consumption on": None,  # stays where it is
    "report production on": None,
    "complete": S.COMPLETED,
    "close": S.CLOSED,
    "cancel": S.CANCELLED,
}


def order_in(state: RequestState) -> WorkOrder:
    target = order()
    for action in PATH_TO[state]:
        ACTIONS[action](target)
    target.collect_events()
    assert target.state is state
    return target


def test_every_state_is_reachable_and_every_command_has_an_action() -> None:
    assert set(PATH_TO) == set(RequestState)
    assert set(ACTIONS) == set(ALLOWED_FROM) == set(TARGET)


@pytest.mark.parametrize(
    ("action", "state"),
    [(action, state) for action, allowed in ALLOWED_FROM.items() for state in RequestState if state in allowed],
)
def test_an_allowed_command_is_accepted(action: str, state: RequestState) -> None:
    target = order_in(state)

    ACTIONS[action](target)

    assert target.state is (TARGET[action] or state)
    assert len(target.collect_events()) == 1


@pytest.mark.parametrize(
    ("action", "state"),
    [(action, state) for action, allowed in ALLOWED_FROM.items() for state in RequestState if state not in allowed],
)
def test_a_command_not_allowed_from_the_current_state_is_refused(action: str, state: RequestState) -> None:
    target = order_in(state)

    with pytest.raises(IllegalTransitionError) as refused:
        ACTIONS[action](target)

    assert refused.value.state == state
    assert f"it is {state}" in str(refused.value)
    assert action in str(refused.value)
    assert target.state is state
    assert target.collect_events() == []


@pytest.mark.parametrize("held_from", [S.RELEASED, S.RUNNING])
def test_resuming_a_held_order_restores_the_state_it_was_held_from(held_from: RequestState) -> None:
    target = order_in(held_from)

    target.hold(reason="material shortage", provenance=provenance())
    assert target.state is S.HELD
    assert target.state_before_hold is held_from
    target.resume(provenance=provenance())

    assert target.state is held_from
    assert target.state_before_hold is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_holding_an_order_without_a_reason_is_refused(reason: str) -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(ReasonRequiredError):
        target.hold(reason=reason, provenance=provenance())

    assert target.state is S.RUNNING


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_an_order_without_a_reason_is_refused(reason: str) -> None:
    target = order_in(S.RELEASED)

    with pytest.raises(ReasonRequiredError):
        target.cancel(reason=reason, provenance=provenance())

    assert target.state is S.RELEASED
    assert target.collect_events() == []


def test_a_cancelled_order_remembers_why() -> None:
    target = order_in(S.HELD)

    target.cancel(reason="customer withdrew", provenance=provenance())

    (cancelled,) = target.collect_events()
    assert cancelled.reason == "customer withdrew"  # type: ignore[attr-defined]
    assert target.state is S.CANCELLED


# Consumption


def test_consumption_adds_up_per_material_and_remembers_the_lots() -> None:
    target = order_in(S.RUNNING)

    report_consumption(target, "LOT-S1", "SUGAR", qty(5, "kg"))
    report_consumption(target, "LOT-S1", "SUGAR", qty("2.5", "kg"))
    report_consumption(target, "LOT-W1", "WATER", qty(40, "L"))

    assert target.consumed == {"SUGAR": qty("7.5", "kg"), "WATER": qty(40, "L")}
    assert target.consumed_lots == ["LOT-S1", "LOT-W1"]


def test_consuming_a_material_not_in_the_bill_of_materials_is_refused() -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(MaterialNotInBomError, match="SALT"):
        report_consumption(target, "LOT-X", "SALT", qty(1, "kg"))

    assert target.consumed == {}
    assert target.collect_events() == []


def test_consuming_in_another_unit_than_the_bill_of_materials_is_refused() -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(UnitMismatchError):
        report_consumption(target, "LOT-S1", "SUGAR", qty(5000, "g"))

    assert target.consumed == {}


@pytest.mark.parametrize("report", [report_consumption, report_production])
def test_reporting_on_an_unknown_operation_is_refused(report: Callable[..., Any]) -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(UnknownOperationError, match="no operation 20"):
        report(target, operation=20)

    assert target.collect_events() == []


# Production


def test_production_adds_good_and_scrap_output_and_remembers_the_good_lot() -> None:
    target = order_in(S.RUNNING)

    report_production(target, "OUT-1", good=qty(40, "L"), scrap=qty(2, "L"))
    report_production(target, "OUT-2", good=qty(10, "L"))

    assert target.good_quantity == qty(50, "L")
    assert target.scrap_quantity == qty(2, "L")
    assert target.produced_lots == ["OUT-1", "OUT-2"]


def test_scrap_only_production_makes_no_lot() -> None:
    target = order_in(S.RUNNING)

    report_production(target, "OUT-1", good=qty(0, "L"), scrap=qty(3, "L"))

    (reported,) = target.collect_events()
    assert reported.lot_number is None  # type: ignore[attr-defined]
    assert target.produced_lots == []
    assert target.scrap_quantity == qty(3, "L")


def test_production_without_any_output_is_refused() -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(InvalidQuantityError, match="needs some output"):
        report_production(target, good=qty(0, "L"), scrap=qty(0, "L"))

    assert target.collect_events() == []


@pytest.mark.parametrize(("good", "scrap"), [(qty(-1, "L"), qty(0, "L")), (qty(5, "L"), qty(-1, "L"))])
def test_negative_production_is_refused(good: Quantity, scrap: Quantity) -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(InvalidQuantityError):
        report_production(target, good=good, scrap=scrap)

    assert target.good_quantity == qty(0, "L")


@pytest.mark.parametrize(("good", "scrap"), [(qty(10, "kg"), qty(0, "L")), (qty(10, "L"), qty(1, "kg"))])
def test_production_in_another_unit_than_the_order_is_refused(good: Quantity, scrap: Quantity) -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(UnitMismatchError):
        report_production(target, good=good, scrap=scrap)

    assert target.good_quantity == qty(0, "L")
    assert target.collect_events() == []


def test_good_output_without_a_lot_number_is_refused() -> None:
    target = order_in(S.RUNNING)

    with pytest.raises(InvalidOrderError):
        report_production(target, lot_number=None, good=qty(10, "L"))


def _reported_inputs(target: WorkOrder) -> tuple[str, ...]:
    (reported,) = target.collect_events()
    assert type(reported).__name__ == "ProductionReported"
    return tuple(portion.lot_number for portion in reported.inputs)  # type: ignore[attr-defined]


def test_production_is_made_from_the_lots_consumed_since_the_last_report() -> None:
    target = order_in(S.RUNNING)
    report_consumption(target, "LOT-S1", "SUGAR")
    report_consumption(target, "LOT-W1", "WATER", qty(20, "L"))
    report_consumption(target, "LOT-S1", "SUGAR")
    target.collect_events()

    report_production(target, "OUT-1")
    (reported,) = target.collect_events()
    assert reported.inputs == (  # type: ignore[attr-defined]
        LotPortion("LOT-S1", qty(10, "kg")),
        LotPortion("LOT-W1", qty(20, "L")),
    )

    report_consumption(target, "LOT-S2", "SUGAR")
    target.collect_events()
    report_production(target, "OUT-2")

    assert _reported_inputs(target) == ("LOT-S2",)


def test_production_with_nothing_consumed_since_the_last_report_has_the_same_inputs() -> None:
    target = order_in(S.RUNNING)
    report_consumption(target, "LOT-S1", "SUGAR")
    report_consumption(target, "LOT-W1", "WATER", qty(20, "L"))
    report_production(target, "OUT-1")
    target.collect_events()

    report_production(target, "OUT-2")

    assert _reported_inputs(target) == ("LOT-S1", "LOT-W1")
    assert target.current_inputs() == (LotPortion("LOT-S1", None), LotPortion("LOT-W1", None))


def test_production_before_any_consumption_has_no_inputs() -> None:
    target = order_in(S.RUNNING)

    report_production(target, "OUT-1")

    assert _reported_inputs(target) == ()


def test_a_produced_lot_records_the_lots_it_was_made_from(memory_runtime: Runtime) -> None:
    for command in [
        *plant_commands(),
        receive("LOT-S1", 100, "kg"),
        receive("LOT-W1", 500, "L", material="WATER"),
        *running_order("WO-1"),
        consume("WO-1", "LOT-S1", 20),
        consume("WO-1", "LOT-W1", 80, "L"),
        produce("WO-1", "OUT-1", 100),
    ]:
        memory_runtime.bus.execute(command, context())
    memory_runtime.bus.execute(produce("WO-1", "OUT-2", 5), context())

    first, second = (memory_runtime.app.history(lot_id(output))[0] for output in ("OUT-1", "OUT-2"))
    assert isinstance(first, MaterialLot.Produced)
    assert first.inputs == (LotPortion("LOT-S1", qty(20, "kg")), LotPortion("LOT-W1", qty(80, "L")))
    assert second.inputs == (LotPortion("LOT-S1", None), LotPortion("LOT-W1", None))
    stored: WorkOrder = memory_runtime.app.repository.get(work_order_id("WO-1"))
    assert stored.produced_lots == ["OUT-1", "OUT-2"]
    assert stored.good_quantity == qty(105, "L")


def test_an_order_accepted_with_a_bom_line_in_grams_can_record_consumption_of_it(memory_runtime: Runtime) -> None:
    for command in [*plant_commands(), receive("LOT-S1", 100, "kg")]:
        memory_runtime.bus.execute(command, context())
    create = CreateWorkOrder(
        command_id=next_id(),
        order_number="WO-G",
        product_code="SYRUP",
        planned_quantity=q_in(10, "L"),
        bill_of_materials=[BomLineIn("SUGAR", Decimal(200), "g")],
        routing=[OperationIn(10, "Mix", "MIX", Decimal("0.5"))],
    )
    try:
        memory_runtime.bus.execute(create, context())
    except UnitMismatchError:
        return  # refusing a BOM line that is not in the material's base unit up front would be as good
    for command in [
        ReleaseWorkOrder(command_id=next_id(), order_number="WO-G"),
        StartWorkOrder(command_id=next_id(), order_number="WO-G"),
    ]:
        memory_runtime.bus.execute(command, context())

    memory_runtime.bus.execute(consume("WO-G", "LOT-S1", 5000, "g"), context())

    stored: WorkOrder = memory_runtime.app.repository.get(work_order_id("WO-G"))
    assert stored.consumed["SUGAR"] in (qty(5, "kg"), qty(5000, "g"))
    assert memory_runtime.app.repository.get(lot_id("LOT-S1")).quantity == qty(95, "kg")
