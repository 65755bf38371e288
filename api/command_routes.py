"""Command routes: decode the body, add the path's keys and the Idempotency-Key, send, answer.

Every command route has the same shape, so each is declared once in `ROUTES` and built by
`command_handler`: a handler stays four lines of plumbing, and the rules stay in the domain.
"""

from __future__ import annotations

import inspect
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Response, post
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.params import HeaderParameter

from api.problems import error_responses
from api.schemas import CommandAccepted, body_of
from api.validation import KeyPath, command_body_check
from application import commands as c
from application.bus import CommandBus, CommandContext
from application.commands import COMMAND_ID_PATTERN
from domain.values import Actor, Source

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
class CommandRoute:
    path: str
    command: type[c.Command]
    summary: str
    tag: str
    created: str | None = None  # the new resource's URL, from the result's fields
    path_fields: tuple[str, ...] = ()


ROUTES = (
    CommandRoute(
        "/equipment",
        c.RegisterEquipment,
        "Register equipment under its ISA-95 parent",
        "Equipment",
        created="/api/v1/equipment/{code}",
    ),
    CommandRoute(
        "/equipment/{code:str}/decommission",
        c.DecommissionEquipment,
        "Decommission equipment",
        "Equipment",
        path_fields=("code",),
    ),
    CommandRoute(
        "/materials",
        c.DefineMaterial,
        "Define a material with its base unit",
        "Materials",
        created="/api/v1/materials/{code}",
    ),
    CommandRoute("/lots", c.ReceiveLot, "Receive a supplier lot", "Lots", created="/api/v1/lots/{lot_number}"),
    CommandRoute(
        "/lots/merge",
        c.MergeLots,
        "Merge whole lots of one material into a new lot",
        "Lots",
        created="/api/v1/lots/{lot_number}",
    ),
    CommandRoute(
        "/lots/{lot_number:str}/split",
        c.SplitLot,
        "Split part of a lot off into a new lot",
        "Lots",
        created="/api/v1/lots/{lot_number}",
        path_fields=("lot_number",),
    ),
    CommandRoute(
        "/lots/{lot_number:str}/move", c.MoveLot, "Move a lot to another location", "Lots", path_fields=("lot_number",)
    ),
    CommandRoute(
        "/lots/{lot_number:str}/hold",
        c.HoldLot,
        "Put a lot on hold (reason required)",
        "Lots",
        path_fields=("lot_number",),
    ),
    CommandRoute(
        "/lots/{lot_number:str}/release",
        c.ReleaseLot,
        "Release a held or quarantined lot (reason required)",
        "Lots",
        path_fields=("lot_number",),
    ),
    CommandRoute(
        "/lots/{lot_number:str}/scrap",
        c.ScrapLot,
        "Scrap a lot or part of it (reason required)",
        "Lots",
        path_fields=("lot_number",),
    ),
    CommandRoute(
        "/work-orders",
        c.CreateWorkOrder,
        "Create a work order (state Forecast)",
        "Work orders",
        created="/api/v1/work-orders/{order_number}",
    ),
    *(
        CommandRoute(
            f"/work-orders/{{order_number:str}}/{verb}", command, summary, "Work orders", path_fields=("order_number",)
        )
        for verb, command, summary in (
            ("release", c.ReleaseWorkOrder, "Release a work order to the floor"),
            ("start", c.StartWorkOrder, "Start a released work order"),
            ("hold", c.HoldWorkOrder, "Hold a work order (reason required)"),
            ("resume", c.ResumeWorkOrder, "Resume a held work order"),
            ("complete", c.CompleteWorkOrder, "Complete a running work order"),
            ("close", c.CloseWorkOrder, "Close a completed work order"),
            ("cancel", c.CancelWorkOrder, "Cancel a work order that has not finished (reason required)"),
            ("consumptions", c.ConsumeMaterial, "Report material consumed from a lot by an operation"),
            ("productions", c.ReportProduction, "Report good and scrap output of an operation"),
        )
    ),
)


def command_handler(route: CommandRoute) -> HTTPRouteHandler:
    """Builds the litestar handler of one command route, typed for the OpenAPI document."""
    body_type = body_of(route.command, f"{route.command.__name__}Request", omit=route.path_fields)
    status = 201 if route.created else 202

    async def handler(
        data: Any, state: State, actor: Actor, idempotency_key: str | None = None, **path: str
    ) -> Response[CommandAccepted]:
        bus: CommandBus = state.bus
        fields = {} if data is None else {f: getattr(data, f) for f in data.__struct_fields__}
        command = route.command(command_id=idempotency_key or str(uuid.uuid4()), **fields, **path)
        outcome = await bus.execute_async(command, CommandContext(actor=actor, source=Source.API))
        resource = route.created.format(**outcome.result) if route.created else None
        body = CommandAccepted(
            outcome.command_id,
            outcome.position,
            outcome.replayed,
            resource,
            {k: str(v) for k, v in outcome.result.items()},
        )
        headers = {"Location": resource} if resource else {}
        if outcome.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            content=msgspec.json.encode(body), status_code=status, headers=headers, media_type="application/json"
        )

    params = [
        # A command whose fields all have defaults (release, start, ...) may come without a body.
        inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, annotation=body_type)
        if any(f.required for f in msgspec.structs.fields(body_type))
        else inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, annotation=body_type | None, default=None),
        inspect.Parameter("state", inspect.Parameter.KEYWORD_ONLY, annotation=State),
        inspect.Parameter("actor", inspect.Parameter.KEYWORD_ONLY, annotation=Actor),
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
        before_request=command_body_check(route.command, route.path_fields),
    )(handler)


def _snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name).lstrip("_")


def command_handlers() -> list[HTTPRouteHandler]:
    return [command_handler(route) for route in ROUTES]
