"""What a capability brings to the composition root: its handlers, routes and read models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from api.command_routes import CommandRoute
from api.operations import Link
from application.access.policy import CommandRoles, Permission
from application.handlers import HandlerRegistry
from projections.runner import ReadModelProjection


@dataclass(frozen=True)
class Capability:
    """One capability (traceability, access, performance, ...), as its own modules export it."""

    name: str
    handlers: HandlerRegistry
    command_routes: Sequence[CommandRoute]
    query_routes: Sequence[Any]  # litestar controllers and route handlers
    projections: Sequence[type[ReadModelProjection]]
    tags: Sequence[str] = ()  # the OpenAPI tags of its routes, in the order the docs show them
    parts: Sequence[Link] = ()  # its places in the API, for the front page
    command_roles: CommandRoles = field(default_factory=dict)  # who may send each of its commands
    # The permission of each of its other routes ("GET /api/v1/lots"): a route missing here is refused.
    permissions: Mapping[str, Permission] = field(default_factory=dict)
