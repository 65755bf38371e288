"""The aggregates one command works on, inside a batch that is saved in one transaction."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

from domain.errors import AlreadyExistsError, NotFoundError
from domain.values import Provenance

A = TypeVar("A", bound=Aggregate)


class AggregateCache:
    """The last committed state of recently used aggregates, owned by the single writer thread.

    Entries are exactly what was committed: a batch that fails evicts everything it touched, and
    a conflict with another writer shows up as an IntegrityError on save, never as a wrong answer.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[UUID, Aggregate] = OrderedDict()

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        aggregate = self._entries.get(aggregate_id)
        if aggregate is not None:
            self._entries.move_to_end(aggregate_id)
        return aggregate

    def put(self, aggregate: Aggregate) -> None:
        self._entries[aggregate.id] = aggregate
        self._entries.move_to_end(aggregate.id)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def evict(self, aggregate_ids: object) -> None:
        for aggregate_id in aggregate_ids:  # type: ignore[attr-defined]
            self._entries.pop(aggregate_id, None)

    def __len__(self) -> int:
        return len(self._entries)


class Scope:
    """What one command sees: the batch's uncommitted state, the cache, then the event store."""

    def __init__(
        self,
        app: Application[UUID],
        batch: dict[UUID, Aggregate],
        cache: AggregateCache | None,
        provenance: Provenance,
        *,
        now: datetime,
    ) -> None:
        self._app = app
        self._batch = batch
        self._cache = cache
        self.provenance = provenance
        self.now = now  # when the command runs (its business time may be earlier)
        self.touched: dict[UUID, Aggregate] = {}
        self.shared: set[UUID] = set()  # touched objects also held by the batch or the cache

    def _load(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id in self.touched:
            return self.touched[aggregate_id]
        aggregate = self._batch.get(aggregate_id)
        if aggregate is None and self._cache is not None:
            aggregate = self._cache.get(aggregate_id)
        if aggregate is not None:
            self.shared.add(aggregate_id)
        else:
            try:
                aggregate = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        self.touched[aggregate_id] = aggregate
        return aggregate

    def get(self, kind: type[A], key: str) -> A:
        """The aggregate of this kind with this business key; NotFoundError names it if there is none."""
        aggregate = self._load(kind.create_id(key))
        if not isinstance(aggregate, kind):
            raise NotFoundError(record_name(kind), key)
        return aggregate

    def find(self, kind: type[A], key: str) -> A | None:
        """The aggregate of this kind with this business key, if there is one."""
        aggregate = self._load(kind.create_id(key))
        return aggregate if isinstance(aggregate, kind) else None

    def ensure_new(self, kind: type[Aggregate], key: str) -> None:
        """Refuses to create a second aggregate under a business key (ids derive from the keys)."""
        if self._load(kind.create_id(key)) is not None:
            raise AlreadyExistsError(record_name(kind), key)

    def add(self, aggregate: Aggregate) -> None:
        self.touched[aggregate.id] = aggregate

    def has_partial_changes(self) -> bool:
        """Whether a failed command left events on objects that the batch or the cache still holds."""
        return any(self.touched[i].pending_events for i in self.shared)


def record_name(kind: type[Aggregate]) -> str:
    """What the plant calls a record of this kind, in refusals ("lot", "work order")."""
    return str(getattr(kind, "record_name", kind.__name__))
