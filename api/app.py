"""The composition root of the HTTP API: `create_app(settings)` builds everything, nothing else does."""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from litestar import Litestar, Response, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Tag
from litestar.static_files import create_static_files_router

from api.access.guard import Gate
from api.access.permissions import declared, permission_table
from api.access.services import build_access
from api.capabilities import CAPABILITIES
from api.capability import Capability
from api.command_routes import Dispatch, command_handlers
from api.methods import options_handler, paths_of
from api.openapi import StrictStructSchemaPlugin
from api.operations import (
    API_PATH,
    DOCS_ASSETS_PATH,
    DOCS_PATH,
    SWAGGER_PATH,
    api_index,
    api_index_of,
    operation_handlers,
)
from api.problems import EXCEPTION_HANDLERS
from api.runtime import build_runtime
from api.validation import refuse_nul
from application.access.authentication import Caller
from application.access.directory import Account
from application.access.policy import Permission
from application.handlers import join
from infrastructure.settings import Settings
from projections.status import ReadModels
from projections.store import ReadStore, open_read_store
from projections.supervisor import ProjectionSupervisor

log = logging.getLogger("chronicle.api")
MAX_BODY_BYTES = 256 * 1024


def offline_docs() -> tuple[Router, SwaggerRenderPlugin]:
    """Swagger UI from the swagger-ui-bundle-v2 package, served by the app: plants run without internet,
    so the docs page loads nothing from outside (litestar's plugins default to a CDN).

    The assets' path carries Swagger UI's version, so browsers may keep them until it changes.
    """
    dist = Path(str(swagger_ui_bundle.swagger_ui_path))
    assets = f"{DOCS_ASSETS_PATH}/{dist.name}"
    router = create_static_files_router(
        path=assets,
        directories=[dist],
        name="docs-assets",
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
        include_in_schema=False,
    )
    # One page at /api/v1/docs, and at /api/v1/docs/swagger where it used to be.
    swagger = SwaggerRenderPlugin(
        js_url=f"{assets}/swagger-ui-bundle.js",
        css_url=f"{assets}/swagger-ui.css",
        standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>",
        path=["/", SWAGGER_PATH],
    )
    return router, swagger


def create_app(
    settings: Settings,
    *,
    run_projections: bool = True,
    capabilities: Sequence[Capability] = CAPABILITIES,
    read_store: ReadStore | None = None,
    https: bool = False,
    unauthenticated_as: Account | None = None,
) -> Litestar:
    """The application with every capability given (all of them unless a test says otherwise),
    on the settings' stores (a test may hand in a read store of its own).

    `unauthenticated_as` is for the benchmark's baseline only: no access guard at all, and every
    request acts as that account. Nothing in the settings or the command line reaches it.
    """
    command_roles = {command: roles for c in capabilities for command, roles in c.command_roles.items()}
    runtime = build_runtime(settings, handlers=join(c.handlers for c in capabilities), command_roles=command_roles)
    read_store = read_store or open_read_store(settings)
    supervisor = ProjectionSupervisor(
        runtime.app,
        read_store,
        [p for c in capabilities for p in c.projections],
        listen_to=settings.postgres() if settings.is_postgres else None,
    )
    runtime.bus.on_commit.append(supervisor.notify)
    views = ReadModels(runtime.app, read_store, supervisor.advanced, tuple(supervisor.names), supervisor.failing)
    access = build_access(runtime.bus, runtime.directory, settings)
    gate = Gate(access)

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

    docs_assets, swagger = offline_docs()
    api = Router(
        path=API_PATH,
        route_handlers=api_handlers(capabilities),
        dependencies={
            "dispatch": _provide(Dispatch(runtime.bus)),
            "store": _provide(runtime.app),
            "views": _provide(views),
            "access": _provide(access),
        },
    )
    app = Litestar(
        route_handlers=[api, api_index, docs_assets],
        dependencies={"index": _provide(api_index_of([p for c in capabilities for p in c.parts]))},
        state=State(
            {
                "bus": runtime.bus,  # for the body checks
                "time_window": settings.business_time_window,
                "unguarded_caller": Caller(unauthenticated_as) if unauthenticated_as else None,
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[gate.middleware] if unauthenticated_as is None else [],
        before_request=refuse_nul,
        after_request=strict_transport_security if https else None,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        on_startup=[startup],
        on_shutdown=[shutdown],
        request_max_body_size=MAX_BODY_BYTES,
        plugins=[StrictStructSchemaPlugin()],
        openapi_config=OpenAPIConfig(
            title="Chronicle MES",
            version="1.0.0",
            description="Event-sourced MES backend: commands record events; queries read projections.",
            path=DOCS_PATH,
            render_plugins=[swagger],
            tags=[Tag(name=n) for n in (*(t for c in capabilities for t in c.tags), "Operations")],
        ),
        logging_config=None,  # the process configures logging (logfmt) once, in the CLI
        debug=False,
    )
    gate.routes.update(permission_table(app, declared(capabilities, command_roles)))
    if undeclared := sorted(route for route, permission in gate.routes.items() if permission is None):
        log.warning("routes without a permission are refused to everyone", extra={"routes": ", ".join(undeclared)})
    return app


def api_handlers(capabilities: Sequence[Capability]) -> list[Any]:
    """Every route under /api/v1, with the OPTIONS answer of each path."""
    handlers = [
        *command_handlers(r for c in capabilities for r in c.command_routes),
        *(q for c in capabilities for q in c.query_routes),
        *operation_handlers(),
    ]
    return [options_handler(paths_of(handlers)), *handlers]


def route_permissions(capabilities: Sequence[Capability] = CAPABILITIES) -> dict[str, Permission | None]:
    """Each route and its permission, for docs/access.md: the routes alone, no store opened."""
    command_roles = {command: roles for c in capabilities for command, roles in c.command_roles.items()}
    routes = Litestar(
        route_handlers=[Router(path=API_PATH, route_handlers=api_handlers(capabilities)), api_index],
        dependencies={name: _provide(None) for name in ("dispatch", "store", "views", "access", "index")},
        openapi_config=None,
    )
    return permission_table(routes, declared(capabilities, command_roles))


HSTS = "max-age=31536000"  # a year: browsers keep to HTTPS for this server (served over TLS only)


async def strict_transport_security(response: Response[Any]) -> Response[Any]:
    response.headers["Strict-Transport-Security"] = HSTS
    return response


def _provide(value: object) -> Provide:
    """A dependency that is one object for the life of the app."""
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)
