"""Access over HTTP and the CLI: the first slice has no routes yet (sign-in and the permission guard
come with them); principals are managed with `mes users`."""

from __future__ import annotations

from api.capability import Capability
from application.access import HANDLERS

CAPABILITY = Capability(name="access", handlers=HANDLERS, command_routes=(), query_routes=(), projections=())
