"""Command routes: decode the body, add the path's keys and the Idempotency-Key, send, answer.

Every command route has the same shape, so each capability declares its routes as `CommandRoute`s
beside its queries (`api/traceability/lots.py`, ...) and `command_handler` builds them: a handler
stays four lines of plumbing, and the rules stay in the domain.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import HeaderParameter, JSONBody

from api.caller import caller_of
from api.problems import error_responses
from api.schemas import CommandAccepted, body_of
from api.validation import KeyPath, command_body_check
from application.bus import CommandBus, CommandContext, CommandResult
from application.commands import COMMAND_ID_PATTERN, Command
from domain.values import Source

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=128,
        pattern=COMMAND_ID_PATTERN,
        description="The command's id (visible ASCII): a repeat with the same key and body returns the first answer "
        "and records nothing; the same key with another body is refused.",
    ),
]


@dataclass(frozen=True)
class Dispatch:
    """How command routes send: through the bus, as the principal the request acts as.

    One dependency, not two: litestar resolves several in a task group per request, which cost
    the write path a tenth of its throughput."""

    bus: CommandBus

    async def send(self, command: Command, request: Request[Any, Any, Any]) -> CommandResult:
        """Sends as the principal the access guard established for the request."""
        account = caller_of(request).account
        context = CommandContext(actor=account.actor, source=Source.API, roles=account.roles)
        return await self.bus.execute_async(command, context)


@dataclass(frozen=True)
class CommandRoute:
    """A command's route: its path (under /api/v1), the command, how the docs present it, and, for
    a command that creates a resource, the resource's URL built from the result's fields."""

    path: str
    command: type[Command]
    summary: str
    tag: str
    created: str | None = None  # the new resource's URL, from the result's fields
    path_fields: tuple[str, ...] = ()


def command_handler(route: CommandRoute) -> HTTPRouteHandler:
    """Builds the litestar handler of one command route, typed for the OpenAPI document."""
    body_type = body_of(route.command, f"{route.command.__name__}Request", omit=route.path_fields)
    status = 201 if route.created else 202
    json_body: Any = JSONBody  # parametrised below with a type made at run time

    async def handler(
        request: Request[Any, Any, Any], data: Any, dispatch: Dispatch, idempotency_key: str | None = None, **path: Any
    ) -> Response[Any]:
        fields: dict[str, Any] = {} if data is None else {f: getattr(data, f) for f in data.__struct_fields__}
        command = route.command(command_id=idempotency_key or str(uuid.uuid4()), **fields, **path)
        outcome = await dispatch.send(command, request)
        result = {k: str(v) for k, v in msgspec.to_builtins(outcome.result).items() if v is not None}
        resource = route.created.format(**result) if route.created else None
        body = CommandAccepted(outcome.command_id, outcome.position, outcome.replayed, resource, result)
        headers = {"Location": resource} if resource else {}
        if outcome.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            content=msgspec.json.encode(body), status_code=status, headers=headers, media_type="application/json"
        )

    params = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request[Any, Any, Any]),
        # A command whose fields all have defaults (release, start, ...) may come without a body.
        inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, annotation=json_body[body_type])
        if any(f.required for f in msgspec.structs.fields(body_type))
        else inspect.Parameter(
            "data", inspect.Parameter.KEYWORD_ONLY, annotation=json_body[body_type | None], default=None
        ),
        inspect.Parameter("dispatch", inspect.Parameter.KEYWORD_ONLY, annotation=NamedDependency[Dispatch]),
        inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyKey, default=None),
        *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=KeyPath) for name in route.path_fields),
    ]
    handler.__signature__ = inspect.Signature(params, return_annotation=Response[CommandAccepted])  # type: ignore[attr-defined]
    handler.__annotations__ = {p.name: p.annotation for p in params} | {"return": Response[CommandAccepted]}
    handler.__name__ = handler.__qualname__ = _snake(route.command.__name__)
    return post(
        route.path,
        summary=route.summary,
        description=(route.command.__doc__ or route.summary).strip(),
        tags=[route.tag],
        status_code=status,
        responses=error_responses(),
        operation_id=handler.__name__,
        before_request=command_body_check(route.command, route.path_fields, body_type),
    )(handler)


def _snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name).lstrip("_")


def command_handlers(routes: Iterable[CommandRoute]) -> list[HTTPRouteHandler]:
    return [command_handler(route) for route in routes]
