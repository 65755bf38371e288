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

import psycopg

from application.service import Chronicle, connection_failed, first_line
from infrastructure.settings import PostgresTarget
from projections.equipment import EquipmentProjection
from projections.genealogy import GenealogyProjection
from projections.lots import LotsProjection
from projections.materials import MaterialsProjection
from projections.runner import Outage, Projection, ProjectionRunner
from projections.store import ReadStore
from projections.work_orders import WorkOrdersProjection

log = logging.getLogger("chronicle.projections")

ALL_PROJECTIONS: tuple[type[Projection], ...] = (
    EquipmentProjection,
    MaterialsProjection,
    LotsProjection,
    WorkOrdersProjection,
    GenealogyProjection,
)
BY_NAME = {p.name: p for p in ALL_PROJECTIONS}


class Advanced:
    """Lets readers waiting for a position wake up soon after a page commits."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def signal(self) -> None:
        self._event.set()

    async def wait_briefly(self, timeout: float = 0.05) -> None:
        await asyncio.to_thread(self._event.wait, timeout)
        self._event.clear()


class ProjectionSupervisor:
    """Keeps a set of projections up to date in one background thread."""

    def __init__(
        self,
        app: Chronicle,
        store: ReadStore,
        projections: Sequence[type[Projection]] = ALL_PROJECTIONS,
        *,
        listen_to: PostgresTarget | None = None,
        poll_interval: float = 0.25,
        min_interval: float = 0.05,
        page_size: int = 2000,
    ) -> None:
        self.app = app
        self.runners = [ProjectionRunner(app, store, p(store), page_size=page_size) for p in projections]
        self.listen_to = listen_to
        self.poll_interval = poll_interval
        self.min_interval = min_interval
        self.wakeup = threading.Event()
        self.advanced = Advanced()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

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

    def catch_up(self) -> None:
        for runner in self.runners:
            if runner.catch_up():
                self.advanced.signal()

    def _run(self) -> None:
        outage = Outage("projections")
        while not self._stop.is_set():
            try:
                self.catch_up()
            except Exception as error:
                if connection_failed(error):  # passes: wait and try again, quietly
                    self._stop.wait(outage.failed(self.app, error))
                else:
                    log.exception("projections failed; retrying in a second")
                    self._stop.wait(1.0)
                continue
            outage.passed()
            # A wake-up per commit would cost every view a transaction per command; letting commits
            # gather for a moment turns them into pages, for a bounded delay of the read side.
            self._stop.wait(self.min_interval)
            self.wakeup.wait(self.poll_interval)
            self.wakeup.clear()

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
