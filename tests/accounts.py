"""Accounts for tests that talk HTTP: a machine account with an API key, made in-process on a
migrated store, as `mes users add --machine` would make it."""

from __future__ import annotations

from api.access.services import build_access
from api.runtime import build_runtime
from application.access.provision import add_machine, add_person
from application.bus import CommandContext
from domain.values import Actor, ActorKind, Role, Source
from infrastructure.settings import Settings

PRINCIPAL_ID = "e2e-qa-0042"  # the machine account the tests' clients act as
PRINCIPAL_NAME = "Quinn Auditor"
# Every role a production command needs: most tests are about records (the access tests are about
# who may do what).
PRODUCTION_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.QUALITY, Role.MAINTENANCE, Role.PLANNER, Role.INTEGRATION)
SET_UP = CommandContext(Actor("os:tests", "test set-up", ActorKind.SERVICE), Source.SYSTEM)


def provision_machine(
    settings: Settings,
    username: str = PRINCIPAL_ID,
    printed_name: str = PRINCIPAL_NAME,
    roles: tuple[Role, ...] = PRODUCTION_ROLES,
) -> str:
    """Registers a machine account on a migrated store; its API key."""
    runtime = build_runtime(settings)
    try:
        access = build_access(runtime.bus, runtime.directory, settings)
        return add_machine(access.keys, username, printed_name, roles, SET_UP).key
    finally:
        runtime.close()


def provision_person(settings: Settings, username: str, roles: tuple[Role, ...], password: str) -> None:
    """Registers a person with a password on a migrated store."""
    runtime = build_runtime(settings)
    try:
        access = build_access(runtime.bus, runtime.directory, settings)
        add_person(access.passwords, username, username.title(), roles, password, SET_UP)
    finally:
        runtime.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
