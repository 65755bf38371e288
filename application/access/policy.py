"""Who may do what: permissions as named sets of roles, and the bus's role-based authorizer.

Each capability declares, beside its handlers, which roles may send each of its commands
(`COMMAND_ROLES`); the HTTP guard and the bus read the same table, so a command is refused the same
way whether it came over HTTP, from an in-process connector or from the ERP route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from application.commands import Command
from application.ports import NotAuthorizedError
from domain.values import Actor, ActorKind, Role


@dataclass(frozen=True)
class Permission:
    """What a route asks of its caller: nothing (public), or one of these roles."""

    name: str
    roles: frozenset[Role]
    public: bool = False

    def allows(self, roles: Iterable[Role]) -> bool:
        return self.public or not self.roles.isdisjoint(roles)


ALL_ROLES = frozenset(Role)
PUBLIC = Permission("public", frozenset(), public=True)
SIGNED_IN = Permission("signed-in", ALL_ROLES)
# Least privilege (IEC 62443-4-2 CR 2.1): the administrator manages accounts, not production records.
READ = Permission("read", ALL_ROLES - {Role.ADMIN})
SECURITY_LOG = Permission("security-log", frozenset({Role.AUDITOR, Role.ADMIN}))
ADMINISTER = Permission("administer", frozenset({Role.ADMIN}))

CommandRoles = Mapping[type[Command], frozenset[Role]]


def roles(*named: Role) -> frozenset[Role]:
    return frozenset(named)


def command_permission(command: type[Command], table: CommandRoles) -> Permission:
    """The permission of a command's route: the roles that may send the command (none if undeclared)."""
    return Permission(f"send {command.__name__}", table.get(command, frozenset()))


class RolePolicy:
    """Lets a principal send a command when one of their roles may; refuses everything undeclared.

    `roles_of` answers an actor's current roles (None for an unknown or disabled account). Actors
    of kind `service` are Chronicle's own local processes (the command line run by someone with
    access to the store's files or credentials, the demo): they act as the operating system
    allowed them to.
    """

    def __init__(
        self,
        table: CommandRoles,
        roles_of: Callable[[Actor], frozenset[Role] | None],
        self_service: frozenset[type[Command]] = frozenset(),
    ) -> None:
        self.table = table
        self.roles_of = roles_of
        self.self_service = self_service  # commands anyone may send about their own account

    def authorize(self, actor: Actor, command: Command, roles: frozenset[Role] | None = None) -> None:
        if actor.kind is ActorKind.SERVICE:
            return
        held = self.roles_of(actor) if roles is None else roles
        if type(command) in self.self_service and getattr(command, "username", None) == actor.id:
            if held is None:
                raise NotAuthorizedError(actor, command, "the account is unknown or disabled")
            return
        allowed = self.table.get(type(command))
        if allowed is None:
            raise NotAuthorizedError(actor, command, "no role may send it (no permission is declared)")
        if held is None:
            raise NotAuthorizedError(actor, command, "the account is unknown or disabled")
        if allowed.isdisjoint(held):
            needed = ", ".join(sorted(allowed))
            raise NotAuthorizedError(actor, command, f"it needs one of the roles {needed}")
