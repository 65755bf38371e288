"""PackML (ISA-TR88.00.02): the states a machine is in, the commands that move it, and the modes
that decide whether its time counts toward OEE.

States are stored by name: numeric codes differ between sources (TR88 Idle = 4, OPC 30060 Idle = 2),
so each connector maps its raw codes to these names.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class PackMLState(StrEnum):
    """What a machine is doing."""

    UNDEFINED = "Undefined"
    CLEARING = "Clearing"
    STOPPED = "Stopped"
    STARTING = "Starting"
    IDLE = "Idle"
    SUSPENDED = "Suspended"
    EXECUTE = "Execute"
    STOPPING = "Stopping"
    ABORTING = "Aborting"
    ABORTED = "Aborted"
    HOLDING = "Holding"
    HELD = "Held"
    UNHOLDING = "Unholding"
    SUSPENDING = "Suspending"
    UNSUSPENDING = "Unsuspending"
    RESETTING = "Resetting"
    COMPLETING = "Completing"
    COMPLETE = "Complete"


class PackMLCommand(StrEnum):
    """What a person (or a supervisory system) asks a machine to do."""

    RESET = "Reset"
    START = "Start"
    STOP = "Stop"
    HOLD = "Hold"
    UNHOLD = "Unhold"
    SUSPEND = "Suspend"
    UNSUSPEND = "Unsuspend"
    ABORT = "Abort"
    CLEAR = "Clear"


class EquipmentMode(StrEnum):
    """What a machine should be doing: Production time counts toward OEE, the others do not."""

    PRODUCTION = "Production"
    MAINTENANCE = "Maintenance"
    CHANGEOVER = "Changeover"
    NOT_SCHEDULED = "NotScheduled"
    MANUAL = "Manual"


class CountSource(StrEnum):
    """Where a count comes from: a machine's counters, an operator's report, or a supervisor's
    reconciliation of an order's counts. Per order and equipment one of them is authoritative (the
    first of AUTHORITY there is any of), so nothing is counted twice."""

    MACHINE = "machine"
    OPERATOR = "operator"
    RECONCILED = "reconciled"


AUTHORITY = (CountSource.RECONCILED, CountSource.MACHINE, CountSource.OPERATOR)


def authoritative(sources: Iterable[str]) -> str:
    """Of the sources an order's counts came from, the one that counts."""
    present = set(sources)
    return next((str(s) for s in AUTHORITY if s in present), str(CountSource.OPERATOR))


S, C = PackMLState, PackMLCommand
_NOT_STOPPABLE = {S.STOPPED, S.STOPPING, S.ABORTING, S.ABORTED, S.CLEARING}
_NOT_ABORTABLE = {S.ABORTING, S.ABORTED}

COMMANDED: dict[tuple[PackMLState, PackMLCommand], PackMLState] = {
    (S.IDLE, C.START): S.STARTING,
    (S.EXECUTE, C.HOLD): S.HOLDING,
    (S.SUSPENDED, C.HOLD): S.HOLDING,
    (S.EXECUTE, C.SUSPEND): S.SUSPENDING,
    (S.HELD, C.UNHOLD): S.UNHOLDING,
    (S.SUSPENDED, C.UNSUSPEND): S.UNSUSPENDING,
    (S.STOPPED, C.RESET): S.RESETTING,
    (S.COMPLETE, C.RESET): S.RESETTING,
    (S.ABORTED, C.CLEAR): S.CLEARING,
    **{(state, C.STOP): S.STOPPING for state in S if state not in _NOT_STOPPABLE},
    **{(state, C.ABORT): S.ABORTING for state in S if state not in _NOT_ABORTABLE},
}
"""State + command -> the acting state the command starts."""

COMPLETES: dict[PackMLState, PackMLState] = {
    S.STARTING: S.EXECUTE,
    S.UNHOLDING: S.EXECUTE,
    S.UNSUSPENDING: S.EXECUTE,
    S.HOLDING: S.HELD,
    S.SUSPENDING: S.SUSPENDED,
    S.COMPLETING: S.COMPLETE,
    S.RESETTING: S.IDLE,
    S.STOPPING: S.STOPPED,
    S.ABORTING: S.ABORTED,
    S.CLEARING: S.STOPPED,
}
"""Acting states end by themselves, in these wait states."""


def follows(before: PackMLState, after: PackMLState) -> bool:
    """Whether a machine may go from `before` to `after` in the PackML model (by a command, by an
    acting state completing, or Execute finishing its job); Undefined goes anywhere."""
    if before is S.UNDEFINED or before == after:
        return True
    if COMPLETES.get(before) == after or (before is S.EXECUTE and after is S.COMPLETING):
        return True
    return any(target == after for (state, _), target in COMMANDED.items() if state is before)
