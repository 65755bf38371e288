"""State commands: a machine's observed PackML state, a person's PackML command, the mode.

Each lands in the equipment's record of the day of its business time (`occurred_at`: the source's
timestamp for an observation), so a state change costs the same after years of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec

from application.commands import Code, Command
from application.handlers import Handles, registry
from application.unit_of_work import Scope
from domain.equipment import Equipment
from domain.equipment_day import EquipmentDay, day_key, day_of
from domain.packml import EquipmentMode, PackMLCommand, PackMLState

LOOK_BACK_DAYS = 7  # how far back a new day looks for the state the equipment was left in

RawCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class ObserveState(Command, frozen=True):
    """Records the PackML state a machine reports, at the source's time (`occurred_at`); a change the
    model has no transition for is recorded and flagged, never refused."""

    equipment_code: Code
    state: PackMLState
    raw_code: RawCode | None = None  # what the source sent, before its mapping to a state name


class CommandState(Command, frozen=True):
    """Asks the equipment to act (Start, Stop, Hold, ...); refused with 409 naming its current state
    when PackML has no such transition."""

    equipment_code: Code
    command: PackMLCommand


class SetMode(Command, frozen=True):
    """Sets what the equipment should be doing (Production, Maintenance, Changeover, NotScheduled,
    Manual) from `occurred_at`."""

    equipment_code: Code
    mode: EquipmentMode


class StateRecorded(msgspec.Struct, frozen=True):
    """The equipment, its day's record, and the state or mode now recorded."""

    equipment_code: str
    day: str
    state: str | None = None
    mode: str | None = None


def equipment_day(scope: Scope, equipment_code: str, moment: datetime | None = None) -> EquipmentDay:
    """The equipment's record of the day of `moment` (default: the command's business time), opened
    if nothing was recorded that day yet (in the state and mode the last recorded day within a week
    before it closed in)."""
    equipment = scope.get(Equipment, equipment_code)
    equipment.ensure_in_service()
    day = day_of(moment or scope.provenance.occurred_at)
    found = scope.find(EquipmentDay, day_key(equipment_code, day))
    if found is not None:
        return found
    state, mode = PackMLState.UNDEFINED, EquipmentMode.PRODUCTION
    for back in range(1, LOOK_BACK_DAYS + 1):
        before = scope.find(EquipmentDay, day_key(equipment_code, day - timedelta(days=back)))
        if before is not None:
            state, mode = before.closing_state, before.closing_mode
            break
    opened = EquipmentDay.open(
        equipment_code=equipment_code, day=day, state=state, mode=mode, provenance=scope.provenance
    )
    scope.add(opened)
    return opened


def observe_state(cmd: ObserveState, scope: Scope) -> StateRecorded:
    day = equipment_day(scope, cmd.equipment_code)
    day.observe(cmd.state, raw_code=cmd.raw_code, provenance=scope.provenance)
    return StateRecorded(cmd.equipment_code, day.day.isoformat(), state=str(cmd.state))


def command_state(cmd: CommandState, scope: Scope) -> StateRecorded:
    day = equipment_day(scope, cmd.equipment_code)
    acting = day.command(cmd.command, provenance=scope.provenance)
    return StateRecorded(cmd.equipment_code, day.day.isoformat(), state=str(acting))


def set_mode(cmd: SetMode, scope: Scope) -> StateRecorded:
    day = equipment_day(scope, cmd.equipment_code)
    day.set_mode(cmd.mode, provenance=scope.provenance)
    return StateRecorded(cmd.equipment_code, day.day.isoformat(), mode=str(cmd.mode))


HANDLERS = registry(
    Handles(ObserveState, observe_state, StateRecorded),
    Handles(CommandState, command_state, StateRecorded),
    Handles(SetMode, set_mode, StateRecorded),
)
