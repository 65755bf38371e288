"""Refusals through a real server: each error class as problem+json, and a refused request records nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from application.commands import Command
from application.traceability.equipment import DecommissionEquipment, RegisterEquipment
from application.traceability.lots import HoldLot, MoveLot, ScrapLot, SplitLot
from application.traceability.work_orders import (
    CancelWorkOrder,
    CloseWorkOrder,
    CompleteWorkOrder,
    HoldWorkOrder,
    ReleaseWorkOrder,
    ResumeWorkOrder,
)
from domain.values import EquipmentLevel
from tests.builders import Plant, new_id, unique
from tests.builders import q_in as q
from tests.e2e.conftest import POLL_S, Api, assert_problem, receipt_body

MAX_BODY_BYTES = 256 * 1024
READ_MODEL_TIMEOUT_S = 10.0


def field_names(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


# 404: unknown resources


@pytest.mark.parametrize(
    ("path", "params", "kind"),
    [
        ("/api/v1/lots/{code}", {}, "lot"),
        ("/api/v1/lots/{code}/history", {}, "lot"),
        ("/api/v1/lots/{code}/genealogy", {"direction": "backward"}, "lot"),
        ("/api/v1/lots/{code}/genealogy/lots", {"direction": "forward"}, "lot"),
        ("/api/v1/work-orders/{code}", {}, "work order"),
        ("/api/v1/equipment/{code}", {}, "equipment"),
        ("/api/v1/materials/{code}", {}, "material"),
    ],
)
def test_reading_an_unknown_resource_answers_404_naming_it(
    api: Api, path: str, params: dict[str, str], kind: str
) -> None:
    code = unique("GHOST")

    problem = assert_problem(api.get(path.format(code=code), **params), 404)

    assert problem["title"] == f"Unknown {kind}"
    assert code in problem["detail"]
    assert problem["instance"] == path.format(code=code)


def test_an_unknown_route_answers_404_as_a_problem(api: Api) -> None:
    assert_problem(api.get("/api/v1/silos"), 404)


UNKNOWN_TARGETS: dict[str, Callable[[Plant, str], Command]] = {
    "hold an unknown lot": lambda p, ghost: HoldLot(command_id=new_id(), lot_number=ghost, reason="check"),
    "split an unknown lot": lambda p, ghost: SplitLot(
        command_id=new_id(), lot_number=ghost, quantity=q(1, "kg"), new_lot_number=unique("LOT")
    ),
    "release an unknown order": lambda p, ghost: ReleaseWorkOrder(command_id=new_id(), order_number=ghost),
    "consume into an unknown order": lambda p, ghost: p.consume(ghost, unique("LOT"), 1),
    "decommission unknown equipment": lambda p, ghost: DecommissionEquipment(
        command_id=new_id(), code=ghost, reason="scrapped"
    ),
    "receive a lot of an unknown material": lambda p, ghost: p.receive(unique("LOT"), material=ghost),
}


@pytest.mark.parametrize("action", list(UNKNOWN_TARGETS))
def test_a_command_on_an_unknown_resource_answers_404_and_records_nothing(api: Api, plant: Plant, action: str) -> None:
    ghost = unique("GHOST")
    before = api.position()

    problem = assert_problem(api.send(UNKNOWN_TARGETS[action](plant, ghost)), 404)

    assert ghost in problem["detail"]
    assert api.position() == before


# 409: business rules


def test_consuming_more_than_the_lot_holds_is_refused_and_changes_nothing(api: Api, plant: Plant) -> None:
    order, lot = unique("WO"), unique("LOT")
    api.run(plant.receive(lot, 100), *plant.running_order(order))
    before = api.position()

    problem = assert_problem(api.send(plant.consume(order, lot, 150)), 409)

    assert problem["rule"] == "insufficient-quantity"
    assert problem["type"].endswith("/insufficient-quantity")
    assert lot in problem["detail"]
    assert api.position() == before
    assert api.read(f"/api/v1/lots/{lot}", min_position=before)["quantity"] == {"value": "100", "unit": "kg"}
    materials = api.read(f"/api/v1/work-orders/{order}", min_position=before)["materials"]
    assert {m["consumed"]["value"] for m in materials} == {"0"}


@pytest.mark.parametrize(
    ("steps_before", "command_type", "state"),
    [
        (1, CompleteWorkOrder, "Forecast"),
        (3, ReleaseWorkOrder, "Running"),
        (2, CloseWorkOrder, "Released"),
        (3, ResumeWorkOrder, "Running"),
    ],
    ids=["complete-forecast", "release-running", "close-released", "resume-running"],
)
def test_an_illegal_transition_is_refused_naming_the_current_state(
    api: Api, plant: Plant, steps_before: int, command_type: type[Command], state: str
) -> None:
    order = unique("WO")
    api.run(*plant.running_order(order)[:steps_before])
    before = api.position()

    problem = assert_problem(api.send(command_type(command_id=new_id(), order_number=order)), 409)

    assert problem["rule"] == "illegal-transition"
    assert state in problem["detail"]
    assert api.position() == before
    assert api.read(f"/api/v1/work-orders/{order}", min_position=before)["state"] == state


REASONLESS: dict[str, Callable[[str, str], Command]] = {
    "hold a lot": lambda lot, order: HoldLot(command_id=new_id(), lot_number=lot, reason=""),
    "hold a lot with blanks": lambda lot, order: HoldLot(command_id=new_id(), lot_number=lot, reason="   "),
    "scrap a lot": lambda lot, order: ScrapLot(command_id=new_id(), lot_number=lot, reason=""),
    "cancel an order": lambda lot, order: CancelWorkOrder(command_id=new_id(), order_number=order, reason=" "),
    "hold an order": lambda lot, order: HoldWorkOrder(command_id=new_id(), order_number=order, reason=""),
}


@pytest.mark.parametrize("action", list(REASONLESS))
def test_an_action_that_needs_a_reason_is_refused_without_one(api: Api, plant: Plant, action: str) -> None:
    lot, order = unique("LOT"), unique("WO")
    api.run(plant.receive(lot), *plant.running_order(order)[:2])
    before = api.position()

    problem = assert_problem(api.send(REASONLESS[action](lot, order)), 409)

    assert problem["rule"] == "reason-required"
    assert api.position() == before


def test_consuming_from_a_held_lot_is_refused_naming_its_status(api: Api, plant: Plant) -> None:
    order, lot = unique("WO"), unique("LOT")
    api.run(
        plant.receive(lot),
        HoldLot(command_id=new_id(), lot_number=lot, reason="lab sample failed"),
        *plant.running_order(order),
    )
    before = api.position()

    problem = assert_problem(api.send(plant.consume(order, lot, 1)), 409)

    assert problem["rule"] == "lot-not-available"
    assert "OnHold" in problem["detail"]
    assert api.position() == before


def test_receiving_a_lot_number_twice_is_refused(api: Api, plant: Plant) -> None:
    lot = unique("LOT")
    api.run(plant.receive(lot))
    before = api.position()

    problem = assert_problem(api.send(plant.receive(lot)), 409)

    assert problem["rule"] == "already-exists"
    assert api.position() == before


def test_a_quantity_in_a_unit_without_a_conversion_is_refused(api: Api, plant: Plant) -> None:
    before = api.position()

    problem = assert_problem(api.send(plant.receive(unique("LOT"), 2, "bag", material=plant.water)), 409)

    assert problem["rule"] == "unit-mismatch"
    assert api.position() == before


def test_equipment_under_a_parent_of_the_wrong_level_is_refused(api: Api, plant: Plant) -> None:
    before = api.position()
    cell_under_site = RegisterEquipment(
        command_id=new_id(), code=unique("CELL"), name="Cell", level=EquipmentLevel.WORK_CELL, parent_code=plant.site
    )

    problem = assert_problem(api.send(cell_under_site), 409)

    assert problem["rule"] == "equipment-hierarchy"
    assert api.position() == before


# 422: invalid input, each field named


BODY_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "missing field": ({"supplier_lot": None}, "supplier_lot"),
    "unknown field": ({"colour": "red"}, "colour"),
    "unknown nested field": ({"quantity": {"value": "1", "unit": "kg", "colour": "red"}}, "quantity.colour"),
    "wrong type": ({"location": 12}, "location"),
    "wrong nested type": ({"quantity": {"value": "lots", "unit": "kg"}}, "quantity.value"),
    "negative quantity": ({"quantity": {"value": "-5", "unit": "kg"}}, "quantity"),
    "zero quantity": ({"quantity": {"value": "0", "unit": "kg"}}, "quantity"),
    "absurd quantity": ({"quantity": {"value": "1000000001", "unit": "kg"}}, "quantity"),
    "absurd quantity in exponent form": ({"quantity": {"value": "2e9", "unit": "kg"}}, "quantity"),
    "quantity finer than a store holds": ({"quantity": {"value": "1E-20000", "unit": "kg"}}, "quantity"),
    "quantity with ten decimal places": ({"quantity": {"value": "0.0000000001", "unit": "kg"}}, "quantity"),
    "not a number": ({"quantity": {"value": "NaN", "unit": "kg"}}, "quantity"),
    "code with a space": ({"lot_number": "LOT 7"}, "lot_number"),
    "business time without a time zone": ({"occurred_at": "2026-03-03T06:00:00"}, "occurred_at"),
    "date that is not a date": ({"expiry": "next spring"}, "expiry"),
    "over-long location": ({"location": "X" * 65}, "location"),
}


@pytest.mark.parametrize("case", list(BODY_CASES))
def test_an_invalid_body_answers_422_naming_the_field(api: Api, plant: Plant, case: str) -> None:
    changes, field = BODY_CASES[case]
    before = api.position()

    problem = assert_problem(api.post("/api/v1/lots", receipt_body(plant, **changes)), 422)

    assert any(name == field or name.startswith(f"{field}.") for name in field_names(problem))
    assert {e["source"] for e in problem["errors"]} == {"body"}
    assert field in problem["detail"]
    assert api.position() == before


def test_an_unknown_equipment_level_answers_422_naming_the_field(api: Api, plant: Plant) -> None:
    before = api.position()

    response = api.post(
        "/api/v1/equipment", {"code": unique("CELL"), "name": "Cell", "level": "Galaxy", "parent_code": plant.line}
    )

    assert field_names(assert_problem(response, 422)) == ["level"]
    assert api.position() == before


def test_a_work_order_without_operations_answers_422_naming_the_routing(api: Api, plant: Plant) -> None:
    before = api.position()
    body = {
        "order_number": unique("WO"),
        "product_code": plant.syrup,
        "planned_quantity": {"value": "10", "unit": "L"},
        "bill_of_materials": [],
        "routing": [],
    }

    assert field_names(assert_problem(api.post("/api/v1/work-orders", body), 422)) == ["routing"]
    assert api.position() == before


def test_an_idempotency_key_longer_than_allowed_answers_422_naming_the_header(api: Api, plant: Plant) -> None:
    before = api.position()

    problem = assert_problem(api.post("/api/v1/lots", receipt_body(plant), {"Idempotency-Key": "k" * 129}), 422)

    assert [(e["field"], e["source"]) for e in problem["errors"]] == [("Idempotency-Key", "header")]
    assert api.position() == before


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/lots", {"limit": 0}, "limit"),
        ("/api/v1/lots", {"limit": 501}, "limit"),
        ("/api/v1/work-orders", {"limit": "ten"}, "limit"),
        ("/api/v1/equipment", {"min_position": -1}, "min_position"),
        ("/api/v1/lots", {"material_code": ""}, "material_code"),
        ("/api/v1/lots/{lot}/genealogy", {"direction": "sideways"}, "direction"),
        ("/api/v1/lots/{lot}/genealogy", {"direction": "backward", "as_of": "yesterday"}, "as_of"),
        ("/api/v1/lots/{lot}/genealogy/lots", {"direction": "up"}, "direction"),
        ("/api/v1/lots/{lot}/genealogy/lots", {"direction": "forward", "as_of": "2026-13-01"}, "as_of"),
    ],
)
def test_an_invalid_query_value_answers_422_naming_the_parameter(
    api: Api, path: str, params: dict[str, Any], field: str
) -> None:
    problem = assert_problem(api.get(path.format(lot=unique("LOT")), **params), 422)

    assert [(e["field"], e["source"]) for e in problem["errors"]] == [(field, "query")]


def test_a_trace_without_a_direction_answers_422_naming_the_parameter(api: Api, plant: Plant) -> None:
    lot = unique("LOT")
    api.run(plant.receive(lot))

    problem = assert_problem(api.get(f"/api/v1/lots/{lot}/genealogy"), 422)

    assert [(e["field"], e["source"]) for e in problem["errors"]] == [("direction", "query")]


# 400, 413, 503


@pytest.mark.parametrize(
    "body",
    [b"{lot_number: 1}", b"not json", b'{"lot_number": "L1",}', b'{"lot_number": '],
    ids=["unquoted-key", "text", "trailing-comma", "truncated"],
)
def test_a_body_that_is_not_json_answers_400_malformed_json_and_records_nothing(api: Api, body: bytes) -> None:
    before = api.position()

    response = api.client.post("/api/v1/lots", content=body, headers={"Content-Type": "application/json"})

    problem = assert_problem(response, 400)
    assert problem["type"].endswith("/malformed-json")
    assert problem["title"] == "Malformed JSON"
    assert api.position() == before


def test_a_body_over_256_kib_answers_413_and_records_nothing(api: Api, plant: Plant) -> None:
    before = api.position()
    body = receipt_body(plant, supplier_lot="S" * (MAX_BODY_BYTES + 1024))

    problem = assert_problem(api.post("/api/v1/lots", body), 413)

    assert problem["type"].endswith("/body-too-large")
    assert api.position() == before


def test_a_body_just_under_256_kib_is_read_and_judged_on_its_fields(api: Api, plant: Plant) -> None:
    before = api.position()
    body = receipt_body(plant, supplier_lot="S" * (MAX_BODY_BYTES - 1024))

    problem = assert_problem(api.post("/api/v1/lots", body), 422)

    assert field_names(problem) == ["supplier_lot"]
    assert api.position() == before


def test_a_read_at_a_position_far_ahead_answers_503_with_retry_after(api: Api) -> None:
    before = api.position()

    response = api.get("/api/v1/lots", min_position=before + 1_000_000)

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("/read-model-behind")
    assert str(before + 1_000_000) in problem["detail"]
    assert response.headers["retry-after"] == "1"
    assert api.position() == before


# NUL characters and the edges of the calendar (PostgreSQL text cannot hold NUL; UTC of year 1 overflows)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/lots", {"material_code": "SUG\x00AR"}),
        ("/api/v1/lots", {"cursor": "AA=="}),  # base64 of a NUL byte
        ("/api/v1/lots/LOT%00X", {}),
        ("/api/v1/equipment/EQ%00X", {}),
    ],
    ids=["filter", "cursor", "lot-path", "equipment-path"],
)
def test_a_nul_character_in_a_path_or_query_is_refused_as_invalid_input(
    api: Api, path: str, params: dict[str, str]
) -> None:
    problem = assert_problem(api.get(path, **params), 422)

    assert problem["errors"]
    assert {e["source"] for e in problem["errors"]} <= {"path", "query"}


NUL_IN_TEXT: dict[str, Callable[[Plant, str], Command]] = {
    "location": lambda plant, lot: MoveLot(command_id=new_id(), lot_number=lot, location="BAY\x009"),
    "reason": lambda plant, lot: HoldLot(command_id=new_id(), lot_number=lot, reason="damp\x00"),
    "supplier_lot": lambda plant, lot: msgspec.structs.replace(plant.receive(unique("LOT")), supplier_lot="NS\x001"),
}


@pytest.mark.parametrize("field", list(NUL_IN_TEXT))
def test_a_nul_character_in_free_text_is_refused_naming_the_field(api: Api, plant: Plant, field: str) -> None:
    lot = unique("LOT")
    api.run(plant.receive(lot))
    before = api.position()

    problem = assert_problem(api.send(NUL_IN_TEXT[field](plant, lot)), 422)

    assert field_names(problem) == [field]
    assert api.position() == before


@pytest.mark.parametrize(
    ("as_of", "reaches_the_parent"),
    [("0001-01-01T00:00:00+01:00", False), ("9999-12-31T23:59:59-01:00", True)],
    ids=["first-day", "last-day"],
)
def test_a_trace_as_of_an_edge_of_the_calendar_is_answered(
    api: Api, plant: Plant, as_of: str, reaches_the_parent: bool
) -> None:
    lot, part = unique("LOT"), unique("LOT")
    api.run(
        plant.receive(lot),
        SplitLot(command_id=new_id(), lot_number=lot, quantity=q(1, "kg"), new_lot_number=part),
    )

    trace = api.read(f"/api/v1/lots/{part}/genealogy", direction="backward", as_of=as_of, min_position=api.position())

    assert trace["lots"] == ([lot] if reaches_the_parent else [])


def read_model_reaches(api: Api, path: str, position: int) -> bool:
    """Polls a view until it shows `position`; False once the server logs that its projections failed.

    (A read with min_position would tell the same, but only after waiting 5 s for its 503.)
    """
    deadline = time.monotonic() + READ_MODEL_TIMEOUT_S
    while time.monotonic() < deadline:
        response = api.get(path)
        if response.status_code == 200 and response.json()["position"] >= position:
            return True
        if "projections failed" in api.server.unread_log():
            return False
        time.sleep(POLL_S)  # a short pause between polls, bounded by the deadline
    return False


def command_then_later_receipt_is_readable(api: Api, command_for: Callable[[Plant, str], Command]) -> None:
    """Sends a command the API accepts, then checks the lots view still keeps up with what comes after."""
    plant, lot, later = Plant.named(), unique("LOT"), unique("LOT")
    api.run(*plant.commands(), plant.receive(lot))
    answer = api.send(command_for(plant, lot))
    assert answer.status_code < 500, answer.text

    position = api.run(plant.receive(later))["position"]

    assert read_model_reaches(api, f"/api/v1/lots/{later}", position)


def test_a_command_dated_on_the_first_day_of_the_calendar_does_not_stop_the_read_models(fresh_api: Api) -> None:
    command_then_later_receipt_is_readable(
        fresh_api,
        lambda plant, lot: MoveLot(
            command_id=new_id(),
            lot_number=lot,
            location="BAY-9",
            occurred_at=datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        ),
    )
