"""The permission of every route, in one table: each capability declares its routes' permissions
beside its route tables (command routes take their command's roles); the guard refuses any route
the table has no permission for. `docs/access.md` is generated from it (`python -m api.access.permissions`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping

from litestar import Litestar

from api.capability import Capability
from api.operations import API_PATH, DOCS_PATH
from application.access.policy import PUBLIC, CommandRoles, Permission, command_permission
from domain.values import Role

OPERATIONS: Mapping[str, Permission] = {
    "GET /": PUBLIC,
    f"GET {API_PATH}": PUBLIC,
    # Liveness and readiness answer probes and load balancers, which carry no credentials.
    f"GET {API_PATH}/health": PUBLIC,
    f"GET {API_PATH}/ready": PUBLIC,
}
_TYPED = re.compile(r"\{(\w+):\w+\}")
NOT_IN_TABLE = ("OPTIONS", "HEAD")  # OPTIONS lists methods (as 405 does); HEAD takes its GET's permission


def route_key(method: str, path: str) -> str:
    """How the table names a route: `POST /api/v1/lots/{lot_number}`."""
    return method + " " + _TYPED.sub(r"{\1}", path)


def declared(capabilities: Iterable[Capability], command_roles: CommandRoles) -> dict[str, Permission]:
    """Every permission the capabilities declare, by route."""
    table = dict(OPERATIONS)
    for capability in capabilities:
        table |= capability.permissions
        for route in capability.command_routes:
            table[route_key("POST", API_PATH + route.path)] = command_permission(route.command, command_roles)
    return table


def permission_table(app: Litestar, table: Mapping[str, Permission]) -> dict[str, Permission | None]:
    """Each route the app serves and its permission (None: undeclared, so refused). The
    documentation's pages are public: they describe the API and hold no plant data."""
    routes: dict[str, Permission | None] = {}
    for route in app.routes:
        for method in sorted(getattr(route, "methods", ())):
            if method in NOT_IN_TABLE:
                continue
            key = route_key(method, route.path)
            routes[key] = PUBLIC if route.path.startswith(DOCS_PATH) else table.get(key)
    return routes


def access_markdown(routes: Mapping[str, Permission | None]) -> str:
    """The route x role table of docs/access.md."""
    roles = list(Role)
    lines = [
        "# Access: which role may call which route",
        "",
        "Generated from the permission table (`api/access/permissions.py`) by",
        "`python -m api.access.permissions > docs/access.md`; a test checks it is current.",
        "",
        "- **public**: no credentials. Every other route answers 401 (with `WWW-Authenticate`) without",
        "  them, and 403 problem+json to a role not ticked.",
        "- A person signs in at `POST /api/v1/auth/login`; a machine sends its API key. Both go in",
        "  `Authorization: Bearer ...`.",
        "- Commands are checked again by the command bus, with the same table, whatever way they arrive.",
        "- The documentation pages under `/api/v1/docs` are public.",
        "",
        "| Route | Permission | " + " | ".join(roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for key in sorted(k for k in routes if not k.split(" ", 1)[1].startswith(DOCS_PATH)):
        permission = routes[key]
        name = "**undeclared: refused**" if permission is None else permission.name
        marks = [
            "public" if permission and permission.public else ("✓" if permission and role in permission.roles else "")
            for role in roles
        ]
        lines.append(f"| `{key}` | {name} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Prints docs/access.md, for the app every capability makes (no store is opened)."""
    from api.app import route_permissions  # noqa: PLC0415

    sys.stdout.write(access_markdown(route_permissions()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
