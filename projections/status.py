"""How far the read side has got: each projection's position, its lag behind the log head, readiness.

`/health` reports the positions and lags; `/ready` asks whether both stores answer and the projections
are current. Every read here runs in a worker thread with a deadline, so a store that hangs (a pool
waiting for a connection that never comes) answers "unreachable" in seconds instead of holding the
request.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec
import psycopg
from eventsourcing.persistence import PersistenceError

from application.ports import StoreUnavailableError
from application.service import Chronicle
from projections.store import POSITIONS, ReadStore
from projections.supervisor import Advanced, Failing

log = logging.getLogger("chronicle.projections")
T = TypeVar("T")

STORE_ANSWER_S = 3.0  # longest a store may take to answer one probe before it counts as unreachable
READY_WAIT_S = 1.0  # how long projections may take to reach the head the readiness check read
# What a store raises when it cannot be reached or read: eventsourcing wraps the event store's
# driver errors in PersistenceError; the read store lets sqlite3 and psycopg (and its pool) errors through.
STORE_ERRORS = (PersistenceError, StoreUnavailableError, sqlite3.Error, psycopg.Error, OSError)


class ProjectionStatus(msgspec.Struct, frozen=True):
    """One read model: the last log position it has applied and how many positions it is behind the head."""

    name: str
    position: int
    lag: int


class ReadSideStatus(msgspec.Struct, frozen=True):
    """The log head and every projection's position and lag, read together."""

    head: int
    projections: list[ProjectionStatus]


class Readiness(msgspec.Struct, frozen=True):
    """Whether this process can serve: both stores answer and every projection has reached the head."""

    ready: bool
    head: int | None
    event_store: str
    read_store: str
    projections: list[ProjectionStatus]
    not_ready: list[str]


class StoreUnreachableError(Exception):
    """A store did not answer a probe: the connection failed, the query failed, or it took too long."""

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(f"the {store} did not answer ({reason})")
        self.store = store
        self.reason = reason


def _positions(store: ReadStore, names: Sequence[str]) -> dict[str, int]:
    """Each named projection's tracking position; one that has never run is at 0."""
    marks = ", ".join("?" * len(names))
    with store.reader() as tx:
        rows = tx.execute(f"SELECT name, position FROM {POSITIONS} WHERE name IN ({marks})", list(names))  # noqa: S608
    found = {row["name"]: int(row["position"]) for row in rows}
    return {name: found.get(name, 0) for name in names}


async def _ask(store: str, read: Callable[[], T]) -> T:
    """Runs one read of a store in a thread; its answer, or StoreUnreachableError after STORE_ANSWER_S."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(read), STORE_ANSWER_S)
    except TimeoutError as error:
        raise StoreUnreachableError(store, f"no answer within {STORE_ANSWER_S:g} s") from error
    except STORE_ERRORS as error:
        # The driver's message may name hosts and users: it goes to the log, the client gets its kind.
        log.warning("the %s did not answer a status probe", store, exc_info=error)
        raise StoreUnreachableError(store, type(error).__name__) from error


def _statuses(head: int, positions: dict[str, int]) -> list[ProjectionStatus]:
    return [ProjectionStatus(name, position, max(head - position, 0)) for name, position in positions.items()]


async def read_side_status(app: Chronicle, store: ReadStore, names: Sequence[str]) -> ReadSideStatus:
    """The log head and each projection's position and lag; StoreUnreachableError if a store fails.

    Positions are read before the head, so that a lag is never negative: commits between the two
    reads can only make a lag look larger than it was, never hide one.
    """
    positions = await _ask("read store", lambda: _positions(store, names))
    head = await _ask("event store", app.max_position)
    return ReadSideStatus(head=head, projections=_statuses(head, positions))


async def readiness(
    app: Chronicle,
    store: ReadStore,
    advanced: Advanced,
    names: Sequence[str],
    wait_s: float = READY_WAIT_S,
) -> Readiness:
    """Whether the stores answer and the projections are current.

    "Current" means: every projection has applied the log head as it stood when the check began,
    within `wait_s` (a second) of it. Under a steady stream of commands the head keeps moving, so
    "lag 0 at one instant" would flap; "caught up with where the log was a moment ago" does not,
    and still tells a stalled or failed projection (or one nobody runs) from one that is working.
    """
    event_store, read_store, reasons = "ok", "ok", []
    head: int | None = None
    positions: dict[str, int] = {}
    try:
        head = await _ask("event store", app.max_position)
    except StoreUnreachableError as error:
        event_store = error.reason
        reasons.append(str(error))
    try:
        positions = await _ask("read store", lambda: _positions(store, names))
        if head is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait_s
            while min(positions.values(), default=head) < head and loop.time() < deadline:
                await advanced.wait_briefly()
                positions = await _ask("read store", lambda: _positions(store, names))
    except StoreUnreachableError as error:
        read_store = error.reason
        reasons.append(str(error))
    statuses = _statuses(head, positions) if head is not None else []
    behind = [s for s in statuses if s.lag]
    if behind:
        lags = ", ".join(f"{s.name} at {s.position} (lag {s.lag})" for s in behind)
        reasons.append(f"projections had not reached the log head {head} within {wait_s:g} s: {lags}")
    return Readiness(
        ready=not reasons,
        head=head,
        event_store=event_store,
        read_store=read_store,
        projections=statuses,
        not_ready=reasons,
    )


class ReadModelBehindError(Exception):
    """A read asked for a position the read model has not reached within the wait allowed."""

    def __init__(self, wanted: int, reached: int) -> None:
        super().__init__(f"the read model is at position {reached}, not yet at {wanted}; retry shortly")
        self.wanted = wanted
        self.reached = reached


READ_WAIT_S = 5.0  # how long a read with min_position waits for its views


@dataclass(frozen=True)
class ReadModels:
    """What the query routes read through: the read store, the event store's head, and a way to
    wait until views have applied a command's position (read-your-writes)."""

    app: Chronicle
    store: ReadStore
    advanced: Advanced
    names: tuple[str, ...]
    failing: Callable[[], list[Failing]] = list

    async def reached(self, position: int | None, *views: str) -> None:
        """Waits until every view named has applied `position`, or raises ReadModelBehindError."""
        if position is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READ_WAIT_S
        current = await asyncio.to_thread(self._lowest, views)
        while current < position:
            if loop.time() >= deadline:
                raise ReadModelBehindError(position, current)
            await self.advanced.wait_briefly()
            current = await asyncio.to_thread(self._lowest, views)

    def _lowest(self, views: Sequence[str]) -> int:
        return min(_positions(self.store, views).values(), default=0)

    async def status(self) -> ReadSideStatus:
        return await read_side_status(self.app, self.store, self.names)

    async def readiness(self) -> Readiness:
        return await readiness(self.app, self.store, self.advanced, self.names)
