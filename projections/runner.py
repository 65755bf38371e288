"""The projection runner: notification log pages in, view rows and tracking position out, together.

Each page is one transaction on the read store: the runner locks its tracking row, reads the
notifications after it, applies them to the view and moves the position, then commits. A crash
anywhere leaves the view and its position as they were before the page (exactly-once), and two
runners of the same view serialise on the tracking row instead of applying a page twice.

A failed page rolls back, so nothing is applied twice; the supervisor tries the runner again
with backoff (`Outage` keeps a lost store to one warning per outage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from application.service import Chronicle, first_line
from projections.store import ReadStore, Row, Tx

log = logging.getLogger("chronicle.projections")

REBUILD_SUFFIX = "__rebuild"
STATISTICS_EVERY = 20_000  # notifications covered between two checks of a view's planner statistics
FIRST_PAUSE_S, LONGEST_PAUSE_S = 0.05, 1.0


def utc_text(moment: datetime) -> str:
    """Times are stored as UTC ISO text, so that text comparison is time comparison on SQLite too."""
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:  # within hours of the calendar's first or last day
        edge = datetime.min if moment.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=UTC).isoformat()


@dataclass(frozen=True)
class Recorded:
    """A domain event with its position in the notification log."""

    position: int
    event: Any

    @property
    def kind(self) -> str:
        return type(self.event).__qualname__

    @property
    def at(self) -> str:
        """The event's business time, as the views store times."""
        return utc_text(self.event.provenance.occurred_at)


class Outage:
    """How long the stores have been unreachable for one worker: one warning when that begins,
    one line when it ends, and the pause before the next attempt (doubling, up to a second)."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.since: float | None = None
        self.failures = 0

    def failed(self, app: Chronicle, error: BaseException) -> float:
        """Notes a failure; returns how long to wait before trying again."""
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s paused: store unreachable (%s); retrying", self.worker, first_line(error))
        else:
            log.debug("%s: store still unreachable (%s)", self.worker, first_line(error))
        app.discard_broken_connections()
        return float(min(LONGEST_PAUSE_S, FIRST_PAUSE_S * 2 ** (self.failures - 1)))

    def passed(self) -> None:
        if self.since is not None:
            log.info("%s resumed after %.1f s", self.worker, time.monotonic() - self.since)
        self.since = None
        self.failures = 0


Applier = Callable[..., Any]


def applies(*event_classes: type) -> Callable[[Applier], Applier]:
    """Marks a projection's method as the one that applies these domain events to its view."""

    def mark(method: Applier) -> Applier:
        method.applies = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class ReadModelProjection:
    """A read model: the tables it owns and how the events it applies change them.

    Methods marked `@applies(SomeAggregate.SomeEvent)` say which events a view reads; the topics
    the runner selects come from those classes, so a renamed or removed event fails at import, not
    by leaving the view silently stale. A page is applied in order, between `begin` and `finish`.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    appliers: ClassVar[dict[type, str]] = {}  # event class -> name of the method applying it
    topics: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        appliers = dict(cls.appliers)
        for attribute, member in vars(cls).items():
            for event_class in getattr(member, "applies", ()):
                appliers[event_class] = attribute
        cls.appliers = appliers
        cls.topics = frozenset(get_topic(event_class) for event_class in appliers)

    def __init__(self, store: ReadStore, suffix: str = "") -> None:
        self.store = store
        self.t = {table: table + suffix for table in self.tables}

    def apply(self, tx: Tx, page: Sequence[Recorded]) -> None:
        self.begin(tx, page)
        for recorded in page:
            self.apply_one(recorded, getattr(self, self.appliers[type(recorded.event)]))
        self.finish(tx)

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        """Before a page: read what it will change."""

    def apply_one(self, recorded: Recorded, applier: Applier) -> None:
        applier(recorded)

    def finish(self, tx: Tx) -> None:
        """After a page: write what it changed."""


class RowPerAggregateProjection(ReadModelProjection):
    """A view keeping one row per aggregate, keyed by its id: the appliers of `creations` return
    the new row; the others change the row in place. Each change stamps `updated_at` (the event's
    business time) and `position`, where the view has those columns."""

    table: ClassVar[str]
    key: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    creations: ClassVar[tuple[type, ...]]

    def begin(self, tx: Tx, page: Sequence[Recorded]) -> None:
        self.rows = Rows(tx, self.t[self.table], self.key, self.columns)
        self.rows.load(str(r.event.originator_id) for r in page if type(r.event) not in self.creations)

    def apply_one(self, recorded: Recorded, applier: Applier) -> None:
        key = str(recorded.event.originator_id)
        if type(recorded.event) in self.creations:
            self.rows.put({self.key: key, **applier(recorded)})
            row = self.rows.get(key)
        else:
            row = self.rows.get(key)
            if row is None:  # an aggregate this view never saw created (not one of its kind)
                return
            applier(row, recorded)
        assert row is not None  # noqa: S101 - put just above
        if "updated_at" in self.columns:
            row["updated_at"] = recorded.at
        row["position"] = recorded.position

    def finish(self, tx: Tx) -> None:
        self.rows.flush()


class Rows:
    """The rows of one table that a page touches: read once, changed in memory, written back once."""

    def __init__(self, tx: Tx, table: str, key: str, columns: Sequence[str]) -> None:
        self.tx = tx
        self.table = table
        self.key = key
        self.columns = tuple(columns)
        self.rows: dict[Any, Row] = {}

    def load(self, keys: Iterable[Any]) -> None:
        wanted = [k for k in dict.fromkeys(keys) if k not in self.rows]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found = self.tx.execute(f"SELECT * FROM {self.table} WHERE {self.key} IN ({marks})", chunk)  # noqa: S608
            for row in found:
                self.rows[row[self.key]] = row

    def get(self, key: Any) -> Row | None:
        return self.rows.get(key)

    def put(self, row: Row) -> None:
        self.rows[row[self.key]] = row

    def flush(self) -> None:
        self.tx.upsert(
            self.table, self.key, self.columns, [tuple(row.get(c) for c in self.columns) for row in self.rows.values()]
        )


class ReadModelRunner:
    """Keeps one read model up to date with the notification log, a page per transaction."""

    def __init__(
        self,
        app: Chronicle,
        store: ReadStore,
        projection: ReadModelProjection,
        *,
        tracking_name: str | None = None,
        page_size: int = 2000,
        keep_statistics: bool = True,
    ) -> None:
        self.app = app
        self.store = store
        self.projection = projection
        self.name = tracking_name or projection.name
        self.page_size = page_size
        self.position = 0
        self.keep_statistics = keep_statistics  # off for tables no one reads yet (a rebuild's copies)
        self.unanalysed = 0  # notifications covered since the view's statistics were last checked

    def step(self, until: int | None = None) -> int:
        """Applies the next page (not past `until`); returns how many notifications it covered."""
        with self.store.transaction() as tx:
            position = tx.position(self.name, lock=True)
            if position is None:
                # Two runners starting at once: the second waits for the first's row, then locks it.
                tx.execute(
                    "INSERT INTO projection_positions (name, position) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
                    (self.name,),
                )
                position = tx.position(self.name, lock=True) or 0
            limit = self.page_size if until is None else max(0, min(self.page_size, until - position))
            if limit == 0:
                self.position = position
                return 0
            notifications: Sequence[Notification] = self.app.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
            if not notifications:
                self.position = position
                return 0
            wanted = self.projection.topics
            mapper = self.app.mapper
            page = [Recorded(n.id, mapper.to_domain_event(n)) for n in notifications if n.topic in wanted]
            if page:
                self.projection.apply(tx, page)
            self.position = notifications[-1].id
            tx.set_position(self.name, self.position)
        return len(notifications)

    def catch_up(self, until: int | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Applies pages until the log (or `until`) is reached; returns the notifications covered."""
        total = 0
        while count := self.step(until):
            total += count
            self.unanalysed += count
            if progress:
                progress(self.position)
            if self.keep_statistics and self.unanalysed >= STATISTICS_EVERY:
                self.refresh_statistics()
        return total

    def refresh_statistics(self, *, force: bool = False) -> None:
        """Keeps the planner's statistics of the view's tables current as they grow."""
        self.unanalysed = 0
        analysed = self.store.refresh_statistics(self.projection.t.values(), force=force)
        if analysed:
            log.info("projection %s: analysed %s", self.name, ", ".join(analysed))


def rebuild(
    app: Chronicle,
    store: ReadStore,
    projection_class: type[ReadModelProjection],
    *,
    page_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Replays the whole log into fresh copies of a view's tables, then swaps them in at once.

    Readers keep reading the old tables until the swap. An interrupted rebuild resumes where it
    stopped (its copies and their position are committed page by page). `progress` hears the
    position after each page and at the end, with the log head it is going to. Returns the position.
    """
    name = projection_class.name
    shadow = name + "#rebuild"
    with store.transaction() as tx:
        if tx.position(shadow, lock=True) is None:
            for table in projection_class.tables:
                tx.execute(f"DROP TABLE IF EXISTS {table}{REBUILD_SUFFIX}")
                store.copy_table(tx, table, table + REBUILD_SUFFIX)
            tx.set_position(shadow, 0)
    runner = ReadModelRunner(
        app,
        store,
        projection_class(store, REBUILD_SUFFIX),
        tracking_name=shadow,
        page_size=page_size,
        keep_statistics=False,
    )
    head = app.max_position()
    runner.catch_up(until=head, progress=(lambda position: progress(position, head)) if progress else None)
    runner.refresh_statistics(force=True)  # fresh tables have none; the swap keeps them
    if progress:
        progress(runner.position, head)
    with store.transaction() as tx:
        position = tx.position(shadow, lock=True) or 0
        tx.position(name, lock=True)
        for table in projection_class.tables:
            tx.execute(f"DROP TABLE {table}")
            tx.execute(f"ALTER TABLE {table}{REBUILD_SUFFIX} RENAME TO {table}")
        tx.set_position(name, position)
        tx.execute("DELETE FROM projection_positions WHERE name = ?", (shadow,))
    log.info("rebuilt %s up to position %d", name, position)
    return position
