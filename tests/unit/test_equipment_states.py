"""Equipment states: PackML's transition table, observations flagged (never refused) and placed by
source time, commands checked against the model, modes, and a record per equipment per day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.runtime import Runtime
from application.performance.states import CommandState, ObserveState, SetMode
from application.traceability.equipment import DecommissionEquipment
from domain.equipment_day import EquipmentDay, day_key
from domain.errors import EquipmentDecommissionedError, IllegalStateCommandError, NotFoundError
from domain.packml import COMMANDED, COMPLETES, EquipmentMode, PackMLCommand, PackMLState, follows
from tests.builders import T0, context, next_id, plant_commands, provenance
from tests.fakes import SteppingClock

S, C = PackMLState, PackMLCommand
FILLER = "FILL"  # the fixed plant's filler


@pytest.mark.parametrize(
    ("state", "command", "acting"),
    [
        (S.IDLE, C.START, S.STARTING),
        (S.EXECUTE, C.HOLD, S.HOLDING),
        (S.EXECUTE, C.SUSPEND, S.SUSPENDING),
        (S.HELD, C.UNHOLD, S.UNHOLDING),
        (S.SUSPENDED, C.UNSUSPEND, S.UNSUSPENDING),
        (S.STOPPED, C.RESET, S.RESETTING),
        (S.COMPLETE, C.RESET, S.RESETTING),
        (S.ABORTED, C.CLEAR, S.CLEARING),
        (S.EXECUTE, C.STOP, S.STOPPING),
        (S.HELD, C.ABORT, S.ABORTING),
    ],
)
def test_the_packml_table_takes_each_command_from_the_states_that_allow_it(
    state: PackMLState, command: PackMLCommand, acting: PackMLState
) -> None:
    assert COMMANDED[state, command] is acting


def test_stop_and_abort_are_refused_only_where_packml_says() -> None:
    assert {s for s in S if (s, C.STOP) not in COMMANDED} == {S.STOPPED, S.STOPPING, S.ABORTING, S.ABORTED, S.CLEARING}
    assert {s for s in S if (s, C.ABORT) not in COMMANDED} == {S.ABORTING, S.ABORTED}
    assert (S.EXECUTE, C.START) not in COMMANDED


def test_every_acting_state_ends_by_itself_in_a_wait_state() -> None:
    acting = set(COMMANDED.values()) | {S.COMPLETING}

    assert acting == set(COMPLETES)
    assert COMPLETES[S.STARTING] is S.EXECUTE
    assert COMPLETES[S.CLEARING] is S.STOPPED
    assert follows(S.EXECUTE, S.COMPLETING)
    assert not follows(S.IDLE, S.EXECUTE)  # Starting comes between
    assert follows(S.UNDEFINED, S.HELD)  # from an unknown state, anything


def opened(state: PackMLState = S.IDLE) -> EquipmentDay:
    return EquipmentDay.open(
        equipment_code=FILLER, day=T0.date(), state=state, mode=EquipmentMode.PRODUCTION, provenance=provenance()
    )


def test_an_observation_outside_the_model_is_recorded_and_flagged_never_refused() -> None:
    day = opened(S.IDLE)

    day.observe(S.EXECUTE, raw_code="6", provenance=provenance(T0 + timedelta(minutes=5)))

    observed = day.collect_events()[-1]
    assert isinstance(observed, EquipmentDay.StateObserved)
    assert (observed.state, observed.in_model, observed.raw_code) == (S.EXECUTE, False, "6")
    assert day.closing_state is S.EXECUTE


def test_a_late_observation_is_placed_by_its_source_time_and_judged_against_the_state_before_it() -> None:
    day = opened(S.IDLE)
    day.observe(S.HELD, raw_code=None, provenance=provenance(T0 + timedelta(minutes=30)))

    day.observe(S.STARTING, raw_code=None, provenance=provenance(T0 + timedelta(minutes=10)))  # arrives late

    late = day.collect_events()[-1]
    assert late.in_model  # Idle -> Starting, the state before it in time
    assert day.state_at(T0 + timedelta(minutes=20)) is S.STARTING
    assert day.closing_state is S.HELD  # the latest in time, not the latest recorded


def test_a_command_moves_the_equipment_into_its_acting_state_or_is_refused_naming_its_state() -> None:
    day = opened(S.IDLE)

    acting = day.command(C.START, provenance=provenance(T0 + timedelta(minutes=1)))
    with pytest.raises(IllegalStateCommandError, match="is Starting: it does not take the command Unhold"):
        day.command(C.UNHOLD, provenance=provenance(T0 + timedelta(minutes=2)))

    assert acting is S.STARTING
    assert day.closing_state is S.STARTING
    assert [type(e).__name__ for e in day.collect_events()] == ["Opened", "StateCommanded"]


def test_two_reports_of_the_same_instant_keep_the_order_they_were_recorded_in() -> None:
    day = opened(S.IDLE)
    at = provenance(T0 + timedelta(minutes=3))

    day.observe(S.STARTING, raw_code=None, provenance=at)
    day.observe(S.EXECUTE, raw_code=None, provenance=at)

    assert day.state_at(at.occurred_at) is S.EXECUTE


def send(runtime: Runtime, *commands: object) -> list[object]:
    return [runtime.bus.execute(command, context()).result for command in commands]  # type: ignore[arg-type]


def observe(state: PackMLState, at_minutes: float) -> ObserveState:
    return ObserveState(
        command_id=next_id(), equipment_code=FILLER, state=state, occurred_at=T0 + timedelta(minutes=at_minutes)
    )


def test_the_first_change_of_a_day_opens_its_record_in_the_state_and_mode_the_last_day_closed_in(
    memory_runtime: Runtime, clock: SteppingClock
) -> None:
    clock.current = T0 + timedelta(days=3)  # the reports below lie in the past
    send(memory_runtime, *plant_commands())
    send(
        memory_runtime,
        observe(S.EXECUTE, 0),
        SetMode(command_id=next_id(), equipment_code=FILLER, mode=EquipmentMode.CHANGEOVER, occurred_at=T0),
    )

    two_days_later = 2 * 24 * 60 + 5
    send(memory_runtime, observe(S.HELD, two_days_later))

    later_day = (T0 + timedelta(minutes=two_days_later)).date()
    record: EquipmentDay = memory_runtime.app.repository.get(EquipmentDay.create_id(day_key(FILLER, later_day)))
    opened_event = memory_runtime.app.history(record.id)[0]
    assert (opened_event.state, opened_event.mode) == (S.EXECUTE, EquipmentMode.CHANGEOVER)
    assert record.closing_state is S.HELD
    assert len(memory_runtime.app.history(record.id)) == 2  # the record holds that day only


def test_a_state_command_on_the_bus_answers_the_acting_state(memory_runtime: Runtime) -> None:
    send(memory_runtime, *plant_commands(), observe(S.IDLE, 0))

    (answer,) = send(
        memory_runtime,
        CommandState(
            command_id=next_id(), equipment_code=FILLER, command=C.START, occurred_at=T0 + timedelta(minutes=1)
        ),
    )

    assert answer.state == "Starting"  # type: ignore[attr-defined]
    assert answer.day == T0.date().isoformat()  # type: ignore[attr-defined]


def test_states_of_unknown_or_decommissioned_equipment_are_refused(memory_runtime: Runtime) -> None:
    send(memory_runtime, *plant_commands())
    with pytest.raises(NotFoundError):
        memory_runtime.bus.execute(
            ObserveState(command_id=next_id(), equipment_code="NO-SUCH", state=S.IDLE, occurred_at=T0), context()
        )
    send(memory_runtime, DecommissionEquipment(command_id=next_id(), code=FILLER, reason="scrapped"))

    with pytest.raises(EquipmentDecommissionedError):
        memory_runtime.bus.execute(observe(S.IDLE, 1), context())
