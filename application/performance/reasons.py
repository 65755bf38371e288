"""Reason commands: define an equipment class's downtime reason tree (and the equipment in the
class), give a stop a reason (again, to re-classify it), split a stop in two."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.commands import Code, Command, Name
from application.commands import Reason as Note
from application.handlers import Handles, registry
from application.performance.states import RawCode, equipment_day
from application.unit_of_work import Scope
from domain.equipment import Equipment
from domain.errors import ReasonTreeError
from domain.reason_tree import Reason, ReasonTree

Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One reason: Planned or not, its category, its code and name, and the machine fault codes
    that mean it."""

    code: Code
    name: Name
    category: Name
    planned: bool = False
    fault_codes: Annotated[list[RawCode], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)

    def as_reason(self) -> Reason:
        return Reason(self.code, self.name, self.category, self.planned, tuple(self.fault_codes))


class DefineReasonTree(Command, frozen=True):
    """Defines (or replaces, for reasons given from now on) the downtime reasons of an equipment
    class, and puts the listed equipment in the class."""

    equipment_class: Code
    reasons: Annotated[list[ReasonIn], msgspec.Meta(min_length=1, max_length=500)]
    equipment_codes: Annotated[list[Code], msgspec.Meta(max_length=500)] = msgspec.field(default_factory=list)
    micro_stop_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 120  # shorter stops are minor: no reason


class AssignStopReason(Command, frozen=True):
    """Gives the stop running at `at` (its start, as the downtime list shows it) a reason from the
    equipment's tree; a later reason re-classifies it, the earlier stays in the record."""

    equipment_code: Code
    at: Moment
    reason_code: Code
    note: Note | None = None


class SplitStop(Command, frozen=True):
    """Cuts the stop running at `at` in two there; each piece then takes a reason of its own."""

    equipment_code: Code
    at: Moment


class ReasonTreeDefined(msgspec.Struct, frozen=True):
    equipment_class: str
    reasons: str


class StopChanged(msgspec.Struct, frozen=True):
    equipment_code: str
    at: datetime
    reason_code: str | None = None


def define_reason_tree(cmd: DefineReasonTree, scope: Scope) -> ReasonTreeDefined:
    reasons = tuple(r.as_reason() for r in cmd.reasons)
    tree = scope.find(ReasonTree, cmd.equipment_class)
    if tree is None:
        scope.add(
            ReasonTree.define(
                equipment_class=cmd.equipment_class,
                reasons=reasons,
                micro_stop_s=cmd.micro_stop_seconds,
                provenance=scope.provenance,
            )
        )
    else:
        tree.redefine(reasons=reasons, micro_stop_s=cmd.micro_stop_seconds, provenance=scope.provenance)
    for code in cmd.equipment_codes:
        scope.get(Equipment, code).classify(cmd.equipment_class, provenance=scope.provenance)
    return ReasonTreeDefined(cmd.equipment_class, str(len(reasons)))


def assign_stop_reason(cmd: AssignStopReason, scope: Scope) -> StopChanged:
    equipment = scope.get(Equipment, cmd.equipment_code)
    if equipment.equipment_class is None:
        msg = f"equipment {cmd.equipment_code!r} is in no equipment class, so it has no reason tree"
        raise ReasonTreeError(msg)
    reason = scope.get(ReasonTree, equipment.equipment_class).reason(cmd.reason_code)
    day = equipment_day(scope, cmd.equipment_code, cmd.at)
    day.assign_reason(cmd.at, reason, note=cmd.note, provenance=scope.provenance)
    return StopChanged(cmd.equipment_code, cmd.at, cmd.reason_code)


def split_stop(cmd: SplitStop, scope: Scope) -> StopChanged:
    equipment_day(scope, cmd.equipment_code, cmd.at).split_stop(cmd.at, provenance=scope.provenance)
    return StopChanged(cmd.equipment_code, cmd.at)


HANDLERS = registry(
    Handles(DefineReasonTree, define_reason_tree, ReasonTreeDefined),
    Handles(AssignStopReason, assign_stop_reason, StopChanged),
    Handles(SplitStop, split_stop, StopChanged),
)
