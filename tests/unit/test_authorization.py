"""Who may send what: the command bus refuses a forbidden command in-process, whatever channel it
came in through, and records nothing for it."""

from __future__ import annotations

import asyncio

import pytest

from api.capabilities import COMMAND_ROLES, HANDLERS
from api.runtime import Runtime
from application.access import SELF_SERVICE
from application.access.principals import (
    DisablePrincipal,
    GrantRole,
    RecordMfaEnrolled,
    RecordPasswordSet,
    RegisterPrincipal,
)
from application.bus import CommandContext
from application.commands import Command
from application.ports import NotAuthorizedError
from application.traceability.lots import HoldLot, ReleaseLot
from domain.ids import lot_id, principal_id
from domain.material_lot import MaterialLot
from domain.principal import Principal
from domain.values import Actor, ActorKind, LotStatus, Role, Source
from tests.builders import FIXED, context, create_order, next_id, plant_commands, receive


def register(runtime: Runtime, username: str, *roles: Role, kind: ActorKind = ActorKind.PERSON) -> Actor:
    """Registers an account as the command line would (a local service), and answers it as an actor."""
    runtime.bus.execute(
        RegisterPrincipal(
            command_id=next_id(), username=username, printed_name=username.title(), kind=kind, roles=list(roles)
        ),
        context(),
    )
    return Actor(id=username, name=username.title(), kind=kind)


def sent_by(actor: Actor, source: Source = Source.OPCUA, roles: frozenset[Role] | None = None) -> CommandContext:
    """A command's context as an in-process channel gives it: no roles, so the bus looks them up."""
    return CommandContext(actor=actor, source=source, roles=roles)


def with_a_lot(runtime: Runtime, lot_number: str = "LOT-1") -> None:
    for command in [*plant_commands(), receive(lot_number)]:
        runtime.bus.execute(command, context())


def hold(lot_number: str = "LOT-1") -> HoldLot:
    return HoldLot(command_id=next_id(), lot_number=lot_number, reason="suspect seal")


def release(lot_number: str = "LOT-1") -> ReleaseLot:
    return ReleaseLot(command_id=next_id(), lot_number=lot_number, reason="seal checked")


def lot_status(runtime: Runtime, lot_number: str = "LOT-1") -> LotStatus:
    lot: MaterialLot = runtime.app.repository.get(lot_id(lot_number))
    return lot.status


def refused(runtime: Runtime, command: Command, ctx: CommandContext, match: str) -> None:
    """Asserts the bus refuses the command at once and records nothing for it."""
    before = runtime.app.max_position()
    with pytest.raises(NotAuthorizedError, match=match) as error:
        runtime.bus.execute(command, ctx)
    assert error.value.command is command
    assert error.value.actor == ctx.actor
    assert runtime.app.max_position() == before


@pytest.mark.parametrize("source", [Source.OPCUA, Source.MODBUS, Source.ERP, Source.API])
def test_an_operator_may_hold_a_lot_but_only_quality_may_release_it(memory_runtime: Runtime, source: Source) -> None:
    with_a_lot(memory_runtime)
    olu = register(memory_runtime, "olu", Role.OPERATOR)

    held = memory_runtime.bus.execute(hold(), sent_by(olu, source))

    assert held.position == memory_runtime.app.max_position()
    refused(memory_runtime, release(), sent_by(olu, source), match="needs one of the roles quality")
    assert lot_status(memory_runtime) is LotStatus.ON_HOLD


def test_quality_releases_the_lot_an_operator_held(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    olu = register(memory_runtime, "olu", Role.OPERATOR)
    quinn = register(memory_runtime, "quinn", Role.QUALITY)
    memory_runtime.bus.execute(hold(), sent_by(olu))

    memory_runtime.bus.execute(release(), sent_by(quinn))

    assert lot_status(memory_runtime) is LotStatus.AVAILABLE


def test_a_refusal_reaches_a_caller_on_an_event_loop_too(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    olu = register(memory_runtime, "olu", Role.OPERATOR)
    before = memory_runtime.app.max_position()

    with pytest.raises(NotAuthorizedError):
        asyncio.run(memory_runtime.bus.execute_async(release(), sent_by(olu)))

    assert memory_runtime.app.max_position() == before


def test_an_administrator_manages_accounts_but_records_no_production(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    ada = register(memory_runtime, "ada", Role.ADMIN)

    memory_runtime.bus.execute(
        RegisterPrincipal(
            command_id=next_id(),
            username="newbie",
            printed_name="New Bie",
            kind=ActorKind.PERSON,
            roles=[Role.OPERATOR],
        ),
        sent_by(ada, Source.API),
    )

    account: Principal = memory_runtime.app.repository.get(principal_id("newbie"))
    assert account.roles == {Role.OPERATOR}
    refused(memory_runtime, receive("LOT-2"), sent_by(ada, Source.API), match="may not ReceiveLot")
    refused(memory_runtime, hold(), sent_by(ada, Source.API), match="may not HoldLot")
    assert lot_status(memory_runtime) is LotStatus.AVAILABLE


def test_an_auditor_may_send_no_command_not_even_to_grant_themselves_a_role(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    audrey = register(memory_runtime, "audrey", Role.AUDITOR)
    attempts: list[Command] = [
        receive("LOT-2"),
        hold(),
        release(),
        create_order("WO-1"),
        *FIXED.commands()[:1],
        RegisterPrincipal(
            command_id=next_id(), username="friend", printed_name="Friend", kind=ActorKind.PERSON, roles=[Role.ADMIN]
        ),
        GrantRole(command_id=next_id(), username="audrey", role=Role.ADMIN, reason="promoting myself"),
        DisablePrincipal(command_id=next_id(), username="ada", reason="no reason at all"),
    ]

    for command in attempts:
        refused(
            memory_runtime, command, sent_by(audrey, Source.API), match=f"audrey\\) may not {type(command).__name__}"
        )

    account: Principal = memory_runtime.app.repository.get(principal_id("audrey"))
    assert account.roles == {Role.AUDITOR}


def test_no_command_declares_the_auditor_role() -> None:
    assert [command.__name__ for command, allowed in COMMAND_ROLES.items() if Role.AUDITOR in allowed] == []


def test_an_unknown_actor_is_refused_even_about_their_own_account(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    ghost = Actor(id="ghost", name="Nobody Known", kind=ActorKind.PERSON)

    refused(memory_runtime, hold(), sent_by(ghost), match="unknown or disabled")
    refused(
        memory_runtime,
        RecordPasswordSet(command_id=next_id(), username="ghost", reason="first sign-in"),
        sent_by(ghost),
        match="unknown or disabled",
    )


def test_a_disabled_account_is_refused(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    olu = register(memory_runtime, "olu", Role.OPERATOR)
    memory_runtime.bus.execute(
        DisablePrincipal(command_id=next_id(), username="olu", reason="left the company"), context()
    )

    refused(memory_runtime, hold(), sent_by(olu), match="unknown or disabled")
    refused(
        memory_runtime,
        RecordPasswordSet(command_id=next_id(), username="olu", reason="back door"),
        sent_by(olu),
        match="unknown or disabled",
    )
    assert lot_status(memory_runtime) is LotStatus.AVAILABLE


def test_a_machine_account_reports_what_a_connector_reports_and_no_more(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    plc = register(memory_runtime, "plc-7", Role.INTEGRATION, kind=ActorKind.MACHINE)

    memory_runtime.bus.execute(receive("LOT-2"), sent_by(plc, Source.MODBUS))

    assert lot_status(memory_runtime, "LOT-2") is LotStatus.AVAILABLE
    refused(memory_runtime, hold("LOT-2"), sent_by(plc, Source.MODBUS), match="may not HoldLot")


def test_a_person_records_their_own_password_and_second_factor_but_not_anothers(memory_runtime: Runtime) -> None:
    olu = register(memory_runtime, "olu", Role.OPERATOR)
    register(memory_runtime, "quinn", Role.QUALITY)

    memory_runtime.bus.execute(
        RecordPasswordSet(command_id=next_id(), username="olu", reason="first sign-in"), sent_by(olu, Source.API)
    )
    memory_runtime.bus.execute(RecordMfaEnrolled(command_id=next_id(), username="olu"), sent_by(olu, Source.API))

    own: Principal = memory_runtime.app.repository.get(principal_id("olu"))
    assert (own.has_password, own.mfa_enrolled) == (True, True)
    refused(
        memory_runtime,
        RecordPasswordSet(command_id=next_id(), username="quinn", reason="helping out"),
        sent_by(olu, Source.API),
        match="needs one of the roles admin",
    )
    refused(
        memory_runtime,
        RecordMfaEnrolled(command_id=next_id(), username="quinn"),
        sent_by(olu, Source.API),
        match="needs one of the roles admin",
    )
    other: Principal = memory_runtime.app.repository.get(principal_id("quinn"))
    assert (other.has_password, other.mfa_enrolled) == (False, False)


def test_an_auditor_may_still_record_their_own_password(memory_runtime: Runtime) -> None:
    audrey = register(memory_runtime, "audrey", Role.AUDITOR)

    memory_runtime.bus.execute(
        RecordPasswordSet(command_id=next_id(), username="audrey", reason="first sign-in"), sent_by(audrey, Source.API)
    )

    account: Principal = memory_runtime.app.repository.get(principal_id("audrey"))
    assert account.has_password


def test_roles_authentication_established_are_used_instead_of_a_lookup(memory_runtime: Runtime) -> None:
    with_a_lot(memory_runtime)
    quinn = register(memory_runtime, "quinn", Role.QUALITY)
    memory_runtime.bus.execute(hold(), context())
    # The directory says quinn is quality; the request authenticated as an operator only.
    refused(
        memory_runtime,
        release(),
        sent_by(quinn, Source.API, roles=frozenset({Role.OPERATOR})),
        match="needs one of the roles quality",
    )
    # No account to look up at all, yet the roles given are quality's.
    inspector = Actor(id="inspector", name="Visiting Inspector", kind=ActorKind.PERSON)

    memory_runtime.bus.execute(release(), sent_by(inspector, Source.API, roles=frozenset({Role.QUALITY})))

    assert lot_status(memory_runtime) is LotStatus.AVAILABLE


def test_every_command_the_handlers_know_declares_who_may_send_it() -> None:
    undeclared = sorted(command.__name__ for command in HANDLERS if command not in COMMAND_ROLES)
    unhandled = sorted(command.__name__ for command in COMMAND_ROLES if command not in HANDLERS)
    nobody = sorted(command.__name__ for command, allowed in COMMAND_ROLES.items() if not allowed)

    assert (undeclared, unhandled, nobody) == ([], [], [])
    assert HANDLERS.keys() >= SELF_SERVICE
