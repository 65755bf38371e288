"""The composition root's write side: the application and its command bus, from settings."""

from __future__ import annotations

from dataclasses import dataclass

from api.capabilities import HANDLERS
from application.bus import CommandBus
from application.handlers import HandlerRegistry
from application.ports import Clock
from application.service import Chronicle
from infrastructure.clock import SystemClock
from infrastructure.settings import Settings


@dataclass
class Runtime:
    """Everything a running Chronicle process holds; close it to stop the writer and the pool."""

    settings: Settings
    app: Chronicle
    bus: CommandBus

    def close(self) -> None:
        self.bus.close()
        self.app.close()


def build_runtime(settings: Settings, clock: Clock | None = None, handlers: HandlerRegistry = HANDLERS) -> Runtime:
    app = Chronicle(env=settings.eventsourcing_env())
    app.store_budget = settings.store_budget_s
    try:
        app.check_key()
    except BaseException:
        app.close()
        raise
    bus = CommandBus(
        app,
        clock or SystemClock(),
        handlers,
        max_batch=settings.max_batch,
        store_budget=settings.store_budget_s,
        time_window=settings.business_time_window,
    )
    return Runtime(settings=settings, app=app, bus=bus)
