"""Making accounts in one step: a person with a password, or a machine account with a key. Used by
`mes users add`, `mes demo`, the tests and the benchmarks; over HTTP an administrator takes the
same steps one route at a time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from application.access.api_keys import ApiKeyService, IssuedKey
from application.access.passwords import PasswordService
from application.access.principals import RegisterPrincipal
from application.bus import CommandBus, CommandContext
from domain.values import ActorKind, Role


def _register(
    bus: CommandBus, username: str, printed_name: str, kind: ActorKind, roles: Sequence[Role], context: CommandContext
) -> None:
    command = RegisterPrincipal(
        command_id=f"provision-{uuid.uuid4()}",
        username=username,
        printed_name=printed_name,
        kind=kind,
        roles=list(roles),
    )
    bus.execute(command, context)


def add_person(
    passwords: PasswordService,
    username: str,
    printed_name: str,
    roles: Sequence[Role],
    password: str,
    context: CommandContext,
) -> None:
    """Registers a person and sets their first password."""
    _register(passwords.bus, username, printed_name, ActorKind.PERSON, roles, context)
    passwords.set_password(
        username, password, context, command_id=f"provision-{uuid.uuid4()}", reason="set when the account was made"
    )


def add_machine(
    keys: ApiKeyService,
    username: str,
    printed_name: str,
    roles: Sequence[Role],
    context: CommandContext,
    valid_for: timedelta = timedelta(days=90),
) -> IssuedKey:
    """Registers a machine account and issues its first API key (shown this once)."""
    _register(keys.bus, username, printed_name, ActorKind.MACHINE, roles, context)
    return keys.issue(username, valid_for=valid_for, context=context, command_id=f"provision-{uuid.uuid4()}")
