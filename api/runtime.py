"""The composition root's write side: the application and its command bus, from settings."""

from __future__ import annotations

from dataclasses import dataclass

from api.capabilities import COMMAND_ROLES, HANDLERS
from application.access import SELF_SERVICE
from application.access.directory import Directory
from application.access.policy import CommandRoles, RolePolicy
from application.access.security_log import account_changes
from application.bus import CommandBus
from application.handlers import HandlerRegistry
from application.ports import Clock
from application.service import Chronicle
from infrastructure.access.sessions import SqlSecurityLog
from infrastructure.clock import SystemClock
from infrastructure.settings import Settings


@dataclass
class Runtime:
    """Everything a running Chronicle process holds; close it to stop the writer and the pool."""

    settings: Settings
    app: Chronicle
    bus: CommandBus
    directory: Directory  # accounts and their roles, for the bus's policy and authentication

    def close(self) -> None:
        self.bus.close()
        self.app.close()


def build_runtime(
    settings: Settings,
    clock: Clock | None = None,
    handlers: HandlerRegistry = HANDLERS,
    command_roles: CommandRoles = COMMAND_ROLES,
) -> Runtime:
    """The application and its bus; the bus lets each principal send only what their roles allow."""
    app = Chronicle(env=settings.eventsourcing_env())
    app.store_budget = settings.store_budget_s
    try:
        app.check_key()
    except BaseException:
        app.close()
        raise
    directory = Directory(app)
    bus = CommandBus(
        app,
        clock or SystemClock(),
        handlers,
        authorizer=RolePolicy(command_roles, directory.roles_of, SELF_SERVICE),
        max_batch=settings.max_batch,
        store_budget=settings.store_budget_s,
        time_window=settings.business_time_window,
    )
    if not settings.is_memory:  # account changes reach the security log whoever makes them, however
        bus.on_recorded.append(account_changes(SqlSecurityLog(settings), bus.clock.now))
    return Runtime(settings=settings, app=app, bus=bus, directory=directory)
