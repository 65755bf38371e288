"""One consistent API: what the OpenAPI document promises is what the server answers, lists are
paged one way, quantities have one shape, and every record has a history."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

import pytest

from application.traceability.equipment import DecommissionEquipment
from application.traceability.lots import SplitLot
from application.traceability.work_orders import CreateWorkOrder, HoldWorkOrder, OperationIn, ReleaseWorkOrder
from tests.builders import Plant, new_id, unique
from tests.builders import q_in as q
from tests.e2e.conftest import Api, assert_problem

DECIMAL_TEXT = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$")


def test_options_lists_every_method_of_a_path(api: Api) -> None:
    response = api.client.options("/api/v1/lots")

    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}


def test_a_method_a_path_does_not_take_answers_405_with_allow(api: Api) -> None:
    response = api.client.delete("/api/v1/lots")

    problem = assert_problem(response, 405)
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert "DELETE" in problem["detail"]


def test_every_query_documents_its_problems_and_every_command_its_own(api: Api) -> None:
    paths = api.read("/api/v1/docs/openapi.json")["paths"]
    # Signing in has problems of its own (401, 429): tests/e2e/test_access.py.
    resources = {
        p: ops for p, ops in paths.items() if p.startswith("/api/v1/") and "/health" not in p and "/auth/" not in p
    }

    queries = [(p, ops["get"]) for p, ops in resources.items() if "get" in ops and "/ready" not in p]
    commands = [(p, ops["post"]) for p, ops in resources.items() if "post" in ops]

    assert len(queries) > 10
    assert len(commands) > 15
    for path, operation in queries:
        assert {"401", "403", "404", "422", "429", "503"} <= set(operation["responses"]), path
        assert operation["responses"]["422"]["content"].keys() == {"application/problem+json"}, path
    for path, operation in commands:
        assert {"400", "401", "403", "404", "409", "422", "429", "503"} <= set(operation["responses"]), path
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
            assert "415" in operation["responses"], path  # a command's body is JSON


@pytest.mark.parametrize("path", ["/api/v1/inventory", "/api/v1/wip", "/api/v1/lots", "/api/v1/work-orders"])
def test_every_list_is_a_page_with_a_cursor(api: Api, path: str) -> None:
    page = api.read(path, limit=1)

    assert set(page) == {"items", "next_cursor"}
    assert len(page["items"]) <= 1


def test_inventory_pages_through_every_line_once(api: Api, plant: Plant) -> None:
    api.run(*(plant.receive(unique("LOT"), 10, location=f"BAY-{i}") for i in range(5)))
    position = api.position()

    seen, cursor = [], None
    for _ in range(10):  # five lines, two a page: three pages
        page = api.read("/api/v1/inventory", material_code=plant.sugar, limit=2, cursor=cursor, min_position=position)
        seen += [(line["location"], line["status"]) for line in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [(f"BAY-{i}", "Available") for i in range(5)]


def test_a_cursor_not_made_by_the_api_answers_422_naming_it(api: Api) -> None:
    problem = assert_problem(api.get("/api/v1/inventory", cursor="bm90IGEgY3Vyc29y"), 422)

    assert [e["field"] for e in problem["errors"]] == ["cursor"]


def quantities(value: Any) -> list[dict[str, Any]]:
    """Every {value, unit} object anywhere in an answer."""
    if isinstance(value, dict):
        found = [value] if set(value) == {"value", "unit"} else []
        return found + [q for v in value.values() for q in quantities(v)]
    if isinstance(value, list):
        return [q for v in value for q in quantities(v)]
    return []


def test_every_quantity_is_value_and_unit_in_canonical_decimal_text(api: Api, plant: Plant) -> None:
    order, lot, syrup = unique("WO"), unique("LOT"), unique("SYR")
    api.run(
        plant.receive(lot, "499.500"),
        *plant.running_order(order, planned=960),
        plant.consume(order, lot, "12.250"),
        plant.produce(order, syrup, "80.0", scrap="0.50"),
    )
    at = api.position()

    answers = [
        api.read(f"/api/v1/lots/{lot}", min_position=at),
        api.read(f"/api/v1/work-orders/{order}", min_position=at),
        api.read("/api/v1/inventory", material_code=plant.sugar, min_position=at),
        api.read("/api/v1/wip", min_position=at),
        api.read(f"/api/v1/lots/{syrup}/genealogy", direction="backward", min_position=at),
        api.read(f"/api/v1/lots/{lot}/history"),
    ]
    found = quantities(answers)

    assert len(found) > 10
    assert all(DECIMAL_TEXT.match(q["value"]) for q in found), [q["value"] for q in found]
    assert {"value": "487.25", "unit": "kg"} in found
    assert {"value": "960", "unit": "L"} in found


def test_unit_conversions_have_the_same_shape_in_requests_and_answers(api: Api) -> None:
    code = unique("CAP")
    conversions = [{"unit": "case", "factor": "24"}, {"unit": "pallet", "factor": "1920"}]
    api.post("/api/v1/materials", {"code": code, "name": "Cap", "base_unit": "ea", "conversions": conversions})

    view = api.read(f"/api/v1/materials/{code}", min_position=api.position())

    assert view["conversions"] == conversions


def test_a_work_order_has_a_history_of_who_did_what_and_why(api: Api, plant: Plant) -> None:
    order = unique("WO")
    api.run(
        *plant.running_order(order),
        HoldWorkOrder(command_id=new_id(), order_number=order, reason="filler nozzle dripping"),
    )

    history = api.read(f"/api/v1/work-orders/{order}/history")

    assert (history["record"], history["key"]) == ("work order", order)
    assert [e["event"] for e in history["events"]] == ["Created", "Released", "Started", "Held"]
    assert history["events"][-1]["reason"] == "filler nozzle dripping"
    assert history["events"][0]["details"]["planned_quantity"] == {"value": "100", "unit": "L"}


def test_equipment_has_a_history(api: Api, plant: Plant) -> None:
    api.run(DecommissionEquipment(command_id=new_id(), code=plant.filler, reason="replaced by a new filler"))

    history = api.read(f"/api/v1/equipment/{plant.filler}/history")

    assert [e["event"] for e in history["events"]] == ["Registered", "Decommissioned"]
    assert history["events"][-1]["reason"] == "replaced by a new filler"


@pytest.mark.parametrize("path", ["/api/v1/work-orders/{key}/history", "/api/v1/equipment/{key}/history"])
def test_the_history_of_an_unknown_record_answers_404(api: Api, plant: Plant, path: str) -> None:
    # A lot's number is no work order or equipment code: its history is not theirs.
    lot = unique("LOT")
    api.run(plant.receive(lot))

    assert_problem(api.get(path.format(key=lot)), 404)


def test_a_trace_beyond_its_max_depth_says_it_was_truncated(api: Api, plant: Plant) -> None:
    lots = [unique("LOT") for _ in range(4)]
    api.run(
        plant.receive(lots[0]),
        *(
            SplitLot(command_id=new_id(), lot_number=parent, quantity=q(10 - i, "kg"), new_lot_number=child)
            for i, (parent, child) in enumerate(itertools.pairwise(lots))
        ),
    )
    at = api.position()

    cut = api.read(f"/api/v1/lots/{lots[0]}/genealogy", direction="forward", max_depth=2, min_position=at)
    whole = api.read(f"/api/v1/lots/{lots[0]}/genealogy", direction="forward", min_position=at)

    assert (cut["lots"], cut["max_depth"], cut["truncated"]) == (lots[1:3], 2, True)
    assert (whole["lots"], whole["max_depth"], whole["truncated"]) == (lots[1:], 64, False)


def test_wip_lists_orders_routed_on_equipment_without_a_line_and_pages_through_them(api: Api, plant: Plant) -> None:
    order = unique("WO")
    api.run(
        CreateWorkOrder(
            command_id=new_id(),
            order_number=order,
            product_code=plant.syrup,
            planned_quantity=q(5, "L"),
            bill_of_materials=[],
            routing=[OperationIn(10, "Mix", plant.site, Decimal(1))],
        ),
        ReleaseWorkOrder(command_id=new_id(), order_number=order),
    )

    lines = [line for page in pages_of(api, "/api/v1/wip", limit=1) for line in page]

    assert any(line["line_code"] is None and line["state"] == "Released" for line in lines)
    assert len(lines) == len({(line["line_code"], line["state"], line["planned_quantity"]["unit"]) for line in lines})


def pages_of(api: Api, path: str, limit: int) -> list[list[dict[str, Any]]]:
    found, cursor = [], None
    for _ in range(1000):  # a bound, in case the cursor never ends
        page = api.read(path, limit=limit, cursor=cursor, min_position=api.position())
        found.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    pytest.fail(f"{path} kept answering a next_cursor")
