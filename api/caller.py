"""The principal a request acts as, as the access guard established it."""

from __future__ import annotations

from typing import Any

from litestar import Request

from application.access.authentication import Caller

CALLER = "chronicle.caller"


def caller_of(request: Request[Any, Any, Any]) -> Caller:
    """The principal the guard established for this request (the benchmark's baseline, without a
    guard, acts as one configured caller)."""
    caller: Caller | None = request.state.get(CALLER) or request.app.state.get("unguarded_caller")
    if caller is None:  # a route the guard let through as public does not act as anyone
        msg = "this route acts as no one"
        raise RuntimeError(msg)
    return caller
