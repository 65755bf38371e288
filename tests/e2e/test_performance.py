"""The shift calendar, downtime reasons, the Pareto and line OEE through a real `mes serve` on both
stores.

A calendar changes the future only, and a machine's report may be at most five minutes ahead of
the server's clock, so the shifts here are two one-minute shifts starting a minute or two from now:
"A" then "B". On the filler: Execute, a one-minute stop across the change of shift (fault E-17,
then given a reason), Execute, a three-second minor stop, Execute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from application.performance.calendar import DefineShiftPattern, PlanDowntime, ShiftIn
from application.performance.counts import ReportCounts
from application.performance.reasons import AssignStopReason, DefineReasonTree, ReasonIn
from application.performance.states import ObserveState
from application.traceability.work_orders import OperationIn
from domain.packml import PackMLState
from tests.builders import Plant, unique
from tests.e2e.conftest import Api, assert_problem

S = PackMLState


def text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def shifts(api: Api, plant: Plant) -> datetime:
    """Two one-minute shifts on the plant's line from the next minute but one; their start."""
    start = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    clock = [(start + timedelta(minutes=m)).strftime("%H:%M") for m in range(3)]
    api.run(
        DefineShiftPattern(
            command_id=unique("cal"),
            calendar_code=plant.line,
            effective_from=start,
            shifts=[ShiftIn("A", clock[0], clock[1]), ShiftIn("B", clock[1], clock[2])],
            working_days=[1, 2, 3, 4, 5, 6, 7],
        ),
        DefineReasonTree(
            command_id=unique("tree"),
            equipment_class=unique("FILLER"),
            reasons=[
                ReasonIn("JAM", "Bottle jam", "Mechanical", fault_codes=["E-17"]),
                ReasonIn("CIP", "Cleaning in place", "Cleaning", planned=True),
            ],
            equipment_codes=[plant.filler],
            micro_stop_seconds=30,
        ),
    )
    return start


def run_the_shifts(api: Api, plant: Plant, start: datetime) -> tuple[str, dict[str, Any]]:
    """An order mixed and filled (the filler the slower, at 0.75 s a unit), the filler's states and
    counts over the two shifts and the mixer's; the order and the last answer."""
    order = unique("WO")
    create = plant.create_order(order)
    routing = [*create.routing, OperationIn(20, "Fill", plant.filler, Decimal("0.75"))]
    api.run(msgspec.structs.replace(create, routing=routing), *plant.running_order(order)[1:])

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    for code, changes in (
        (plant.filler, [(0, S.EXECUTE, None), (30, S.HELD, "E-17"), (90, S.EXECUTE, None), (105, S.SUSPENDED, None),
                        (108, S.EXECUTE, None)]),
        (plant.mixer, [(0, S.EXECUTE, None)]),
    ):  # fmt: skip
        for seconds, state, raw in changes:
            api.run(
                ObserveState(
                    command_id=unique("st"), equipment_code=code, state=state, raw_code=raw, occurred_at=at(seconds)
                )
            )
    return order, api.run(
        ReportCounts(command_id=unique("ct"), equipment_code=plant.filler, good=100, reject=4, occurred_at=at(119)),
        ReportCounts(command_id=unique("ct"), equipment_code=plant.mixer, good=200, occurred_at=at(119)),
    )


def test_a_stop_across_the_change_of_shift_is_split_there_and_takes_its_reason(
    api: Api, plant: Plant, shifts: datetime
) -> None:
    _, last = run_the_shifts(api, plant, shifts)
    span = {"from": text(shifts), "to": text(shifts + timedelta(minutes=2)), "min_position": last["position"]}

    before = api.read("/api/v1/downtime", line=plant.line, equipment=plant.filler, **span)
    given = api.run(
        AssignStopReason(
            command_id=unique("why"), equipment_code=plant.filler, at=shifts + timedelta(seconds=30), reason_code="CIP"
        )
    )
    after = api.read(
        "/api/v1/downtime", line=plant.line, equipment=plant.filler, **span | {"min_position": given["position"]}
    )
    unassigned = api.read("/api/v1/downtime", line=plant.line, unassigned="true", **span)
    pareto = api.read("/api/v1/downtime/pareto", line=plant.line, **span)
    by_category = api.read("/api/v1/downtime/pareto", line=plant.line, by="category", **span)

    assert [
        (s["start"], s["end"], s["shift"], s["minor"], s["reason_code"], s["explained_by"]) for s in before["stops"]
    ] == [
        (text(shifts + timedelta(seconds=30)), text(shifts + timedelta(seconds=60)), "A", False, "JAM", "fault code"),
        (text(shifts + timedelta(seconds=60)), text(shifts + timedelta(seconds=90)), "B", False, "JAM", "fault code"),
        (text(shifts + timedelta(seconds=105)), text(shifts + timedelta(seconds=108)), "B", True, None, None),
    ]
    assert [(s["shift"], s["reason_code"], s["explained_by"]) for s in after["stops"][:2]] == [
        ("A", "CIP", "operator"),
        ("B", "CIP", "operator"),
    ]
    assert (after["downtime_minutes"], after["minor_stops"], after["minor_stop_minutes"]) == (1, 1, 0.05)
    assert unassigned["stops"] == []  # the fault code explained it, then the operator
    assert [(r["key"], r["minutes"], r["stops"], r["planned"], r["share"]) for r in pareto["rows"]] == [
        ("CIP", 1, 1, True, 1)
    ]
    assert [(r["key"], r["name"]) for r in by_category["rows"]] == [("Cleaning", "Cleaning")]


def test_oee_by_shift_by_order_and_of_the_line_by_its_bottleneck(api: Api, plant: Plant, shifts: datetime) -> None:
    order, last = run_the_shifts(api, plant, shifts)
    span = {"from": text(shifts), "to": text(shifts + timedelta(minutes=3))}
    span["min_position"] = last["position"]

    by_shift = api.read("/api/v1/oee", equipment=plant.filler, bucket="shift", **span)
    by_order = api.read("/api/v1/oee", equipment=plant.filler, bucket="order", **span)
    whole = api.read("/api/v1/oee", equipment=plant.filler, **span)
    line = api.read("/api/v1/oee", line=plant.line, **span)
    calendar = api.read(f"/api/v1/equipment/{plant.filler}/calendar", **span)

    day = shifts.date().isoformat()
    assert [(b["name"], b["pot"], b["pbt"], b["adot"], b["adet"]) for b in by_shift["buckets"]] == [
        (f"A {day}", 1, 1, 0.5, 0),
        (f"B {day}", 1, 1, 0.5, 0.05),
    ]
    # The minute after the shifts is not planned: POT and PBT are the shifts' two minutes.
    (figures,) = whole["buckets"]
    assert (figures["pot"], figures["pbt"], figures["adot"], figures["adet"], figures["apt"]) == (2, 2, 1, 0.05, 0.95)
    assert (figures["gq"], figures["sq"], figures["breakdowns"], figures["mttr_minutes"]) == (100, 4, 1, 1)
    assert figures["availability"] == 0.5
    assert figures["performance"] == pytest.approx(104 * 0.75 / 60, abs=1e-4)  # 1.3: faster than ideal
    assert figures["oee"] == pytest.approx(100 * 0.75 / 60 / 2, abs=1e-4)
    assert [(b["name"], b["oee"]) for b in by_order["buckets"]] == [(order, figures["oee"])]
    assert line["bottleneck"] == plant.filler  # 0.75 s a unit against the mixer's 0.5 s
    assert line["buckets"][0]["oee"] == figures["oee"]
    assert {e["equipment_code"] for e in line["equipment"]} == {plant.mixer, plant.filler}
    assert [(s["name"], s["start"]) for s in calendar["shifts"]] == [
        ("A", text(shifts)),
        ("B", text(shifts + timedelta(minutes=1))),
    ]


def test_the_calendar_refuses_the_past_and_bad_input_and_oee_by_shift_needs_a_calendar(api: Api, plant: Plant) -> None:
    past = api.send(
        PlanDowntime(
            command_id=unique("pd"),
            calendar_code=plant.line,
            start=datetime.now(UTC) - timedelta(hours=1),
            end=datetime.now(UTC) + timedelta(hours=1),
            kind="Maintenance",
        )
    )
    bad_day = api.post(
        f"/api/v1/shift-calendars/{plant.line}/patterns",
        {
            "effective_from": text(datetime.now(UTC) + timedelta(days=1)),
            "shifts": [{"name": "A", "start": "06:00", "end": "14:00"}],
            "working_days": [8],
        },
    )
    bad_time = api.post(
        f"/api/v1/shift-calendars/{plant.line}/patterns",
        {
            "effective_from": text(datetime.now(UTC) + timedelta(days=1)),
            "shifts": [{"name": "A", "start": "6am", "end": "14:00"}],
            "working_days": [1],
        },
    )
    no_calendar = api.get("/api/v1/oee", equipment=plant.mixer, bucket="shift", min_position=api.position())
    no_tree = api.get("/api/v1/reason-trees/NO-SUCH-CLASS")

    assert assert_problem(past, 409)["rule"] == "shift-calendar"
    assert [e["field"] for e in assert_problem(bad_day, 422)["errors"]] == ["working_days[0]"]
    assert [e["field"] for e in assert_problem(bad_time, 422)["errors"]] == ["shifts[0].start"]
    assert "shift calendar" in assert_problem(no_calendar, 404)["detail"]
    assert_problem(no_tree, 404)
