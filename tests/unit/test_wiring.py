"""The seams between capabilities and the composition root: registries, topics, authorisation."""

from __future__ import annotations

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import resolve_topic

from api.capabilities import CAPABILITIES, COMMAND_ROUTES, HANDLERS, PROJECTIONS
from api.runtime import Runtime, build_runtime
from api.traceability import CAPABILITY as TRACEABILITY
from application.bus import CommandBus
from application.commands import Command
from application.handlers import Handles, join, registry
from application.ports import NotAuthorizedError
from application.traceability.lots import HoldLot, LotChanged, hold_lot
from domain.values import Actor, Role
from infrastructure.settings import Settings
from tests.builders import OPERATOR, context, next_id, plant_commands, receive
from tests.fakes import SteppingClock


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_every_topic_a_projection_reads_resolves_to_the_domain_event_class_it_applies(projection: type) -> None:
    assert projection.topics, projection.name
    for event_class, applier in projection.appliers.items():
        assert issubclass(event_class, DomainEvent)
        assert callable(getattr(projection, applier))
    assert {resolve_topic(topic) for topic in projection.topics} == set(projection.appliers)


def test_every_routed_command_has_one_handler_and_one_route() -> None:
    routed = [route.command for route in COMMAND_ROUTES]

    assert len(routed) == len(set(routed))
    assert set(routed) <= set(HANDLERS)
    assert all(entry.command is command for command, entry in HANDLERS.items())


def test_a_command_registered_twice_is_refused_when_the_registries_are_joined() -> None:
    fragment = registry(Handles(HoldLot, hold_lot, LotChanged))

    with pytest.raises(ValueError, match="HoldLot is registered twice"):
        join([fragment, fragment])


def test_each_capability_brings_its_own_handlers_and_routes_for_its_own_commands() -> None:
    for capability in CAPABILITIES:
        assert capability.handlers
        assert {route.command for route in capability.command_routes} <= set(capability.handlers)
    assert {route.command for route in TRACEABILITY.command_routes} == set(TRACEABILITY.handlers)


class RefuseHolds:
    """A policy that lets no one put lots on hold."""

    def authorize(self, actor: Actor, command: Command, roles: frozenset[Role] | None = None) -> None:
        if isinstance(command, HoldLot):
            raise NotAuthorizedError(actor, command, "holds need a quality role")


def test_the_bus_asks_the_authorisation_port_whatever_channel_a_command_came_through(clock: SteppingClock) -> None:
    runtime: Runtime = build_runtime(Settings.from_env({"MES_DATABASE_URL": "memory://"}), clock=clock)
    bus = CommandBus(runtime.app, clock, HANDLERS, authorizer=RefuseHolds())
    try:
        for command in (*plant_commands(), receive("LOT-1")):
            bus.execute(command, context())
        before = runtime.app.max_position()

        with pytest.raises(NotAuthorizedError, match=r"Olu Operator \(u-7\) may not HoldLot"):
            bus.execute(HoldLot(command_id=next_id(), lot_number="LOT-1", reason="suspect"), context(OPERATOR))

        assert runtime.app.max_position() == before
    finally:
        bus.close()
        runtime.close()
