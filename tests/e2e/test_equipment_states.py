"""Equipment states through a real `mes serve` on both stores: observations placed by source time
(late ones too), PackML commands refused with 409 naming the state, modes, and the timelines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.builders import Plant, unique
from tests.e2e.conftest import Api, assert_problem

HOUR = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)


def at(minutes: float) -> str:
    return (HOUR + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def observe(api: Api, code: str, state: str, minutes: float, **more: Any) -> dict[str, Any]:
    answer = api.post(f"/api/v1/equipment/{code}/observed-states", {"state": state, "occurred_at": at(minutes), **more})
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_states_reported_out_of_order_make_one_timeline_by_source_time(api: Api, plant: Plant) -> None:
    observe(api, plant.filler, "Idle", 0)
    observe(api, plant.filler, "Starting", 10)
    observe(api, plant.filler, "Held", 40)
    late = observe(api, plant.filler, "Execute", 15, raw_code="6")  # a connector's backlog, sent late
    api.post(f"/api/v1/equipment/{plant.filler}/mode", {"mode": "Changeover", "occurred_at": at(30)})

    timeline = api.read(
        f"/api/v1/equipment/{plant.filler}/states",
        **{"from": at(5), "to": at(60), "min_position": late["position"] + 1},
    )

    assert [(s["start"], s["end"], s["value"]) for s in timeline["states"]] == [
        (at(5), at(10), "Idle"),
        (at(10), at(15), "Starting"),
        (at(15), at(40), "Execute"),
        (at(40), at(60), "Held"),
    ]
    assert [s["in_model"] for s in timeline["states"]] == [True, True, True, False]  # Execute -> Held skips Holding
    assert [(m["start"], m["value"]) for m in timeline["modes"]] == [(at(5), "Production"), (at(30), "Changeover")]


def test_a_command_packml_has_no_transition_for_is_409_naming_the_current_state(api: Api, plant: Plant) -> None:
    observe(api, plant.mixer, "Held", -1)

    refused = api.post(f"/api/v1/equipment/{plant.mixer}/state-commands", {"command": "Start"})
    unheld = api.post(f"/api/v1/equipment/{plant.mixer}/state-commands", {"command": "Unhold"})

    problem = assert_problem(refused, 409)
    assert problem["rule"] == "packml-transition"
    assert "is Held" in problem["detail"]
    assert unheld.status_code == 202, unheld.text
    assert unheld.json()["result"]["state"] == "Unholding"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-11-29T10:00:00Z", "to": "2026-11-29T09:00:00Z"}, "from"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "-37"}, "from"),
    ],
)
def test_a_bad_range_is_422_naming_the_field(api: Api, plant: Plant, query: dict[str, str], field: str) -> None:
    answer = api.get(f"/api/v1/equipment/{plant.filler}/states", **query)

    problem = assert_problem(answer, 422)
    assert [e["field"] for e in problem["errors"]] == [field]


def test_states_of_equipment_that_does_not_exist_are_404_and_an_unknown_state_is_422(api: Api, plant: Plant) -> None:
    missing = api.get("/api/v1/equipment/NO-SUCH-EQUIPMENT/states")
    unknown = api.post(f"/api/v1/equipment/{plant.filler}/observed-states", {"state": "Sleeping"})

    assert_problem(missing, 404)
    assert [e["field"] for e in assert_problem(unknown, 422)["errors"]] == ["state"]


def count(api: Api, code: str, **body: Any) -> dict[str, Any]:
    answer = api.post(f"/api/v1/equipment/{code}/counts", body)
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_counts_go_to_the_order_running_on_the_equipment_and_one_source_counts_per_order(
    api: Api, plant: Plant
) -> None:
    order = unique("WO")
    api.run(*plant.running_order(order))  # its routing mixes on the mixer
    count(api, plant.mixer, good=60, reject=2)
    count(api, plant.mixer, good=40, reject=1)
    count(api, plant.mixer, good=98, reject=2, source="operator")  # the operator's tally of the same run
    last = count(api, plant.filler, good=5)  # nothing runs on the filler

    mixed = api.read(f"/api/v1/equipment/{plant.mixer}/counts", min_position=last["position"])
    filled = api.read(f"/api/v1/equipment/{plant.filler}/counts", min_position=last["position"])

    assert mixed["orders"] == [
        {
            "order_number": order,
            "product_code": plant.syrup,
            "ideal_cycle_time_s": "0.5",
            "source": "machine",
            "good": 100,
            "reject": 3,
            "other_sources": {"operator": {"good": 98, "reject": 2}},
        }
    ]
    assert (mixed["good"], mixed["reject"]) == (100, 3)  # nothing counted twice
    assert [(o["order_number"], o["good"]) for o in filled["orders"]] == [(None, 5)]


def test_a_supervisor_reconciliation_counts_for_its_order_instead_of_the_machine(api: Api, plant: Plant) -> None:
    order = unique("WO")
    api.run(*plant.running_order(order))
    count(api, plant.mixer, good=60, reject=2)  # the counter missed a stretch
    answer = api.post(
        f"/api/v1/equipment/{plant.mixer}/reconciled-counts", {"order_number": order, "good": 95, "reject": 3}
    )
    no_order = api.post(f"/api/v1/equipment/{plant.mixer}/reconciled-counts", {"good": 95})
    sneaked = api.post(f"/api/v1/equipment/{plant.mixer}/counts", {"good": 1, "source": "reconciled"})

    mixed = api.read(f"/api/v1/equipment/{plant.mixer}/counts", min_position=answer.json()["position"])

    assert [(o["source"], o["good"], o["reject"], o["other_sources"]) for o in mixed["orders"]] == [
        ("reconciled", 95, 3, {"machine": {"good": 60, "reject": 2}})
    ]
    assert [e["field"] for e in assert_problem(no_order, 422)["errors"]] == ["order_number"]
    assert [e["field"] for e in assert_problem(sneaked, 422)["errors"]] == ["source"]  # only ReconcileCounts reconciles


def test_a_count_naming_its_order_counts_for_it_and_a_window_must_run_forward(api: Api, plant: Plant) -> None:
    order = unique("WO")
    api.run(plant.create_order(order))  # not started: only the count's own naming attributes it
    named = count(api, plant.filler, good=7, reject=0, source="operator", order_number=order)
    now = datetime.now(UTC)
    backwards = api.post(
        f"/api/v1/equipment/{plant.filler}/counts",
        {"good": 1, "since": at_time(now), "occurred_at": at_time(now - timedelta(minutes=1))},
    )

    counted = api.read(f"/api/v1/equipment/{plant.filler}/counts", min_position=named["position"])

    assert [(o["order_number"], o["source"], o["good"]) for o in counted["orders"]] == [(order, "operator", 7)]
    assert assert_problem(backwards, 409)["rule"] == "count-window"


def at_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_downtime_lists_each_stop_of_a_line_minor_stops_apart_and_only_in_planned_time(api: Api, plant: Plant) -> None:
    for state, minutes in (("Execute", 0), ("Suspended", 10), ("Execute", 11), ("Held", 20), ("Execute", 35)):
        observe(api, plant.filler, state, minutes)
    observe(api, plant.mixer, "Execute", 0)
    observe(api, plant.mixer, "Held", 40)
    api.post(f"/api/v1/equipment/{plant.mixer}/mode", {"mode": "Maintenance", "occurred_at": at(45)})
    last = observe(api, plant.mixer, "Stopped", 50)  # in maintenance: not planned time

    line = api.read("/api/v1/downtime", line=plant.line, min_position=last["position"], **{"from": at(0), "to": at(60)})
    unassigned = api.read(
        "/api/v1/downtime", line=plant.line, equipment=plant.filler, unassigned="true", **{"from": at(0), "to": at(60)}
    )
    no_line = api.get("/api/v1/downtime")
    elsewhere = api.get("/api/v1/downtime", line=plant.line, equipment=plant.area)

    assert [(s["equipment_code"], s["start"], s["minutes"], s["states"], s["minor"]) for s in line["stops"]] == [
        (plant.filler, at(10), 1, ["Suspended"], True),
        (plant.filler, at(20), 15, ["Held"], False),
        (plant.mixer, at(40), 5, ["Held"], False),
    ]
    assert (line["downtime_minutes"], line["minor_stops"], line["minor_stop_minutes"]) == (20, 1, 1)
    assert [s["start"] for s in unassigned["stops"]] == [at(20)]
    assert [e["field"] for e in assert_problem(no_line, 422)["errors"]] == ["line"]
    assert_problem(elsewhere, 404)


def test_oee_of_an_equipment_from_its_states_and_counts(api: Api, plant: Plant) -> None:
    order = unique("WO")
    api.run(plant.create_order(order))  # mixes at an ideal 0.5 s a litre on the mixer
    for state, minutes in (("Execute", 0), ("Held", 30), ("Execute", 40)):
        observe(api, plant.mixer, state, minutes)
    last = count(api, plant.mixer, good=5400, reject=60, order_number=order, occurred_at=at(50))

    figures = api.read(
        "/api/v1/oee",
        equipment=plant.mixer,
        bucket="hour",
        min_position=last["position"],
        **{"from": at(0), "to": at(60)},
    )
    year = api.get("/api/v1/oee", equipment=plant.mixer, bucket="hour", **{"from": at(-60 * 24 * 365), "to": at(0)})
    neither = api.get("/api/v1/oee", bucket="hour")

    (hour,) = figures["buckets"]
    assert (hour["pbt"], hour["adot"], hour["adet"], hour["apt"]) == (60, 10, 0, 50)
    assert (hour["pq"], hour["gq"], hour["sq"]) == (5460, 5400, 60)
    assert (hour["availability"], hour["performance"], hour["quality"], hour["oee"]) == (0.8333, 0.91, 0.989, 0.75)
    assert hour["losses"]["breakdowns"] == 10
    assert hour["losses"]["reduced_speed"] == 4.5
    assert len(year.json()["buckets"]) == 24 * 365  # a year of hours is one answer
    assert [e["field"] for e in assert_problem(neither, 422)["errors"]] == ["equipment"]
