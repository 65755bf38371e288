"""Query routes through a real server: lists with filters and cursors, one-item views, genealogy, history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.demo_plant import FINISHED_PALLETS, RAW_SUGAR_LOT, Step, shift
from application.commands import Command
from application.traceability.equipment import DecommissionEquipment
from application.traceability.lots import HoldLot, MoveLot, ReleaseLot, ScrapLot, SplitLot
from application.traceability.work_orders import CompleteWorkOrder, HoldWorkOrder, ReportProduction
from tests.accounts import PRINCIPAL_ID, PRINCIPAL_NAME
from tests.builders import Plant, new_id, unique
from tests.builders import q_in as q
from tests.e2e.conftest import Api, ServerProcess

SECOND_SUGAR_LOT = "SUG-24-0118"


def pages(api: Api, path: str, limit: int, **filters: Any) -> list[list[dict[str, Any]]]:
    """Every page of a list, following `next_cursor` until it is null."""
    found, cursor = [], None
    for _ in range(1000):  # a bound, in case the cursor never ends
        page = api.read(path, limit=limit, cursor=cursor, min_position=api.position(), **filters)
        found.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    pytest.fail(f"{path} kept answering a next_cursor")


def codes(items: list[dict[str, Any]], key: str) -> list[str]:
    return [item[key] for item in items]


# Equipment


def test_equipment_is_listed_under_its_parent_and_filtered_by_level_and_status(api: Api, plant: Plant) -> None:
    api.run(DecommissionEquipment(command_id=new_id(), code=plant.filler, reason="moved to another plant"))
    at = api.position()

    cells = api.read("/api/v1/equipment", parent_code=plant.line, min_position=at)["items"]
    areas = api.read("/api/v1/equipment", parent_code=plant.site, level="Area", min_position=at)["items"]
    active = api.read("/api/v1/equipment", parent_code=plant.line, status="Active", min_position=at)["items"]
    gone = api.read("/api/v1/equipment", parent_code=plant.line, status="Decommissioned", min_position=at)["items"]

    assert codes(cells, "code") == sorted([plant.mixer, plant.filler])
    assert {cell["level"] for cell in cells} == {"WorkCell"}
    assert codes(areas, "code") == [plant.area]
    assert codes(active, "code") == [plant.mixer]
    assert codes(gone, "code") == [plant.filler]
    assert api.read("/api/v1/equipment", parent_code=plant.site, level="WorkCell", min_position=at)["items"] == []


def test_one_unit_of_equipment_shows_its_level_parent_and_status(api: Api, plant: Plant) -> None:
    line = api.read(f"/api/v1/equipment/{plant.line}", min_position=api.position())

    assert line["code"] == plant.line
    assert line["level"] == "ProductionLine"
    assert line["parent_code"] == plant.area
    assert line["status"] == "Active"
    assert line["registered_at"]


def test_equipment_pages_by_cursor_one_unit_at_a_time(api: Api, plant: Plant) -> None:
    found = pages(api, "/api/v1/equipment", limit=1, parent_code=plant.line)

    assert [codes(page, "code") for page in found] == [[code] for code in sorted([plant.mixer, plant.filler])] + [[]]


# Materials


def test_a_material_shows_its_base_unit_and_conversions(api: Api, plant: Plant) -> None:
    sugar = api.read(f"/api/v1/materials/{plant.sugar}", min_position=api.position())

    assert sugar["base_unit"] == "kg"
    assert sugar["name"] == "Sugar"
    assert sugar["conversions"] == [{"unit": "bag", "factor": "25"}]


def test_paging_through_all_materials_lists_each_once_in_code_order(api: Api, plant: Plant) -> None:
    found = [code for page in pages(api, "/api/v1/materials", limit=7) for code in codes(page, "code")]

    assert found == sorted(set(found))
    assert {plant.sugar, plant.water, plant.syrup} <= set(found)


# Lots and inventory


def test_lots_are_filtered_by_material_status_and_location(api: Api, plant: Plant) -> None:
    kept, tested, away, held = unique("LOT"), unique("LOT"), unique("LOT"), unique("LOT")
    water = unique("WAT")
    api.run(
        plant.receive(kept),
        plant.receive(tested, quarantined=True),
        plant.receive(away, location="WH-B"),
        plant.receive(held),
        HoldLot(command_id=new_id(), lot_number=held, reason="pest sighting in bay"),
        plant.receive(water, 500, "L", material=plant.water),
    )
    at = api.position()

    def lots(**filters: str) -> list[str]:
        return codes(api.read("/api/v1/lots", min_position=at, **filters)["items"], "lot_number")

    assert lots(material_code=plant.sugar) == sorted([kept, tested, away, held])
    assert lots(material_code=plant.sugar, status="Quarantine") == [tested]
    assert lots(material_code=plant.sugar, status="OnHold") == [held]
    assert lots(material_code=plant.sugar, location="WH-B") == [away]
    assert lots(material_code=plant.water) == [water]


def test_lots_page_by_cursor_through_more_lots_than_the_limit(api: Api, plant: Plant) -> None:
    received = sorted(unique("LOT") for _ in range(7))
    api.run(*(plant.receive(lot, 10, "L", material=plant.water) for lot in received))

    found = pages(api, "/api/v1/lots", limit=3, material_code=plant.water)

    assert [len(page) for page in found] == [3, 3, 1]
    assert [lot for page in found for lot in codes(page, "lot_number")] == received


def test_one_lot_shows_its_status_quantity_location_and_origin(api: Api, plant: Plant) -> None:
    lot = unique("LOT")
    api.run(plant.receive(lot, 3, "bag"))

    view = api.read(f"/api/v1/lots/{lot}", min_position=api.position())

    assert view["lot_number"] == lot
    assert view["material_code"] == plant.sugar
    assert view["quantity"] == {"value": "75", "unit": "kg"}
    assert (view["status"], view["location"], view["origin"]) == ("Available", "WH-RAW", "received")
    assert view["supplier_lot"] == f"SUP-{lot}"


def test_inventory_sums_stock_per_material_location_and_status(api: Api, plant: Plant) -> None:
    first, second, away, held, scrapped = (unique("LOT") for _ in range(5))
    api.run(
        plant.receive(first, 100),
        plant.receive(second, 50),
        plant.receive(away, 30, location="WH-B"),
        plant.receive(held, 20),
        HoldLot(command_id=new_id(), lot_number=held, reason="supplier recall notice"),
        plant.receive(scrapped, 5),
        ScrapLot(command_id=new_id(), lot_number=scrapped, reason="spilled"),
    )
    at = api.position()

    stock = api.read("/api/v1/inventory", material_code=plant.sugar, min_position=at)["items"]
    in_bay_b = api.read("/api/v1/inventory", material_code=plant.sugar, location="WH-B", min_position=at)["items"]

    assert [(s["location"], s["status"], s["quantity"], s["lots"]) for s in stock] == [
        ("WH-B", "Available", {"value": "30", "unit": "kg"}, 1),
        ("WH-RAW", "Available", {"value": "150", "unit": "kg"}, 2),
        ("WH-RAW", "OnHold", {"value": "20", "unit": "kg"}, 1),
    ]
    assert [(s["location"], s["quantity"]["value"]) for s in in_bay_b] == [("WH-B", "30")]


# Work orders and WIP


def test_a_work_order_shows_its_operations_and_materials_consumed_against_required(api: Api, plant: Plant) -> None:
    order, sugar, water, syrup = unique("WO"), unique("LOT"), unique("LOT"), unique("SYR")
    api.run(
        plant.receive(sugar, 100),
        plant.receive(water, 500, "L", material=plant.water),
        *plant.running_order(order, planned=100),
        plant.consume(order, sugar, 15),
        plant.consume(order, water, 80, "L"),
        plant.produce(order, syrup, 90, scrap=5),
    )

    view = api.read(f"/api/v1/work-orders/{order}", min_position=api.position())

    assert (view["state"], view["product_code"]) == ("Running", plant.syrup)
    assert [view[k] for k in ("planned_quantity", "good_quantity", "scrap_quantity")] == [
        {"value": "100", "unit": "L"},
        {"value": "90", "unit": "L"},
        {"value": "5", "unit": "L"},
    ]
    assert view["released_at"]
    assert view["started_at"]
    assert view["completed_at"] is None
    assert [(o["sequence"], o["name"], o["equipment_code"]) for o in view["operations"]] == [(10, "Mix", plant.mixer)]
    assert view["operations"][0]["ideal_cycle_time_s"] == "0.5"
    used = {m["material_code"]: (m["quantity_per_unit"], m["unit"], m["required"]) for m in view["materials"]}
    consumed = {m["material_code"]: m["consumed"] for m in view["materials"]}
    assert used == {
        plant.sugar: ("0.2", "kg", {"value": "20", "unit": "kg"}),
        plant.water: ("0.8", "L", {"value": "80", "unit": "L"}),
    }
    assert consumed == {plant.sugar: {"value": "15", "unit": "kg"}, plant.water: {"value": "80", "unit": "L"}}


def test_work_orders_are_filtered_by_state_and_product(api: Api, plant: Plant) -> None:
    planned, released, running = unique("WO"), unique("WO"), unique("WO")
    api.run(
        plant.create_order(planned),
        *plant.running_order(released)[:2],
        *plant.running_order(running),
    )
    at = api.position()

    def orders(**filters: str) -> list[str]:
        return codes(api.read("/api/v1/work-orders", min_position=at, **filters)["items"], "order_number")

    assert orders(product_code=plant.syrup) == sorted([planned, released, running])
    assert orders(product_code=plant.syrup, state="Forecast") == [planned]
    assert orders(product_code=plant.syrup, state="Released") == [released]
    assert orders(product_code=plant.syrup, state="Running") == [running]
    assert orders(product_code=plant.syrup, state="Closed") == []


def test_work_orders_page_by_cursor_through_more_orders_than_the_limit(api: Api, plant: Plant) -> None:
    created = sorted(unique("WO") for _ in range(4))
    api.run(*(plant.create_order(order) for order in created))

    found = pages(api, "/api/v1/work-orders", limit=3, product_code=plant.syrup)

    assert [codes(page, "order_number") for page in found] == [created[:3], created[3:]]


def test_wip_counts_the_orders_in_progress_on_each_line(api: Api, plant: Plant) -> None:
    released, running, also_running, held, done, planned = (unique("WO") for _ in range(6))
    api.run(
        *plant.running_order(released, planned=10)[:2],
        *plant.running_order(running, planned=100),
        *plant.running_order(also_running, planned=50),
        *plant.running_order(held, planned=7),
        HoldWorkOrder(command_id=new_id(), order_number=held, reason="waiting for quality sign-off"),
        *plant.running_order(done, planned=1000),
        CompleteWorkOrder(command_id=new_id(), order_number=done),
        plant.create_order(planned, planned=5000),
    )

    wip = [line for page in pages(api, "/api/v1/wip", limit=2) for line in page]

    on_line = {w["state"]: (w["orders"], w["planned_quantity"]) for w in wip if w["line_code"] == plant.line}
    assert on_line == {
        "Held": (1, {"value": "7", "unit": "L"}),
        "Released": (1, {"value": "10", "unit": "L"}),
        "Running": (2, {"value": "150", "unit": "L"}),
    }


# Lot history


def test_lot_history_lists_who_did_what_when_and_why(api: Api, plant: Plant) -> None:
    lot = unique("LOT")
    hold = HoldLot(command_id=new_id(), lot_number=lot, reason="moisture 0.4 % above spec")
    api.run(
        plant.receive(lot),
        hold,
        ReleaseLot(command_id=new_id(), lot_number=lot, reason="retest passed"),
        MoveLot(command_id=new_id(), lot_number=lot, location="LINE-SIDE"),
    )

    history = api.read(f"/api/v1/lots/{lot}/history")

    events = history["events"]
    assert (history["record"], history["key"]) == ("lot", lot)
    assert [(e["version"], e["event"]) for e in events] == [(1, "Received"), (2, "Held"), (3, "Released"), (4, "Moved")]
    assert [e["reason"] for e in events] == [None, "moisture 0.4 % above spec", "retest passed", None]
    assert {(e["actor_id"], e["actor_name"], e["source"]) for e in events} == {(PRINCIPAL_ID, PRINCIPAL_NAME, "api")}
    assert events[1]["command_id"] == hold.command_id
    assert events[3]["details"]["to_location"] == "LINE-SIDE"
    moments = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert moments == sorted(moments)


# Genealogy of the demo shift: sugar > silo > syrup > bottles > cases > pallets


@dataclass(frozen=True)
class Shift:
    """The demo's shift as it was sent: when it started, its steps, and the last position."""

    start: datetime
    steps: list[Step]
    position: int

    def time_of(self, command_type: type[Command], **fields: str) -> datetime:
        """The business time of the one step of this type with these fields."""
        (moment,) = (
            s.command.occurred_at
            for s in self.steps
            if type(s.command) is command_type and all(getattr(s.command, k) == v for k, v in fields.items())
        )
        assert moment is not None
        return moment


@pytest.fixture(scope="module")
def demo(server: ServerProcess) -> Shift:
    """The demo's whole shift, sent through the API once per server (the demo's own fixed codes)."""
    start = (datetime.now(UTC) - timedelta(hours=12)).replace(minute=0, second=0, microsecond=0)
    steps = shift(start)
    with httpx.Client(base_url=server.base_url, timeout=30.0, headers=server.headers) as client:
        api = Api(client, server)
        positions = [api.run(step.command)["position"] or 0 for step in steps]
    return Shift(start, steps, max(positions))


def tree_paths(node: dict[str, Any], above: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path from the root of a trace tree down to each node below it."""
    path = (*above, node["lot_number"])
    if above:
        yield path
    for child in node["children"]:
        yield from tree_paths(child, path)


def test_a_pallet_traces_back_to_the_raw_sugar_lots_five_levels_down(api: Api, demo: Shift) -> None:
    pallet = FINISHED_PALLETS[0]

    trace = api.read(f"/api/v1/lots/{pallet}/genealogy", direction="backward", min_position=demo.position)

    assert {RAW_SUGAR_LOT, SECOND_SUGAR_LOT} <= set(trace["lots"])
    sugar = {s["lot_number"]: s for s in trace["steps"] if s["lot_number"] in (RAW_SUGAR_LOT, SECOND_SUGAR_LOT)}
    expected_path = [pallet, "CS-0001", "BTL-OUT-0001", "SYR-0001", "SUG-SILO-1"]
    for lot in (RAW_SUGAR_LOT, SECOND_SUGAR_LOT):
        assert sugar[lot]["depth"] == 5
        assert sugar[lot]["path"] == [*expected_path, lot]
        assert (sugar[lot]["via_lot"], sugar[lot]["kind"]) == ("SUG-SILO-1", "merge")
    assert (*expected_path, RAW_SUGAR_LOT) in set(tree_paths(trace["tree"]))


def test_a_trace_tree_and_its_flat_list_hold_the_same_paths(api: Api, demo: Shift) -> None:
    trace = api.read(f"/api/v1/lots/{FINISHED_PALLETS[0]}/genealogy", direction="backward", min_position=demo.position)

    assert trace["tree"]["lot_number"] == FINISHED_PALLETS[0]
    assert set(tree_paths(trace["tree"])) == {tuple(s["path"]) for s in trace["steps"]}
    assert trace["lots"] == list(dict.fromkeys(s["lot_number"] for s in trace["steps"]))
    assert [s["depth"] for s in trace["steps"]] == sorted(s["depth"] for s in trace["steps"])
    assert {s["actor_name"] for s in trace["steps"]} == {PRINCIPAL_NAME}


def test_the_recall_list_of_a_raw_sugar_lot_reaches_both_pallets(api: Api, demo: Shift) -> None:
    trace = api.read(f"/api/v1/lots/{RAW_SUGAR_LOT}/genealogy", direction="forward", min_position=demo.position)

    assert set(FINISHED_PALLETS) <= set(trace["lots"])
    assert {"SUG-SILO-1", "SYR-0001", "SYR-0001-B", "BTL-OUT-0001", "BTL-OUT-0002"} <= set(trace["lots"])
    reached = {path[-1] for path in tree_paths(trace["tree"])}
    assert set(FINISHED_PALLETS) <= reached
    assert trace["direction"] == "forward"


def test_the_recall_list_names_each_lot_once_with_its_material_nearest_first(api: Api, demo: Shift) -> None:
    trace = api.read(f"/api/v1/lots/{RAW_SUGAR_LOT}/genealogy", direction="forward", min_position=demo.position)
    recall = api.read(f"/api/v1/lots/{RAW_SUGAR_LOT}/genealogy/lots", direction="forward", min_position=demo.position)

    assert recall["count"] == len(recall["lots"]) == len(set(trace["lots"]))
    depth = {lot["lot_number"]: lot["depth"] for lot in recall["lots"]}
    assert depth == {
        lot: min(s["depth"] for s in trace["steps"] if s["lot_number"] == lot) for lot in set(trace["lots"])
    }
    assert [lot["depth"] for lot in recall["lots"]] == sorted(depth.values())
    material = {s["lot_number"]: s["material_code"] for s in trace["steps"]}
    assert {lot["lot_number"]: lot["material_code"] for lot in recall["lots"]} == material
    assert set(FINISHED_PALLETS) <= set(depth)
    back = api.read(f"/api/v1/lots/{FINISHED_PALLETS[0]}/genealogy/lots", direction="backward")
    assert RAW_SUGAR_LOT in {lot["lot_number"] for lot in back["lots"]}
    before = api.read(f"/api/v1/lots/{RAW_SUGAR_LOT}/genealogy/lots", direction="forward", as_of=demo.start.isoformat())
    assert (before["count"], before["lots"]) == (0, [])


def test_a_trace_as_of_before_the_pallets_existed_is_empty(api: Api, demo: Shift) -> None:
    before = demo.start.isoformat()

    backward = api.read(
        f"/api/v1/lots/{FINISHED_PALLETS[0]}/genealogy", direction="backward", as_of=before, min_position=demo.position
    )
    forward = api.read(
        f"/api/v1/lots/{RAW_SUGAR_LOT}/genealogy", direction="forward", as_of=before, min_position=demo.position
    )

    for trace in (backward, forward):
        assert trace["lots"] == []
        assert trace["steps"] == []
        assert trace["tree"]["children"] == []


def test_a_recall_list_as_of_a_past_moment_lists_only_what_had_been_made_by_then(api: Api, demo: Shift) -> None:
    second_pallet_made = demo.time_of(ReportProduction, lot_number=FINISHED_PALLETS[1])
    just_before = (second_pallet_made - timedelta(seconds=1)).isoformat()

    trace = api.read(
        f"/api/v1/lots/{RAW_SUGAR_LOT}/genealogy", direction="forward", as_of=just_before, min_position=demo.position
    )

    assert FINISHED_PALLETS[0] in trace["lots"]
    assert FINISHED_PALLETS[1] not in trace["lots"]


def test_the_history_of_the_held_label_lot_gives_the_reason_for_the_hold(api: Api, demo: Shift) -> None:
    events = api.read("/api/v1/lots/LBL-24-0100/history")["events"]

    held = [e for e in events if e["event"] == "Held"]
    assert [e["reason"] for e in held] == ["print defect: barcode unreadable on sample of 20"]
    assert held[0]["actor_name"] == PRINCIPAL_NAME
    assert datetime.fromisoformat(held[0]["occurred_at"]) == demo.time_of(HoldLot, lot_number="LBL-24-0100")


def test_a_produced_lot_traces_back_to_the_lots_consumed_with_their_quantities(api: Api, plant: Plant) -> None:
    order, sugar, water, syrup = unique("WO"), unique("LOT"), unique("LOT"), unique("SYR")
    api.run(
        plant.receive(sugar, 100),
        plant.receive(water, 500, "L", material=plant.water),
        *plant.running_order(order),
        plant.consume(order, sugar, 20),
        plant.consume(order, water, 80, "L"),
        plant.produce(order, syrup, 100),
    )

    trace = api.read(f"/api/v1/lots/{syrup}/genealogy", direction="backward", min_position=api.position())

    links = {s["lot_number"]: (s["kind"], s["quantity"], s["order_number"]) for s in trace["steps"]}
    assert links == {
        sugar: ("consumed-into", {"value": "20", "unit": "kg"}, order),
        water: ("consumed-into", {"value": "80", "unit": "L"}, order),
    }
    assert trace["tree"]["material_code"] == plant.syrup


def test_a_split_off_lot_traces_back_to_its_parent(api: Api, plant: Plant) -> None:
    lot, part = unique("LOT"), unique("LOT")
    api.run(
        plant.receive(lot),
        SplitLot(command_id=new_id(), lot_number=lot, quantity=q(40, "kg"), new_lot_number=part),
    )

    trace = api.read(f"/api/v1/lots/{part}/genealogy", direction="backward", min_position=api.position())

    assert [(s["lot_number"], s["kind"], s["quantity"]["value"], s["depth"]) for s in trace["steps"]] == [
        (lot, "split", "40", 1)
    ]
