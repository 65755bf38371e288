"""Operations routes: where the API starts (`/`, `/api/v1`), whether it lives (`/health`), and whether it
can serve (`/ready`)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from api.problems import PROBLEM_JSON, Problem, problem
from projections.status import ProjectionStatus, Readiness, StoreUnreachableError, read_side_status, readiness

API_PATH = "/api/v1"
DOCS_PATH = f"{API_PATH}/docs"
SWAGGER_PATH = "/swagger"  # under DOCS_PATH
OPENAPI_PATH = "/openapi.json"  # under DOCS_PATH
DOCS_ASSETS_PATH = f"{DOCS_PATH}/assets"
OPERATIONS = "Operations"


class Link(msgspec.Struct, frozen=True):
    """A place in the API: its name, its path, and what is found there."""

    name: str
    href: str
    title: str


class ApiIndex(msgspec.Struct, frozen=True):
    """The API's front page: where its documentation is and what its parts are."""

    title: str
    version: str
    docs: list[Link]
    parts: list[Link]


class Health(msgspec.Struct, frozen=True):
    """The process answers; `position` is the log head, and each projection says how far it has got."""

    status: str
    position: int
    projections: list[ProjectionStatus]


INDEX = ApiIndex(
    title="Chronicle MES",
    version="v1",
    docs=[
        Link("docs", DOCS_PATH, "Interactive API documentation (Swagger UI, served by the application)"),
        Link("swagger", DOCS_PATH + SWAGGER_PATH, "The same Swagger UI at its former address"),
        Link("openapi", DOCS_PATH + OPENAPI_PATH, "The OpenAPI document"),
    ],
    parts=[
        Link("health", f"{API_PATH}/health", "Liveness: the log head and each projection's position and lag"),
        Link("ready", f"{API_PATH}/ready", "Readiness: the stores answer and the projections are current"),
        Link("equipment", f"{API_PATH}/equipment", "The equipment hierarchy: register, change status, list"),
        Link("materials", f"{API_PATH}/materials", "Material definitions and their unit conversions"),
        Link("lots", f"{API_PATH}/lots", "Material lots: receive, move, hold, release, consume; history"),
        Link("inventory", f"{API_PATH}/inventory", "Stock on hand per material, location and status"),
        Link("work-orders", f"{API_PATH}/work-orders", "Work orders: create, release, start, consume, produce"),
        Link("wip", f"{API_PATH}/wip", "Work in progress per production line"),
        Link(
            "genealogy",
            f"{API_PATH}/lots/{{lot_number}}/genealogy",
            "A lot's genealogy: backward (what went in) or forward (where it went)",
        ),
    ],
)

UNAVAILABLE = {
    503: ResponseSpec(
        data_container=Problem,
        description="A store did not answer, or (readiness) projections are behind; Retry-After says when to ask again",
        media_type=PROBLEM_JSON,
    )
}


@get(["/", API_PATH], summary="Where the API's documentation is, and its parts", tags=[OPERATIONS])
async def api_index() -> ApiIndex:
    """Points a visitor (or a client) at the documentation and lists the resource collections."""
    return INDEX


@get(
    "/health",
    summary="Liveness, and how far each projection has got",
    tags=[OPERATIONS],
    responses=UNAVAILABLE,
)
async def health(request: Request[Any, Any, Any], state: State) -> Response[Health]:
    """The log head (`position`) and, per projection, its position and lag behind the head."""
    try:
        status = await read_side_status(state.chronicle, state.read_store)
    except StoreUnreachableError as error:
        return problem(request, 503, "store-unreachable", "Store unreachable", str(error))
    return Response(Health(status="ok", position=status.head, projections=status.projections))


@get(
    "/ready",
    summary="Readiness: the stores answer and every projection has caught up with the log",
    tags=[OPERATIONS],
    responses=UNAVAILABLE,
)
async def ready(request: Request[Any, Any, Any], state: State) -> Response[Readiness]:
    """200 when both stores answer and every projection reached the log head within a second of the
    request; otherwise 503, naming what is not ready."""
    answer = await readiness(state.chronicle, state.read_store, state.projections_advanced)
    if not answer.ready:
        return problem(request, 503, "not-ready", "Not ready", "; ".join(answer.not_ready))
    return Response(answer)


def operation_handlers() -> list[Any]:
    """The routes under /api/v1; `api_index` is registered on the app, for `/` as well."""
    return [health, ready]
