"""Runs projections in the background of a process, woken by commits instead of polling hard.

In `mes serve` the command bus wakes the runners after every commit; on PostgreSQL a LISTEN on
the event table's channel also wakes them for commits made by other processes; on SQLite they poll.
While a store is unreachable they wait and try again, with one warning per outage, not one per try.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence

import msgspec
import psycopg

from application.service import Chronicle, connection_failed, first_line
from infrastructure.settings import PostgresTarget
from projections.runner import Outage, ReadModelProjection, ReadModelRunner
from projections.store import ReadStore

log = logging.getLogger("chronicle.projections")

FIRST_RETRY_S, LONGEST_RETRY_S = 1.0, 60.0


class Advanced:
    """Lets readers waiting for a position wake up soon after a page commits."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def signal(self) -> None:
        self._event.set()

    async def wait_briefly(self, timeout: float = 0.05) -> None:
        await asyncio.to_thread(self._event.wait, timeout)
        self._event.clear()


class Failing(msgspec.Struct, frozen=True):
    """A view whose catch-up keeps failing for a reason other than an unreachable store."""

    name: str
    error: str
    failures: int
    since: float  # time.time() of the first failure in a row
    next_attempt_in_s: float


class _Watched:
    """One runner and how its last attempts went."""

    def __init__(self, runner: ReadModelRunner) -> None:
        self.runner = runner
        self.failures = 0
        self.since = 0.0
        self.error = ""
        self.next_attempt = 0.0  # time.monotonic() before which the runner is left alone

    def failed(self, error: BaseException, first_pause: float) -> float:
        if not self.failures:
            self.since = time.time()
        self.failures += 1
        self.error = first_line(error)
        pause = float(min(LONGEST_RETRY_S, first_pause * 2 ** (self.failures - 1)))
        self.next_attempt = time.monotonic() + pause
        return pause

    def recovered(self) -> None:
        if self.failures:
            log.info("projection %s recovered after %d failed attempts", self.runner.name, self.failures)
        self.failures = 0
        self.next_attempt = 0.0


class ProjectionSupervisor:
    """Keeps a set of projections up to date in one background thread.

    Each view catches up on its own: one that fails (a bug in it, a row it cannot write) is tried
    again with growing pauses (1 s doubling to a minute), logged, and reported by `failing()` for
    /health, while the others keep up. A lost store pauses them all, with one warning per outage.
    """

    def __init__(
        self,
        app: Chronicle,
        store: ReadStore,
        projections: Sequence[type[ReadModelProjection]],
        *,
        listen_to: PostgresTarget | None = None,
        poll_interval: float = 0.25,
        min_interval: float = 0.05,
        page_size: int = 2000,
        first_retry_s: float = FIRST_RETRY_S,
    ) -> None:
        self.app = app
        self.first_retry_s = first_retry_s
        self.watched = [_Watched(ReadModelRunner(app, store, p(store), page_size=page_size)) for p in projections]
        self.listen_to = listen_to
        self.poll_interval = poll_interval
        self.min_interval = min_interval
        self.wakeup = threading.Event()
        self.advanced = Advanced()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def names(self) -> list[str]:
        return [w.runner.name for w in self.watched]

    def start(self) -> None:
        self._threads.append(threading.Thread(target=self._run, name="chronicle-projections", daemon=True))
        if self.listen_to is not None:
            self._threads.append(threading.Thread(target=self._listen, name="chronicle-listen", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def notify(self) -> None:
        """Called after a commit: there is something new to project."""
        self.wakeup.set()

    def failing(self) -> list[Failing]:
        """The views that failed their last attempt, with why, since when and when they are tried next."""
        now = time.monotonic()
        return [
            Failing(w.runner.name, w.error, w.failures, w.since, round(max(0.0, w.next_attempt - now), 1))
            for w in self.watched
            if w.failures
        ]

    def catch_up(self) -> None:
        """Brings every view that is not waiting out a failure up to the log head. Raises only
        when a store is unreachable (every view would fail alike)."""
        now = time.monotonic()
        for watched in self.watched:
            if watched.next_attempt > now:
                continue
            try:
                covered = watched.runner.catch_up()
            except Exception as error:
                if connection_failed(error):
                    raise
                pause = watched.failed(error, self.first_retry_s)
                log.exception(
                    "projection %s failed (%d in a row); retrying in %.0f s",
                    watched.runner.name,
                    watched.failures,
                    pause,
                )
                continue
            watched.recovered()
            if covered:
                self.advanced.signal()

    def _run(self) -> None:
        outage = Outage("projections")
        while not self._stop.is_set():
            try:
                self.catch_up()
            except Exception as error:  # a lost store: wait and try again, quietly
                self._stop.wait(outage.failed(self.app, error))
                continue
            outage.passed()
            # A wake-up per commit would cost every view a transaction per command; letting commits
            # gather for a moment turns them into pages, for a bounded delay of the read side.
            self._stop.wait(self.min_interval)
            self.wakeup.wait(self._next_wait())
            self.wakeup.clear()

    def _next_wait(self) -> float:
        """Until the next poll, or sooner when a failed view is due again."""
        due = [w.next_attempt - time.monotonic() for w in self.watched if w.failures]
        return max(0.0, min([self.poll_interval, *due]))

    def _listen(self) -> None:
        target = self.listen_to
        lost_at: float | None = None
        while target is not None and not self._stop.is_set():
            try:
                with psycopg.connect(target.conninfo(), autocommit=True, connect_timeout=5) as conn:
                    conn.execute('LISTEN "chronicle_events"')
                    if lost_at is not None:
                        log.info("LISTEN connection back after %.1f s", time.monotonic() - lost_at)
                        lost_at = None
                        self.wakeup.set()  # commits made meanwhile were not announced
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wakeup.set()
            except psycopg.Error as error:
                # One line per outage: the runners poll meanwhile, so nothing waits on this.
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.warning("LISTEN connection lost (%s); reconnecting", first_line(error))
                self._stop.wait(1.0)
