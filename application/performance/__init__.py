"""Performance: what each machine is doing (PackML state and mode), when it is planned to run (the
shift calendar), why it stopped (reasons), what it made, and how well the line runs (OEE).

`HANDLERS` is the capability's; `COMMAND_ROLES` says who may send each command.
"""

from __future__ import annotations

from application.access.policy import CommandRoles, roles
from application.handlers import join
from application.performance import calendar, counts, reasons, states
from application.performance.calendar import DefineShiftPattern, MarkNonWorkingDay, PlanDowntime
from application.performance.counts import ReconcileCounts, ReportCounts
from application.performance.reasons import AssignStopReason, DefineReasonTree, SplitStop
from application.performance.states import CommandState, ObserveState, SetMode
from domain.values import Role

HANDLERS = join([states.HANDLERS, counts.HANDLERS, calendar.HANDLERS, reasons.HANDLERS])

COMMAND_ROLES: CommandRoles = {
    # What a machine says it is doing: its connector (integration), or a person reporting for it.
    ObserveState: roles(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR, Role.MAINTENANCE),
    CommandState: roles(Role.OPERATOR, Role.SUPERVISOR, Role.MAINTENANCE),
    # The mode decides whether time counts toward OEE: the supervisor's and maintenance's call.
    SetMode: roles(Role.SUPERVISOR, Role.MAINTENANCE, Role.INTEGRATION),
    ReportCounts: roles(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR),
    ReconcileCounts: roles(Role.SUPERVISOR),  # what counts for an order, over the machine's
    # When the line is planned to run: planning's and the supervisor's.
    DefineShiftPattern: roles(Role.PLANNER, Role.SUPERVISOR),
    PlanDowntime: roles(Role.PLANNER, Role.SUPERVISOR, Role.MAINTENANCE),
    MarkNonWorkingDay: roles(Role.PLANNER, Role.SUPERVISOR),
    # The reason tree is the plant's vocabulary for losses; the floor explains each stop with it.
    DefineReasonTree: roles(Role.SUPERVISOR, Role.MAINTENANCE),
    AssignStopReason: roles(Role.OPERATOR, Role.SUPERVISOR, Role.MAINTENANCE),
    SplitStop: roles(Role.OPERATOR, Role.SUPERVISOR, Role.MAINTENANCE),
}
