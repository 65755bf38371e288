"""The Chronicle application: the event store, its repository, and reads of the history.

Reads of the event store outlive a lost connection: a read that fails because the server closed
or refused the connection is tried again, with jittered exponential backoff, for as long as
`store_budget` allows, and then fails with StoreUnavailableError (the API answers 503).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import Environment, EnvType

from application.ports import ReceiptStore, StoredReceipt, StoreKeyError, StoreUnavailableError

log = logging.getLogger("chronicle.store")

T = TypeVar("T")

# What the library raises when the database cannot be reached or drops the connection: it wraps
# psycopg's (and sqlite3's) errors in these, Chronicle's recorder included, the cause kept.
STORE_FAILURES: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# SQLSTATE classes of a lost connection: 08 connection exception; 57P the server shut down,
# restarted or terminated the backend. A psycopg error without one lost the server client-side
# ("server closed the connection unexpectedly", a pool timeout while it is down).
LOST_CONNECTION_STATES = ("08", "57P")
STORE_BUDGET_S = 10.0  # how long a command or a read waits for an unreachable store before giving up
FIRST_BACKOFF_S = 0.01
MAX_BACKOFF_S = 1.0


def connection_failed(error: BaseException) -> bool:
    """Whether a store error means the connection failed (worth trying again on a fresh one) rather
    than the statement (a lock timeout, a conflict, a bug), which trying again would not mend."""
    if isinstance(error, StoreUnavailableError | InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if cause is None:
        return True  # raised as such, not translated from a driver's error about the statement
    if not hasattr(cause, "sqlstate"):
        return False  # sqlite3: a busy or unreadable file, not a lost server
    state: str | None = cause.sqlstate
    return state is None or state.startswith(LOST_CONNECTION_STATES)


def backoff(attempt: int) -> float:
    """The pause before retry number `attempt` (from 1): exponential with full jitter, capped."""
    return random.uniform(0, min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (attempt - 1)))  # noqa: S311 - jitter


def first_line(error: BaseException) -> str:
    """An error's message without the server's DETAIL and HINT lines, for a one-line log or answer."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Chronicle(Application[UUID]):
    """The MES event store: one notification log for the whole site."""

    name = "Chronicle"
    store_budget = STORE_BUDGET_S  # seconds a read of the history waits for an unreachable store

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Settings come from the composition root only, never straight from os.environ.
        return Environment(name, dict(env or {}))

    def select_receipts(self, command_ids: Sequence[str]) -> dict[str, StoredReceipt]:
        return cast(ReceiptStore, self.recorder).select_receipts(command_ids)

    def aggregate_as_of(self, aggregate_id: UUID, version: int | None = None) -> Aggregate:
        """An aggregate as it was at a version (time travel comes from the store, not a view)."""
        return self.patiently(lambda: cast(Aggregate, self.repository.get(aggregate_id, version=version)))

    def history(self, aggregate_id: UUID) -> list[Any]:
        """Every event of one aggregate, oldest first."""
        return self.patiently(lambda: list(self.events.get(aggregate_id)))

    def check_key(self) -> None:
        """Reads the first stored event, so that a missing or wrong MES_CIPHER_KEY is one clear line
        at start, not a failure at the first read of history."""
        first = self.recorder.select_notifications(start=0, limit=1)
        if not first:
            return
        try:
            self.mapper.to_domain_event(first[0])
        except Exception as error:
            if self.mapper.cipher is None:
                msg = "this store's events are encrypted: set MES_CIPHER_KEY to the key they were written with"
            else:
                msg = "MES_CIPHER_KEY does not open this store's events: another key, or a store written without one"
            raise StoreKeyError(msg) from error

    def max_position(self) -> int:
        """The head of the notification log.

        Tried twice at most and never paused between: the health route calls it on the event loop.
        """
        return self.patiently(lambda: self.recorder.max_notification_id() or 0, budget=0.0)

    def discard_broken_connections(self) -> None:
        """After a connection failure: drops the pooled connections the server has closed, so that
        the next attempt gets a live one instead of failing once per dead connection."""
        discard: Callable[[], None] | None = getattr(self.recorder, "discard_broken_connections", None)
        if discard is not None:
            discard()

    def patiently(self, read: Callable[[], T], *, budget: float | None = None) -> T:
        """Runs a read, again on a fresh connection while the store is unreachable, for up to
        `budget` seconds (the application's `store_budget` by default; at least one retry)."""
        deadline = time.monotonic() + (self.store_budget if budget is None else budget)
        attempt = 0
        while True:
            try:
                return read()
            except STORE_FAILURES as error:
                if not connection_failed(error):
                    raise
                attempt += 1
                self.discard_broken_connections()
                now = time.monotonic()
                if attempt > 1 and now >= deadline:
                    log.warning("event store unreachable for a read: %s", first_line(error))
                    detail = "the event store could not be reached; try again shortly"
                    raise StoreUnavailableError(detail) from error
                if attempt > 1:
                    time.sleep(min(backoff(attempt - 1), max(0.0, deadline - now)))
