"""`OPTIONS` answers listing every method of a path.

litestar answers OPTIONS from the first route registered for a path: where commands (POST) and
queries (GET) of one path come from different registrations (`/lots`), it listed only the first's
methods. One handler registered first for every path asks the application instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import HttpMethod, Request, Response, route
from litestar.handlers import HTTPRouteHandler


def options_handler(paths: Iterable[str]) -> HTTPRouteHandler:
    """An OPTIONS route for these paths (register it before the paths' other routes)."""

    @route(sorted(set(paths)), http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False)
    def options(request: Request[Any, Any, Any]) -> Response[None]:
        methods = request.app.route_handler_method_map.get(request.scope["path_template"], {})
        return Response(None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})

    return options


def paths_of(handlers: Iterable[Any]) -> set[str]:
    """The paths of route handlers and of the handlers of controller classes, relative to their router."""
    found: set[str] = set()
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler):
            found |= handler.paths
        elif isinstance(handler, type):
            base = getattr(handler, "path", "/").rstrip("/")
            for member in vars(handler).values():
                if isinstance(member, HTTPRouteHandler):
                    found |= {(base + path).rstrip("/") or "/" for path in member.paths}
    return found
