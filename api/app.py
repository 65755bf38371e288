"""The composition root of the HTTP API: `create_app(settings)` builds everything, nothing else does."""

from __future__ import annotations

import gc
import logging
from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Tag

from api.command_routes import command_handlers
from api.problems import EXCEPTION_HANDLERS, FieldError, problem
from api.query_routes import ReadController
from api.runtime import build_runtime
from domain.values import Actor, ActorKind
from infrastructure.settings import Settings
from projections.store import open_read_store
from projections.supervisor import ProjectionSupervisor

log = logging.getLogger("chronicle.api")
MAX_BODY_BYTES = 256 * 1024


def local_principal(settings: Settings) -> Actor:
    """Until authentication arrives, every request acts as the configured local principal."""
    return Actor(id=settings.local_principal_id, name=settings.local_principal_name, kind=ActorKind.PERSON)


@get("/health", summary="Liveness, and how far each projection has got", tags=["Operations"], include_in_schema=True)
async def health(state: State) -> dict[str, Any]:
    return {"status": "ok", "position": state.chronicle.max_position()}


async def refuse_nul(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """PostgreSQL text cannot hold NUL: a path or query with one is refused before it reaches SQL."""
    raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
    if b"%00" in raw.lower() or b"\x00" in raw or "\x00" in request.scope["path"]:
        return problem(
            request,
            422,
            "invalid-input",
            "Invalid input",
            "a path or query may not contain NUL",
            errors=[FieldError(field="path", message="contains NUL", source="path")],
        )
    return None


def create_app(settings: Settings, *, run_projections: bool = True) -> Litestar:
    runtime = build_runtime(settings)
    read_store = open_read_store(settings)
    supervisor = ProjectionSupervisor(
        runtime.app, read_store, listen_to=settings.postgres() if settings.is_postgres else None
    )
    runtime.bus.on_commit.append(supervisor.notify)
    principal = local_principal(settings)

    def startup() -> None:
        if run_projections:
            supervisor.start()
        # What exists at startup (modules, routes, the app) lives as long as the process: moved out
        # of the collector's generations, it is no longer scanned, and collections stay short.
        gc.freeze()
        log.info("chronicle serving", extra={"store": "postgresql" if settings.is_postgres else "sqlite"})

    def shutdown() -> None:
        supervisor.stop()
        runtime.close()
        read_store.close()

    api = Router(
        path="/api/v1",
        route_handlers=[*command_handlers(), ReadController, health],
        dependencies={"actor": Provide(lambda: principal, sync_to_thread=False)},
    )
    return Litestar(
        route_handlers=[api],
        state=State(
            {
                "bus": runtime.bus,
                "chronicle": runtime.app,
                "read_store": read_store,
                "projections_advanced": supervisor.advanced,
                "supervisor": supervisor,
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_request=refuse_nul,
        on_startup=[startup],
        on_shutdown=[shutdown],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Chronicle MES",
            version="1.0.0",
            description="Event-sourced MES backend: commands record events; queries read projections.",
            path="/api/v1/docs",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            tags=[Tag(name=n) for n in ("Equipment", "Materials", "Lots", "Genealogy", "Work orders", "Operations")],
        ),
        logging_config=None,  # the process configures logging (logfmt) once, in the CLI
        debug=False,
    )
