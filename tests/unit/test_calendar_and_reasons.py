"""Calendar and reason commands on the bus: a calendar changes the future only (whatever business
time the command carries), a reason comes from the equipment's class's tree or is refused naming
the reasons there are, and only a stop takes a reason or a split."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import pytest

from api.runtime import Runtime
from application.performance.calendar import DefineShiftPattern, MarkNonWorkingDay, PlanDowntime, ShiftIn
from application.performance.reasons import AssignStopReason, DefineReasonTree, ReasonIn, SplitStop
from application.performance.states import ObserveState
from domain.equipment import Equipment
from domain.equipment_day import EquipmentDay, day_key
from domain.errors import CalendarError, NotFoundError, ReasonTreeError
from domain.packml import PackMLState
from domain.shift_calendar import ShiftCalendar
from tests.builders import FIXED, T0, context, next_id, plant_commands
from tests.fakes import SteppingClock

REASONS = [
    ReasonIn("JAM", "Bottle jam", "Mechanical", fault_codes=["E-17"]),
    ReasonIn("CIP", "Cleaning in place", "Cleaning", planned=True),
]


def send(runtime: Runtime, *commands: object) -> list[object]:
    return [runtime.bus.execute(command, context()).result for command in commands]  # type: ignore[arg-type]


def pattern(effective_minutes: float, **more: object) -> DefineShiftPattern:
    return DefineShiftPattern(
        command_id=next_id(),
        calendar_code=FIXED.line,
        effective_from=T0 + timedelta(minutes=effective_minutes),
        shifts=[ShiftIn("Early", "06:00", "14:00"), ShiftIn("Late", "14:00", "22:00")],
        working_days=[1, 2, 3, 4, 5],
        **more,  # type: ignore[arg-type]
    )


def test_a_calendar_change_back_dated_by_its_business_time_is_still_refused(
    memory_runtime: Runtime, clock: SteppingClock
) -> None:
    send(memory_runtime, *plant_commands())
    clock.current = T0 + timedelta(hours=1)

    with pytest.raises(CalendarError, match="in the past"):
        send(memory_runtime, pattern(30, occurred_at=T0))
    with pytest.raises(CalendarError, match="in the past"):
        send(
            memory_runtime,
            PlanDowntime(
                command_id=next_id(),
                calendar_code=FIXED.line,
                start=T0,
                end=T0 + timedelta(hours=2),
                kind="Maintenance",
            ),
        )
    send(
        memory_runtime,
        pattern(120),
        MarkNonWorkingDay(command_id=next_id(), calendar_code=FIXED.line, day=date(2026, 12, 25), name="Christmas"),
    )

    calendar = memory_runtime.app.repository.get(ShiftCalendar.create_id(FIXED.line))
    assert [type(e).__name__ for e in memory_runtime.app.history(calendar.id)] == [
        "Started",
        "PatternDefined",
        "NonWorkingDayMarked",
    ]


def test_a_calendar_needs_equipment_that_exists(memory_runtime: Runtime) -> None:
    send(memory_runtime, *plant_commands())

    with pytest.raises(NotFoundError, match="'NO-SUCH' does not exist"):
        send(memory_runtime, msgspec.structs.replace(pattern(120), calendar_code="NO-SUCH"))

    assert ShiftCalendar.create_id("NO-SUCH") not in memory_runtime.app.repository


def test_reasons_come_from_the_class_tree_and_a_re_classification_keeps_the_first(
    memory_runtime: Runtime, clock: SteppingClock
) -> None:
    clock.current = T0 + timedelta(hours=2)
    send(memory_runtime, *plant_commands())
    send(
        memory_runtime,
        ObserveState(command_id=next_id(), equipment_code=FIXED.filler, state=PackMLState.EXECUTE, occurred_at=T0),
        ObserveState(
            command_id=next_id(),
            equipment_code=FIXED.filler,
            state=PackMLState.HELD,
            occurred_at=T0 + timedelta(minutes=10),
        ),
    )
    stop = T0 + timedelta(minutes=10)

    with pytest.raises(ReasonTreeError, match="in no equipment class"):
        send(
            memory_runtime,
            AssignStopReason(command_id=next_id(), equipment_code=FIXED.filler, at=stop, reason_code="JAM"),
        )
    send(
        memory_runtime,
        DefineReasonTree(
            command_id=next_id(), equipment_class="FILLER", reasons=REASONS, equipment_codes=[FIXED.filler]
        ),
    )
    with pytest.raises(ReasonTreeError, match=r"has no reason 'GHOST' \(it has CIP, JAM\)"):
        send(
            memory_runtime,
            AssignStopReason(command_id=next_id(), equipment_code=FIXED.filler, at=stop, reason_code="GHOST"),
        )
    with pytest.raises(ReasonTreeError, match="was in Execute"):
        send(
            memory_runtime,
            AssignStopReason(command_id=next_id(), equipment_code=FIXED.filler, at=T0, reason_code="JAM"),
        )
    send(
        memory_runtime,
        AssignStopReason(command_id=next_id(), equipment_code=FIXED.filler, at=stop, reason_code="CIP"),
        AssignStopReason(command_id=next_id(), equipment_code=FIXED.filler, at=stop, reason_code="JAM", note="a jam"),
        SplitStop(command_id=next_id(), equipment_code=FIXED.filler, at=stop + timedelta(minutes=5)),
    )

    day = memory_runtime.app.repository.get(EquipmentDay.create_id(day_key(FIXED.filler, T0.date())))
    given = [e for e in memory_runtime.app.history(day.id) if isinstance(e, EquipmentDay.StopReasonAssigned)]
    assert [(e.reason.code, e.note) for e in given] == [("CIP", None), ("JAM", "a jam")]  # both kept
    filler = memory_runtime.app.repository.get(Equipment.create_id(FIXED.filler))
    assert filler.equipment_class == "FILLER"
