"""The read side on real SQLite and PostgreSQL stores: pages, positions, restarts, rebuilds, rivals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from api.capabilities import PROJECTIONS as ALL_PROJECTIONS
from api.runtime import Runtime
from domain.ids import lot_id, work_order_id
from domain.material_lot import MaterialLot
from domain.work_order import WorkOrder
from infrastructure.settings import Settings
from projections.runner import ReadModelRunner, Recorded, rebuild
from projections.store import ReadStore, Tx, open_read_store
from projections.traceability.equipment import EquipmentProjection
from projections.traceability.lots import LotsProjection, get_lot
from projections.traceability.materials import MaterialsProjection
from projections.traceability.work_orders import WorkOrdersProjection, get_work_order
from tests.builders import consume, plant_commands, provenance, qty, receive, running_order
from tests.integration.scenarios import (
    genealogy_extras,
    position_of,
    project,
    recorded_events,
    reference_snapshot,
    rows_of,
    run,
    run_demo_shift,
    run_together,
    shadow_tables,
    snapshot,
    stock_movements,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0
KILLS = 5


class PowerCutError(Exception):
    """The process died in the middle of a page."""


@pytest.fixture
def open_store(settings: Settings) -> Iterator[Callable[[], ReadStore]]:
    """Opens read stores on the test's database (one per simulated process); all closed after."""
    opened: list[ReadStore] = []

    def open_one() -> ReadStore:
        store = open_read_store(settings)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], ReadStore]) -> ReadStore:
    return open_store()


def mes(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", *args]


def mes_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "MES_DATABASE_URL": settings.database_url,
        "MES_ADMIN_DATABASE_URL": settings.admin_database_url,
    }


def consumed_sugar(store: ReadStore, order_number: str) -> Decimal:
    found = get_work_order(store, order_number)
    assert found is not None
    _, _, materials = found
    (sugar,) = [m for m in materials if m["material_code"] == "SUGAR"]
    return Decimal(str(sugar["consumed_quantity"]))


def an_order_consuming_sugar(runtime: Runtime, consumptions: int) -> None:
    run(runtime, [*plant_commands(), receive("SUG-1", value=1000), *running_order("WO-1")])
    run(runtime, [consume("WO-1", "SUG-1", 3) for _ in range(consumptions)])


def test_a_page_moves_the_view_and_its_position_together(runtime: Runtime, store: ReadStore) -> None:
    an_order_consuming_sugar(runtime, consumptions=4)
    page_end = runtime.app.recorder.select_notifications(start=0, limit=12, inclusive_of_start=False)[-1].id
    runner = ReadModelRunner(runtime.app, store, WorkOrdersProjection(store), page_size=12)

    assert runner.step() == 12
    assert position_of(store, "work_orders") == page_end
    with store.reader() as tx:
        rows = tx.execute("SELECT order_number, state, position FROM rm_work_orders")
    assert rows == [{"order_number": "WO-1", "state": "Running", "position": page_end}]  # created, released, started
    assert consumed_sugar(store, "WO-1") == 0  # the consumptions come after the page

    runner.catch_up()
    assert position_of(store, "work_orders") == runtime.app.max_position()
    assert consumed_sugar(store, "WO-1") == 4 * 3


def test_a_page_that_fails_half_way_changes_neither_the_view_nor_its_position(
    runtime: Runtime, store: ReadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(runtime, [*plant_commands(), receive("SUG-1", value=1000), *running_order("WO-1")])
    before_consumption = runtime.app.max_position()
    run(runtime, [consume("WO-1", "SUG-1", 3) for _ in range(6)])
    projection = WorkOrdersProjection(store)
    runner = ReadModelRunner(runtime.app, store, projection, page_size=5)
    runner.catch_up(until=before_consumption)
    view_before = snapshot(store, WorkOrdersProjection)
    real_apply = projection.apply

    def apply_then_lose_power(tx: Tx, page: Sequence[Recorded]) -> None:
        real_apply(tx, page)
        written = tx.execute("SELECT consumed_quantity FROM rm_work_order_materials WHERE material_code = 'SUGAR'")
        assert Decimal(str(written[0]["consumed_quantity"])) > 0, "the page wrote nothing before failing"
        raise PowerCutError

    monkeypatch.setattr(projection, "apply", apply_then_lose_power)
    with pytest.raises(PowerCutError):
        runner.step()

    assert snapshot(store, WorkOrdersProjection) == view_before
    assert position_of(store, "work_orders") == before_consumption

    restarted = ReadModelRunner(runtime.app, store, WorkOrdersProjection(store), page_size=5)
    restarted.catch_up()
    order: WorkOrder = runtime.app.repository.get(work_order_id("WO-1"))
    assert consumed_sugar(store, "WO-1") == order.consumed["SUGAR"].value == 6 * 3
    assert position_of(store, "work_orders") == runtime.app.max_position()


def test_a_restarted_runner_resumes_from_its_position_and_ends_like_one_that_never_stopped(
    open_runtime: Callable[[], Runtime], open_store: Callable[[], ReadStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_runtime()
    end = run_demo_shift(first)
    run(first, genealogy_extras(end))
    first_store = open_store()
    halfway = first.app.max_position() // 2
    stopped_at = {}
    for projection_class in ALL_PROJECTIONS:
        runner = ReadModelRunner(first.app, first_store, projection_class(first_store), page_size=7)
        runner.catch_up(until=halfway)
        stopped_at[projection_class.name] = runner.position
        assert any(snapshot(first_store, projection_class).values()), "stopped before the view had any rows"
    first_store.close()
    first.close()

    restarted = open_runtime()
    receipts, moves = stock_movements(end, 20)
    run(restarted, [*receipts, *moves])
    store = open_store()
    starts: list[int | None] = []
    real_select = restarted.app.recorder.select_notifications

    def select_notifications(start: int | None, limit: int, *args: Any, **kwargs: Any) -> Any:
        starts.append(start)
        return real_select(start, limit, *args, **kwargs)

    monkeypatch.setattr(restarted.app.recorder, "select_notifications", select_notifications)
    for projection_class in ALL_PROJECTIONS:
        starts.clear()
        ReadModelRunner(restarted.app, store, projection_class(store), page_size=7).catch_up()
        assert starts[0] == stopped_at[projection_class.name] == halfway
        assert position_of(store, projection_class.name) == restarted.app.max_position()
    monkeypatch.undo()

    for projection_class in ALL_PROJECTIONS:
        assert snapshot(store, projection_class) == reference_snapshot(restarted, store, projection_class)


def test_events_a_view_ignores_still_advance_its_position(
    runtime: Runtime, store: ReadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(runtime, plant_commands())
    for projection_class in (EquipmentProjection, MaterialsProjection):
        project(runtime, store, projection_class)
    run(runtime, [receive("SUG-1"), receive("SUG-2"), *running_order("WO-1"), consume("WO-1", "SUG-1", 5)])
    head = runtime.app.max_position()

    for projection_class in (EquipmentProjection, MaterialsProjection):
        view_before = snapshot(store, projection_class)
        projection = projection_class(store)
        pages: list[Sequence[Recorded]] = []
        monkeypatch.setattr(projection, "apply", lambda tx, page, seen=pages: seen.append(page))
        ReadModelRunner(runtime.app, store, projection).catch_up()
        assert pages == []
        assert position_of(store, projection_class.name) == head
        assert snapshot(store, projection_class) == view_before


@contextmanager
def rebuilding_lots(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """`mes projections rebuild lots` in its own process, killed (SIGKILL) if still running at the end."""
    process = subprocess.Popen(  # noqa: S603 - our own CLI, with fixed arguments
        mes("projections", "rebuild", "lots", "--page-size", "3"),
        cwd=REPO_ROOT,
        env=mes_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=WAIT_S)


def wait_for_rebuild_to_reach(store: ReadStore, process: subprocess.Popen[bytes], since: int, target: int) -> None:
    """Polls the rebuild's tracking row until it reaches `target`; checks it never falls back before `since`."""
    deadline = time.monotonic() + WAIT_S
    while True:
        current = position_of(store, "lots#rebuild")
        if since:
            assert current is not None, "the rebuild's tracking row vanished before it finished"
            assert current >= since, f"the rebuild started over at {current} instead of resuming at {since}"
        if current is not None and current >= target:
            return
        assert process.poll() is None, f"the rebuild ended (status {process.returncode}) before it could be killed"
        assert time.monotonic() < deadline, f"the rebuild did not reach position {target} in {WAIT_S} s"


LOT_CREATIONS = {f"MaterialLot.{kind}" for kind in ("Received", "Produced", "CreatedBySplit", "CreatedByMerge")}


def test_a_rebuild_killed_again_and_again_resumes_and_ends_equal_to_a_clean_replay(
    settings: Settings, runtime: Runtime, store: ReadStore
) -> None:
    end = run_demo_shift(runtime)
    receipts, moves = stock_movements(end, 600)
    run_together(runtime, receipts)
    run_together(runtime, moves)
    head = runtime.app.max_position()
    created_at = [r.position for r in recorded_events(runtime) if r.kind in LOT_CREATIONS]
    project(runtime, store, LotsProjection)
    view_before = rows_of(store, "rm_lots")
    lot_before = get_lot(store, "MV-0007")
    stride = head // (KILLS + 2)  # kills spread over the history, the last stretch left to the final run

    reached = 0
    for kill in range(1, KILLS + 1):
        with rebuilding_lots(settings) as process:
            wait_for_rebuild_to_reach(store, process, since=reached, target=kill * stride)
            assert get_lot(store, "MV-0007") == lot_before  # readers keep reading during the rebuild
            process.send_signal(signal.SIGKILL)
        killed_at = position_of(store, "lots#rebuild")
        assert killed_at is not None, "the rebuild finished before it was killed"
        assert reached < killed_at < head
        reached = killed_at
        with store.reader() as tx:
            (shadow,) = tx.execute("SELECT count(*) AS lots, max(position) AS last FROM rm_lots__rebuild")
        # The copy holds exactly the pages up to its position: none half-applied, none lost.
        assert shadow["lots"] == sum(1 for p in created_at if p <= killed_at)
        assert shadow["last"] <= killed_at
        assert rows_of(store, "rm_lots") == view_before
        assert position_of(store, "lots") == head

    finished = subprocess.run(  # noqa: S603
        mes("projections", "rebuild", "lots", "--page-size", "3"),
        cwd=REPO_ROOT,
        env=mes_env(settings),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert f"rebuilt lots up to position {head}" in finished.stdout
    assert rows_of(store, "rm_lots") == view_before
    assert position_of(store, "lots#rebuild") is None
    assert position_of(store, "lots") == head
    assert shadow_tables(store) == set()


def test_a_view_can_be_rebuilt_again_after_a_rebuild(runtime: Runtime, store: ReadStore) -> None:
    end = run_demo_shift(runtime)
    run(runtime, genealogy_extras(end))
    project(runtime, store, LotsProjection)
    view_before = rows_of(store, "rm_lots")
    head = runtime.app.max_position()

    assert rebuild(runtime.app, store, LotsProjection, page_size=50) == head
    assert rebuild(runtime.app, store, LotsProjection, page_size=50) == head

    assert rows_of(store, "rm_lots") == view_before
    assert position_of(store, "lots#rebuild") is None
    assert shadow_tables(store) == set()


class Rival:
    """One of two runners of the same view, in its own 'process' (runtime and store), on a thread."""

    def __init__(self, runtime: Runtime, store: ReadStore, page_size: int, applied: list[int]) -> None:
        projection = WorkOrdersProjection(store)
        real_apply = projection.apply

        def apply_and_note(tx: Tx, page: Sequence[Recorded]) -> None:
            real_apply(tx, page)
            applied.extend(r.position for r in page)

        projection.apply = apply_and_note  # type: ignore[method-assign]
        self.runner = ReadModelRunner(runtime.app, store, projection, page_size=page_size)
        self.errors: list[BaseException] = []

    def catch_up(self, start: threading.Barrier) -> None:
        start.wait(timeout=WAIT_S)
        try:
            self.runner.catch_up()
        except Exception as error:
            self.errors.append(error)


def race_two_runners(
    open_runtime: Callable[[], Runtime], open_store: Callable[[], ReadStore], page_size: int
) -> tuple[list[int], list[BaseException]]:
    applied: list[int] = []
    rivals = [Rival(open_runtime(), open_store(), page_size, applied) for _ in range(2)]
    start = threading.Barrier(len(rivals))
    threads = [threading.Thread(target=rival.catch_up, args=(start,)) for rival in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_S)
    assert not any(thread.is_alive() for thread in threads)
    return applied, [error for rival in rivals for error in rival.errors]


def work_order_positions(runtime: Runtime) -> list[int]:
    return [r.position for r in recorded_events(runtime) if r.kind.startswith("WorkOrder.")]


def test_two_runners_of_one_view_never_apply_a_page_twice(
    open_runtime: Callable[[], Runtime], open_store: Callable[[], ReadStore]
) -> None:
    writer, store = open_runtime(), open_store()
    an_order_consuming_sugar(writer, consumptions=30)
    run(writer, [*running_order("WO-2"), *[consume("WO-2", "SUG-1", 2) for _ in range(20)]])
    ReadModelRunner(writer.app, store, WorkOrdersProjection(store)).step(until=0)  # the view has started

    applied, errors = race_two_runners(open_runtime, open_store, page_size=2)

    assert errors == []
    assert Counter(applied) == Counter(work_order_positions(writer))
    assert consumed_sugar(store, "WO-1") == 90
    assert consumed_sugar(store, "WO-2") == 40
    assert position_of(store, "work_orders") == writer.app.max_position()
    assert snapshot(store, WorkOrdersProjection) == reference_snapshot(writer, store, WorkOrdersProjection)


def meet_where_the_tracking_row_is_missing(store: ReadStore, rendezvous: threading.Barrier) -> None:
    """Makes a runner wait, after finding no tracking row, until its rival has found none either."""
    real_transaction = store.transaction

    @contextmanager
    def transaction() -> Iterator[Tx]:
        with real_transaction() as tx:
            real_position = tx.position

            def position(name: str, *, lock: bool = False) -> int | None:
                found = real_position(name, lock=lock)
                if found is None:
                    rendezvous.wait(timeout=WAIT_S)
                return found

            tx.position = position  # type: ignore[method-assign]
            yield tx

    store.transaction = transaction  # type: ignore[method-assign]


def test_two_runners_starting_a_new_view_at_once_apply_each_page_once(
    settings: Settings,
    open_runtime: Callable[[], Runtime],
    open_store: Callable[[], ReadStore],
) -> None:
    writer = open_runtime()
    an_order_consuming_sugar(writer, consumptions=10)
    first_order_event = work_order_positions(writer)[0]
    open_rival_store = open_store
    if settings.is_postgres:
        # On PostgreSQL both runners can find the row missing; make sure they do (SQLite's BEGIN
        # IMMEDIATE lets only one transaction in at a time, so the second finds the row made).
        rendezvous = threading.Barrier(2)

        def open_rival_store() -> ReadStore:
            store = open_store()
            meet_where_the_tracking_row_is_missing(store, rendezvous)
            return store

    applied, errors = race_two_runners(open_runtime, open_rival_store, page_size=first_order_event)

    assert errors == []
    assert Counter(applied) == Counter(work_order_positions(writer))
    store = open_store()
    assert consumed_sugar(store, "WO-1") == 30
    assert position_of(store, "work_orders") == writer.app.max_position()


def test_status_prints_each_projection_with_its_position_and_lag(
    settings: Settings, runtime: Runtime, store: ReadStore
) -> None:
    an_order_consuming_sugar(runtime, consumptions=5)
    head = runtime.app.max_position()
    project(runtime, store, EquipmentProjection)
    ReadModelRunner(runtime.app, store, LotsProjection(store), page_size=4).catch_up(until=10)

    status = subprocess.run(  # noqa: S603
        mes("projections", "status"),
        cwd=REPO_ROOT,
        env=mes_env(settings),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )

    assert status.returncode == 0, status.stderr
    assert f"(log head {head})" in status.stdout
    rows = {
        m["name"]: (int(m["position"]), int(m["lag"]))
        for m in re.finditer(r"^(?P<name>\w+)\s+(?P<position>\d+)\s+(?P<lag>-?\d+)\s*$", status.stdout, re.MULTILINE)
    }
    assert rows == {
        "equipment": (head, 0),
        "materials": (0, head),
        "lots": (10, head - 10),
        "work_orders": (0, head),
        "genealogy": (0, head),
        "equipment_states": (0, head),
        "equipment_counts": (0, head),
        "shift_calendars": (0, head),
        "downtime_reasons": (0, head),
    }


def test_events_recorded_before_they_carried_their_outcome_are_shown_by_the_lots_own_rules(
    runtime: Runtime, open_store: Callable[[], ReadStore]
) -> None:
    """Released, Consumed, MergedInto and Scrapped now say the lot's status after them; a log
    written before they did (status None) must still be read right, by the aggregate and the view."""
    store = open_store()
    run(runtime, [*plant_commands(), receive("OLD-Q", value=10, quarantined=True), receive("OLD-C", value=10)])
    quarantined: MaterialLot = runtime.app.repository.get(lot_id("OLD-Q"))
    emptied: MaterialLot = runtime.app.repository.get(lot_id("OLD-C"))
    quarantined.hold(reason="recall notice", provenance=provenance())
    quarantined._released(reason="notice withdrawn", provenance=provenance())  # an event without status
    emptied._scrapped(quantity=qty(10, "kg"), reason="spilled", provenance=provenance())
    runtime.app.save(quarantined, emptied)

    project(runtime, store, LotsProjection)
    shown = {n: get_lot(store, n) for n in ("OLD-Q", "OLD-C")}
    replayed = {n: runtime.app.repository.get(lot_id(n)) for n in ("OLD-Q", "OLD-C")}

    assert all(getattr(e, "status", None) is None for e in runtime.app.history(lot_id("OLD-Q"))[-1:])
    assert {n: row["status"] for n, row in shown.items() if row} == {"OLD-Q": "Quarantine", "OLD-C": "Scrapped"}
    assert {n: str(lot.status) for n, lot in replayed.items()} == {"OLD-Q": "Quarantine", "OLD-C": "Scrapped"}
