"""The capabilities this Chronicle is made of; the composition root joins what each brings.

A new capability arrives as new modules in each layer (`application/<name>/`, `api/<name>/`,
`projections/<name>/`) and one line here.
"""

from __future__ import annotations

from api.access import CAPABILITY as ACCESS
from api.capability import Capability
from api.command_routes import CommandRoute
from api.performance import CAPABILITY as PERFORMANCE
from api.traceability import CAPABILITY as TRACEABILITY
from application.access.policy import CommandRoles
from application.handlers import HandlerRegistry, join
from projections.runner import ReadModelProjection

CAPABILITIES: tuple[Capability, ...] = (TRACEABILITY, PERFORMANCE, ACCESS)

HANDLERS: HandlerRegistry = join(c.handlers for c in CAPABILITIES)
COMMAND_ROLES: CommandRoles = {command: roles for c in CAPABILITIES for command, roles in c.command_roles.items()}
COMMAND_ROUTES: tuple[CommandRoute, ...] = tuple(r for c in CAPABILITIES for r in c.command_routes)
PROJECTIONS: tuple[type[ReadModelProjection], ...] = tuple(p for c in CAPABILITIES for p in c.projections)
PROJECTIONS_BY_NAME = {p.name: p for p in PROJECTIONS}
