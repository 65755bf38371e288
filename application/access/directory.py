"""Accounts as authentication and authorisation see them: who, which roles, enabled or not.

Every request asks, so answers are kept for a second: a role revoked or an account disabled takes
effect within that second in every process, and at once in the process that made the change (it
calls `forget`).
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.service import Chronicle
from domain.ids import principal_id
from domain.principal import Principal
from domain.values import Actor, ActorKind, Role

KEEP_S = 1.0


class Account(NamedTuple):
    """What a request acts as: the principal's username, printed name, kind and current roles."""

    username: str
    printed_name: str
    kind: ActorKind
    roles: frozenset[Role]
    enabled: bool
    mfa_enrolled: bool

    @property
    def actor(self) -> Actor:
        return Actor(id=self.username, name=self.printed_name, kind=self.kind)


def account_of(principal: Principal) -> Account:
    return Account(
        principal.username,
        principal.printed_name,
        principal.kind,
        frozenset(principal.roles),
        principal.enabled,
        principal.mfa_enrolled,
    )


class Directory:
    """Looks accounts up in the event store, keeping each answer for `keep_s` seconds."""

    def __init__(self, app: Chronicle, keep_s: float = KEEP_S) -> None:
        self.app = app
        self.keep_s = keep_s
        self._kept: dict[UUID, tuple[float, Account | None]] = {}
        self._lock = threading.Lock()

    def account(self, username: str) -> Account | None:
        """The account, or None if there is no such principal."""
        return self.account_by_id(principal_id(username))

    def account_by_id(self, key: UUID) -> Account | None:
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self.keep_s:
            return kept[1]
        found = self._read(key)
        with self._lock:
            if len(self._kept) > 10_000:  # noqa: PLR2004 - a bound, not a tuning figure
                self._kept.clear()
            self._kept[key] = (now, found)
        return found

    def kept(self, username: str) -> Account | None:
        """The account if it was looked up within the last `keep_s` seconds (no I/O); else None."""
        kept = self._kept.get(principal_id(username))
        return kept[1] if kept is not None and time.monotonic() - kept[0] < self.keep_s else None

    def forget(self, username: str) -> None:
        self._kept.pop(principal_id(username), None)

    def roles_of(self, actor: Actor) -> frozenset[Role] | None:
        """The actor's roles if their account exists and is enabled (for the bus's policy)."""
        account = self.kept(actor.id) or self.account(actor.id)
        return account.roles if account is not None and account.enabled else None

    def _read(self, key: UUID) -> Account | None:
        try:
            found: object = self.app.patiently(lambda: self.app.repository.get(key))
        except AggregateNotFoundError:
            return None
        return account_of(found) if isinstance(found, Principal) else None
