"""Operations routes: where the API starts (`/`, `/api/v1`), whether it lives (`/health`), and whether it
can serve (`/ready`)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from api.problems import PROBLEM_JSON, Problem, problem
from projections.status import ProjectionStatus, Readiness, ReadModels, StoreUnreachableError
from projections.supervisor import Failing

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
    failing: list[Failing] = []


DOCS = [
    Link("docs", DOCS_PATH, "Interactive API documentation (Swagger UI, served by the application)"),
    Link("swagger", DOCS_PATH + SWAGGER_PATH, "The same Swagger UI at its former address"),
    Link("openapi", DOCS_PATH + OPENAPI_PATH, "The OpenAPI document"),
]
OPERATION_PARTS = [
    Link("health", f"{API_PATH}/health", "Liveness: the log head and each projection's position and lag"),
    Link("ready", f"{API_PATH}/ready", "Readiness: the stores answer and the projections are current"),
]


def api_index_of(parts: list[Link]) -> ApiIndex:
    """The front page, listing the operations routes and the parts each capability brings."""
    return ApiIndex(title="Chronicle MES", version="v1", docs=DOCS, parts=[*OPERATION_PARTS, *parts])


UNAVAILABLE = {
    503: ResponseSpec(
        data_container=Problem,
        description="A store did not answer, or (readiness) projections are behind; Retry-After says when to ask again",
        media_type=PROBLEM_JSON,
    )
}


@get(["/", API_PATH], summary="Where the API's documentation is, and its parts", tags=[OPERATIONS])
async def api_index(index: NamedDependency[ApiIndex]) -> ApiIndex:
    """Points a visitor (or a client) at the documentation and lists the resource collections."""
    return index


@get(
    "/health",
    summary="Liveness, and how far each projection has got",
    tags=[OPERATIONS],
    responses=UNAVAILABLE,
)
async def health(request: Request[Any, Any, Any], views: NamedDependency[ReadModels]) -> Response[Health]:
    """The log head (`position`) and, per projection, its position and lag behind the head; a view
    whose catch-up keeps failing is listed under `failing` (status "degraded") while the others run."""
    try:
        status = await views.status()
    except StoreUnreachableError as error:
        return problem(request, 503, "store-unreachable", "Store unreachable", str(error))
    failing = views.failing()
    return Response(
        Health(
            status="degraded" if failing else "ok",
            position=status.head,
            projections=status.projections,
            failing=failing,
        )
    )


@get(
    "/ready",
    summary="Readiness: the stores answer and every projection has caught up with the log",
    tags=[OPERATIONS],
    responses=UNAVAILABLE,
)
async def ready(request: Request[Any, Any, Any], views: NamedDependency[ReadModels]) -> Response[Readiness]:
    """200 when both stores answer and every projection reached the log head within a second of the
    request; otherwise 503, naming what is not ready."""
    answer = await views.readiness()
    if not answer.ready:
        return problem(request, 503, "not-ready", "Not ready", "; ".join(answer.not_ready))
    return Response(answer)


def operation_handlers() -> list[Any]:
    """The routes under /api/v1; `api_index` is registered on the app, for `/` as well."""
    return [health, ready]
