"""The principal a request acts as, as the access guard established it."""

from __future__ import annotations

from typing import Any

from litestar import Request

from application.access.authentication import Caller

CALLER = "chronicle.caller"


def caller_of(request: Request[Any, Any, Any]) -> Caller:
    """The principal the guard established for this request."""
    caller: Caller = request.state[CALLER]
    return caller
