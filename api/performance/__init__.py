"""Performance over HTTP: what each machine is doing (PackML states and modes), when it is planned
to run, why it stopped, what it made, and its OEE."""

from __future__ import annotations

from api.capability import Capability
from api.operations import API_PATH
from api.performance import calendar, counts, downtime, oee, states
from application.access.policy import READ
from application.performance import COMMAND_ROLES, HANDLERS
from projections.performance import PROJECTIONS

PERMISSIONS = {
    f"GET {API_PATH}/equipment/{{equipment_code}}/states": READ,
    f"GET {API_PATH}/equipment/{{equipment_code}}/counts": READ,
    f"GET {API_PATH}/downtime": READ,
    f"GET {API_PATH}/downtime/pareto": READ,
    f"GET {API_PATH}/oee": READ,
    f"GET {API_PATH}/equipment/{{equipment_code}}/calendar": READ,
    f"GET {API_PATH}/reason-trees/{{equipment_class}}": READ,
}

CAPABILITY = Capability(
    name="performance",
    handlers=HANDLERS,
    command_routes=(*states.ROUTES, *counts.ROUTES, *calendar.ROUTES),
    query_routes=(
        states.equipment_states,
        counts.equipment_counts,
        downtime.downtime,
        downtime.downtime_pareto,
        oee.oee_route,
        calendar.equipment_calendar,
        calendar.get_reason_tree,
    ),
    projections=PROJECTIONS,
    tags=(states.TAG,),
    command_roles=COMMAND_ROLES,
    permissions=PERMISSIONS,
)
