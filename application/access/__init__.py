"""Access: people and machine accounts, their roles, and the record of every change to them.

Principals' lifecycle is recorded as events; secrets live in the credentials store. Only an
administrator manages accounts, and a person records their own password and second factor.
"""

from __future__ import annotations

from application.access import principals
from application.access.policy import ADMINISTER, CommandRoles
from application.access.principals import RecordMfaEnrolled, RecordPasswordSet
from application.commands import Command
from application.handlers import join

HANDLERS = join([principals.HANDLERS])
COMMAND_ROLES: CommandRoles = dict.fromkeys(principals.HANDLERS, ADMINISTER.roles)
SELF_SERVICE: frozenset[type[Command]] = frozenset({RecordPasswordSet, RecordMfaEnrolled})
