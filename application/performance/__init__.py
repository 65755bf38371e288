"""Performance: what each machine is doing (PackML state and mode), and, as the capability grows,
why it stopped, what it made, and how well the line runs (OEE).

`HANDLERS` is the capability's; `COMMAND_ROLES` says who may send each command.
"""

from __future__ import annotations

from application.access.policy import CommandRoles, roles
from application.handlers import join
from application.performance import counts, states
from application.performance.counts import ReportCounts
from application.performance.states import CommandState, ObserveState, SetMode
from domain.values import Role

HANDLERS = join([states.HANDLERS, counts.HANDLERS])

COMMAND_ROLES: CommandRoles = {
    # What a machine says it is doing: its connector (integration), or a person reporting for it.
    ObserveState: roles(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR, Role.MAINTENANCE),
    CommandState: roles(Role.OPERATOR, Role.SUPERVISOR, Role.MAINTENANCE),
    # The mode decides whether time counts toward OEE: the supervisor's and maintenance's call.
    SetMode: roles(Role.SUPERVISOR, Role.MAINTENANCE, Role.INTEGRATION),
    ReportCounts: roles(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR),
}
