"""Bad input through a real server: garbage on the wire, malformed business keys, implausible values.

Each answer is a clear 4xx problem naming what is wrong, and a refused request records nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from application.commands import CODE_PATTERN, LOT_NUMBER_PATTERN
from application.traceability.lots import HoldLot
from tests.builders import Plant, new_id, unique
from tests.e2e.conftest import Api, assert_problem, receipt_body


def post_raw(api: Api, path: str, content: bytes, content_type: str = "application/json") -> Any:
    return api.client.post(path, content=content, headers={"Content-Type": content_type})


def field_names(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem["errors"]}


# Garbage on the wire: 400, never 500


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * 100_000, "nests"),
        (b'{"a":' * 50_000, "nests"),  # 250 kB: under the body limit
        (b'{"lot_number": "\xff\xfe"}', "UTF-8"),
        (b'{"\xc3\x28": 1}', "UTF-8"),
    ],
    ids=["100k-brackets", "50k-objects", "invalid-utf8-in-a-value", "invalid-utf8-in-a-key"],
)
def test_a_body_no_server_can_read_answers_400_and_records_nothing(api: Api, body: bytes, says: str) -> None:
    before = api.position()

    problem = assert_problem(post_raw(api, "/api/v1/lots", body), 400)

    assert problem["type"].endswith("/malformed-json")
    assert says in problem["detail"]
    assert api.position() == before


def test_a_command_body_in_another_media_type_answers_415(api: Api, plant: Plant) -> None:
    before = api.position()
    body = b'{"code": "X1", "name": "x", "level": "Site"}'

    problem = assert_problem(post_raw(api, "/api/v1/equipment", body, "text/plain"), 415)

    assert "text/plain" in problem["detail"]
    assert api.position() == before


# Business keys: one grammar, matched whole, in bodies and paths


BAD_KEYS = {
    "trailing newline": "HB-NL\n",
    "slash": "a/../x",
    "leading space": " LOT-1",
    "trailing space": "LOT-1 ",
    "inner space": "LOT 1",
    "tab": "LOT\t1",
    "carriage return": "LOT-1\r",
    "unicode line separator": "LOT\u20281",
    "empty": "",
    "65 characters": "L" * 65,
}


@pytest.mark.parametrize("key", list(BAD_KEYS.values()), ids=list(BAD_KEYS))
@pytest.mark.parametrize("field", ["lot_number", "material_code", "location"])
def test_a_malformed_business_key_in_a_body_answers_422_naming_the_field(
    api: Api, plant: Plant, field: str, key: str
) -> None:
    before = api.position()

    problem = assert_problem(api.post("/api/v1/lots", receipt_body(plant, **{field: key})), 422)

    assert field_names(problem) == {field}
    assert problem["errors"][0]["message"].startswith(("must be 1 to 64 letters, digits", "Expected `str` of length"))
    assert api.position() == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/lots/HB-NL%0A", "lot_number"),
        ("/api/v1/lots/%20LOT-1", "lot_number"),
        ("/api/v1/work-orders/WO%0D", "order_number"),
        ("/api/v1/equipment/MIX%09", "code"),
        ("/api/v1/lots/LOT-1%0A/history", "lot_number"),
    ],
)
def test_a_malformed_business_key_in_a_path_answers_422_naming_the_parameter(api: Api, path: str, field: str) -> None:
    problem = assert_problem(api.get(path), 422)

    assert field_names(problem) == {field}
    assert {e["source"] for e in problem["errors"]} == {"path"}


def test_a_command_on_a_malformed_key_in_its_path_answers_422_and_records_nothing(api: Api, plant: Plant) -> None:
    before = api.position()

    problem = assert_problem(api.post("/api/v1/lots/LOT-1%0A/hold", {"reason": "check"}), 422)

    assert field_names(problem) == {"lot_number"}
    assert api.position() == before


def test_every_key_the_api_accepts_can_be_read_back(api: Api, plant: Plant) -> None:
    lot = f"{unique('L')}.a_b:c-9_"
    api.run(plant.receive(lot))

    view = api.read(f"/api/v1/lots/{lot}", min_position=api.position())

    assert view["lot_number"] == lot
    assert api.read(f"/api/v1/lots/{lot}/history")["key"] == lot


def test_the_key_grammar_is_in_the_openapi_document_for_bodies_paths_and_array_items(api: Api) -> None:
    document = api.read("/api/v1/docs/openapi.json")
    schemas = document["components"]["schemas"]
    lot_path = next(p for p in document["paths"]["/api/v1/lots/{lot_number}"]["get"]["parameters"] if p["in"] == "path")
    merge = schemas["MergeLotsRequest"]["properties"]

    patterns = {
        schemas["ReceiveLotRequest"]["properties"]["location"]["pattern"],
        lot_path["schema"]["pattern"],
        merge["lot_numbers"]["items"]["pattern"],
    }

    assert patterns == {CODE_PATTERN}
    assert schemas["ReceiveLotRequest"]["properties"]["lot_number"]["pattern"] == LOT_NUMBER_PATTERN
    assert merge["lot_numbers"]["items"]["minLength"] == 1


# Plausible values


@pytest.mark.parametrize(
    "occurred_at",
    [0, 1_767_225_600, "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2026-03-03T06:00:00"],
    ids=["zero", "an-integer", "year-1", "epoch", "far-future", "no-time-zone"],
)
def test_an_implausible_business_time_answers_422_naming_occurred_at(api: Api, plant: Plant, occurred_at: Any) -> None:
    before = api.position()

    problem = assert_problem(api.post("/api/v1/lots", receipt_body(plant, occurred_at=occurred_at)), 422)

    assert field_names(problem) == {"occurred_at"}
    assert api.position() == before


@pytest.mark.parametrize("value", ["5_000", " 7 ", "7 ", "1e3", "+5", "-5", "0x10", "Infinity", "", 7, 7.5, True])
def test_a_quantity_that_is_not_plain_decimal_text_answers_422_naming_its_value(
    api: Api, plant: Plant, value: Any
) -> None:
    before = api.position()

    body = receipt_body(plant, quantity={"value": value, "unit": "kg"})
    problem = assert_problem(api.post("/api/v1/lots", body), 422)

    assert field_names(problem) == {"quantity.value"}
    assert "decimal number as text" in problem["errors"][0]["message"]
    assert api.position() == before


def test_a_quantity_as_plain_decimal_text_is_accepted_and_answered_in_canonical_form(api: Api, plant: Plant) -> None:
    lot = unique("LOT")

    accepted = api.post("/api/v1/lots", receipt_body(plant, lot_number=lot, quantity={"value": "12.500", "unit": "kg"}))

    assert accepted.status_code == 201, accepted.text
    assert api.read(f"/api/v1/lots/{lot}", min_position=api.position())["quantity"] == {"value": "12.5", "unit": "kg"}


def test_every_invalid_or_missing_field_is_named_at_once(api: Api, plant: Plant) -> None:
    body = {
        "lot_number": "a b",
        "quantity": {"value": "5_000", "unit": "kg"},
        "location": " WH",
        "occurred_at": 0,
        "colour": "red",
    }

    problem = assert_problem(api.post("/api/v1/lots", body), 422)

    assert field_names(problem) == {
        "lot_number",
        "material_code",
        "quantity.value",
        "location",
        "supplier_lot",
        "occurred_at",
        "colour",
    }
    assert all(name in problem["detail"] for name in field_names(problem))


def test_a_command_that_needs_a_body_and_has_none_names_the_body(api: Api, plant: Plant) -> None:
    problem = assert_problem(api.client.post(f"/api/v1/equipment/{plant.mixer}/decommission"), 422)

    assert field_names(problem) == {"body"}
    assert "JSON object" in problem["errors"][0]["message"]


def test_a_command_without_required_fields_needs_no_body(api: Api, plant: Plant) -> None:
    order = unique("WO")
    api.run(plant.create_order(order))

    response = api.client.post(f"/api/v1/work-orders/{order}/release")

    assert response.status_code == 202, response.text


@pytest.mark.parametrize("text", ["line\x00break", "bell\x07", "escape\x1b[31m", "C1 control\x85"])
def test_a_name_with_a_control_character_answers_422(api: Api, plant: Plant, text: str) -> None:
    body = {"code": unique("MAT"), "name": text, "base_unit": "kg"}

    problem = assert_problem(api.post("/api/v1/materials", body), 422)

    assert field_names(problem) == {"name"}


def test_a_reason_may_span_lines_but_not_hold_other_control_characters(api: Api, plant: Plant) -> None:
    lot = unique("LOT")
    api.run(plant.receive(lot))

    refused = api.post(f"/api/v1/lots/{lot}/hold", {"reason": "moisture\x1b[2J"})
    accepted = api.send(HoldLot(command_id=new_id(), lot_number=lot, reason="moisture high\nretest at 14:00"))

    assert field_names(assert_problem(refused, 422)) == {"reason"}
    assert accepted.status_code == 202, accepted.text


def test_mistakes_in_the_path_the_key_and_the_body_are_named_in_one_answer(api: Api, plant: Plant) -> None:
    before = api.position()

    response = api.client.post(
        "/api/v1/lots/bad%0A/hold",
        content=b'{"reason": 5}',
        headers={"Content-Type": "application/json", "Idempotency-Key": "a b"},
    )

    problem = assert_problem(response, 422)
    assert {(e["field"], e["source"]) for e in problem["errors"]} == {
        ("lot_number", "path"),
        ("Idempotency-Key", "header"),
        ("reason", "body"),
    }
    assert api.position() == before


@pytest.mark.parametrize("path", ["/api/v1/lots", "/api/v1/lots/merge"])
def test_no_new_lot_may_be_numbered_merge_a_word_of_the_apis_paths(api: Api, plant: Plant, path: str) -> None:
    before = api.position()
    lots = [unique("LOT"), unique("LOT")]
    if path.endswith("merge"):
        api.run(plant.receive(lots[0]), plant.receive(lots[1]))
        before = api.position()
    body = (
        receipt_body(plant, lot_number="merge")
        if path == "/api/v1/lots"
        else {
            "lot_numbers": lots,
            "new_lot_number": "merge",
            "location": "WH-RAW",
        }
    )

    problem = assert_problem(api.post(path, body), 422)

    assert "not `merge`" in problem["errors"][0]["message"]
    assert api.position() == before
