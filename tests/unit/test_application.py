"""The application through its command bus: atomic commands, refusals, idempotency and group commit."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from api.runtime import Runtime, build_runtime
from application.bus import CommandResult, IdempotencyKeyReusedError
from application.commands import Command, InvalidCommandError, QuantityIn
from application.traceability.lots import HoldLot, MoveLot
from domain.errors import InsufficientQuantityError, LotNotAvailableError, MaterialNotInBomError, NotFoundError
from domain.ids import lot_id, work_order_id
from domain.material_lot import MaterialLot
from domain.values import LotStatus
from domain.work_order import WorkOrder
from infrastructure.settings import Settings
from tests.builders import T0, consume, context, next_id, plant_commands, qty, receive, running_order

WAIT_S = 30.0  # a guard against a hung writer, never a timing assumption


class GateClock:
    """A clock that, once closed, keeps the writer thread waiting inside the next command that reads it.

    While the writer waits, the test queues more commands; when the gate opens they all go into the
    writer's next batch. That makes batching deterministic without any sleep.
    """

    def __init__(self, start: datetime = T0) -> None:
        self.current = start
        self.entered = threading.Event()
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()

    def close(self) -> None:
        self.entered.clear()
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def now(self) -> datetime:
        if not self._open.is_set():
            self.entered.set()
            if not self._open.wait(WAIT_S):
                msg = "the test never opened the gate"
                raise RuntimeError(msg)
        with self._lock:
            self.current += timedelta(seconds=1)
            return self.current


@pytest.fixture
def gate() -> GateClock:
    return GateClock()


@pytest.fixture
def gated_runtime(gate: GateClock) -> Iterator[Runtime]:
    """Chronicle on the in-memory store, with a clock the test can hold the writer at."""
    runtime = build_runtime(Settings.from_env({"MES_DATABASE_URL": "memory://"}), clock=gate)
    yield runtime
    runtime.close()


def run(runtime: Runtime, *commands: Command) -> list[CommandResult]:
    return [runtime.bus.execute(command, context()) for command in commands]


def plant_with_running_order(runtime: Runtime) -> None:
    """The plant, sugar lots LOT-A (100 kg) and LOT-B (10 kg), and WO-1 running."""
    run(runtime, *plant_commands(), receive("LOT-A", value=100), receive("LOT-B", value=10), *running_order("WO-1"))


def lot(runtime: Runtime, lot_number: str) -> MaterialLot:
    stored: MaterialLot = runtime.app.repository.get(lot_id(lot_number))
    return stored


def work_order(runtime: Runtime, order_number: str = "WO-1") -> WorkOrder:
    stored: WorkOrder = runtime.app.repository.get(work_order_id(order_number))
    return stored


def in_one_batch(runtime: Runtime, gate: GateClock, commands: Sequence[Command]) -> list[Future[CommandResult]]:
    """Submits `commands` so that the writer runs them all in one batch, after a plug command of its own."""
    batches_before = runtime.bus.batches
    gate.close()
    plug = runtime.bus.submit(MoveLot(command_id=next_id("plug"), lot_number="LOT-A", location="PLUG"), context())
    assert gate.entered.wait(WAIT_S), "the writer never reached the plug command"
    futures = [runtime.bus.submit(command, context()) for command in commands]
    gate.open()
    assert plug.result(WAIT_S).position is not None
    for future in futures:
        future.exception(WAIT_S)  # wait for every answer, refused or not
    assert runtime.bus.batches == batches_before + 2, "the commands did not share one batch"
    return futures


def test_consuming_changes_the_lot_and_the_order_together_at_one_position(memory_runtime: Runtime) -> None:
    plant_with_running_order(memory_runtime)
    lot_version = lot(memory_runtime, "LOT-A").version
    order_version = work_order(memory_runtime).version
    before = memory_runtime.app.max_position()

    result = memory_runtime.bus.execute(consume("WO-1", "LOT-A", 30), context())

    assert result.position == before + 2 == memory_runtime.app.max_position()
    assert result.result.remaining == "70 kg"
    recorded = memory_runtime.app.recorder.select_notifications(start=before + 1, limit=10)
    assert {n.originator_id for n in recorded} == {lot_id("LOT-A"), work_order_id("WO-1")}
    assert lot(memory_runtime, "LOT-A").version == lot_version + 1
    assert lot(memory_runtime, "LOT-A").quantity == qty(70, "kg")
    assert work_order(memory_runtime).version == order_version + 1
    assert work_order(memory_runtime).consumed == {"SUGAR": qty(30, "kg")}


def test_a_refused_command_records_nothing_and_raises_the_domain_error(memory_runtime: Runtime) -> None:
    plant_with_running_order(memory_runtime)
    before = memory_runtime.app.max_position()

    with pytest.raises(InsufficientQuantityError):
        memory_runtime.bus.execute(consume("WO-1", "LOT-B", 11), context())

    assert memory_runtime.app.max_position() == before
    assert lot(memory_runtime, "LOT-B").quantity == qty(10, "kg")
    assert work_order(memory_runtime).consumed == {}


def test_a_command_refused_by_the_order_records_nothing(memory_runtime: Runtime) -> None:
    plant_with_running_order(memory_runtime)
    run(memory_runtime, receive("LOT-SY", material="SYRUP", value=5, unit="L"))
    before = memory_runtime.app.max_position()

    with pytest.raises(MaterialNotInBomError):
        memory_runtime.bus.execute(consume("WO-1", "LOT-SY", 1, "L"), context())

    assert memory_runtime.app.max_position() == before


def test_a_repeated_command_id_answers_the_first_result_and_records_nothing(memory_runtime: Runtime) -> None:
    plant_with_running_order(memory_runtime)
    command = consume("WO-1", "LOT-A", 30)
    first = memory_runtime.bus.execute(command, context())
    after_first = memory_runtime.app.max_position()

    again = memory_runtime.bus.execute(command, context())

    assert again.replayed is True
    assert first.replayed is False
    assert (again.command_id, again.command_type, again.position, again.result) == (
        first.command_id,
        first.command_type,
        first.position,
        first.result,
    )
    assert memory_runtime.app.max_position() == after_first
    assert lot(memory_runtime, "LOT-A").quantity == qty(70, "kg")


def test_a_repeated_command_id_with_another_payload_is_refused_and_records_nothing(memory_runtime: Runtime) -> None:
    plant_with_running_order(memory_runtime)
    command = consume("WO-1", "LOT-A", 30)
    memory_runtime.bus.execute(command, context())
    after_first = memory_runtime.app.max_position()

    with pytest.raises(IdempotencyKeyReusedError, match="another payload"):
        memory_runtime.bus.execute(msgspec.structs.replace(command, quantity=QuantityIn(Decimal(31), "kg")), context())

    assert memory_runtime.app.max_position() == after_first
    assert lot(memory_runtime, "LOT-A").quantity == qty(70, "kg")


def test_a_repeated_command_id_with_another_payload_in_the_same_batch_is_refused(
    gated_runtime: Runtime, gate: GateClock
) -> None:
    plant_with_running_order(gated_runtime)
    command = consume("WO-1", "LOT-A", 30)

    first, second = in_one_batch(gated_runtime, gate, [command, msgspec.structs.replace(command, operation=20)])

    assert first.result().replayed is False
    with pytest.raises(IdempotencyKeyReusedError):
        second.result()
    assert lot(gated_runtime, "LOT-A").quantity == qty(70, "kg")


def test_another_payload_under_the_id_of_a_refused_command_in_the_same_batch_is_refused_as_a_reused_key(
    gated_runtime: Runtime, gate: GateClock
) -> None:
    plant_with_running_order(gated_runtime)
    too_much = consume("WO-1", "LOT-A", 500)

    first, second = in_one_batch(gated_runtime, gate, [too_much, msgspec.structs.replace(too_much, operation=20)])

    assert isinstance(first.exception(), InsufficientQuantityError)
    assert isinstance(second.exception(), IdempotencyKeyReusedError)
    assert lot(gated_runtime, "LOT-A").quantity == qty(100, "kg")


@pytest.mark.parametrize("offset", [timedelta(days=-400), timedelta(minutes=10)], ids=["a-year-ago", "in-the-future"])
def test_a_business_time_outside_the_window_is_refused_whatever_the_channel(
    memory_runtime: Runtime, offset: timedelta
) -> None:
    plant_with_running_order(memory_runtime)
    before = memory_runtime.app.max_position()
    at = memory_runtime.bus.clock.now() + offset

    with pytest.raises(InvalidCommandError) as refused:
        memory_runtime.bus.execute(msgspec.structs.replace(consume("WO-1", "LOT-A", 30), occurred_at=at), context())

    assert [field for field, _ in refused.value.errors] == ["occurred_at"]
    assert memory_runtime.app.max_position() == before


def test_a_command_id_submitted_twice_at_once_is_recorded_once(memory_runtime: Runtime) -> None:
    plant_with_running_order(memory_runtime)
    command = consume("WO-1", "LOT-A", 30)
    before = memory_runtime.app.max_position()

    futures = [memory_runtime.bus.submit(command, context()) for _ in range(2)]
    results = [future.result(WAIT_S) for future in futures]

    assert sorted(r.replayed for r in results) == [False, True]
    assert results[0].position == results[1].position == before + 2
    assert memory_runtime.app.max_position() == before + 2
    assert lot(memory_runtime, "LOT-A").quantity == qty(70, "kg")


def test_a_command_id_repeated_within_one_batch_is_recorded_once(gated_runtime: Runtime, gate: GateClock) -> None:
    plant_with_running_order(gated_runtime)
    command = consume("WO-1", "LOT-A", 30)
    before = gated_runtime.app.max_position()

    first, second = in_one_batch(gated_runtime, gate, [command, command])

    assert first.result().replayed is False
    assert second.result().replayed is True
    assert second.result().position == first.result().position
    assert gated_runtime.app.max_position() == before + 1 + 2  # the plug's move and one consumption
    assert lot(gated_runtime, "LOT-A").quantity == qty(70, "kg")


def test_a_refused_command_repeated_within_one_batch_is_refused_twice(gated_runtime: Runtime, gate: GateClock) -> None:
    plant_with_running_order(gated_runtime)
    command = consume("WO-1", "LOT-B", 11)

    first, second = in_one_batch(gated_runtime, gate, [command, command])

    assert isinstance(first.exception(), InsufficientQuantityError)
    assert isinstance(second.exception(), InsufficientQuantityError)
    assert lot(gated_runtime, "LOT-B").quantity == qty(10, "kg")


def test_commands_from_many_threads_are_committed_in_batches(gated_runtime: Runtime, gate: GateClock) -> None:
    plant_with_running_order(gated_runtime)
    run(gated_runtime, receive("LOT-C", value=100), receive("LOT-D", value=100), receive("LOT-B2", value=100))
    lots = ["LOT-A", "LOT-B2", "LOT-C", "LOT-D"]
    commands = [consume("WO-1", lots[i % 4], 1) for i in range(200)]
    bus = gated_runtime.bus
    before = gated_runtime.app.max_position()
    gate.close()
    plug = bus.submit(MoveLot(command_id=next_id("plug"), lot_number="LOT-B", location="PLUG"), context())
    assert gate.entered.wait(WAIT_S)

    def submit_share(thread: int) -> list[Future[CommandResult]]:
        return [bus.submit(command, context()) for command in commands[thread::16]]

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [f for share in pool.map(submit_share, range(16)) for f in share]
    gate.open()
    results = [future.result(WAIT_S) for future in futures]

    assert plug.result(WAIT_S).position is not None
    assert len(results) == 200
    assert not any(r.replayed for r in results)
    positions = [r.position for r in results]
    assert len(set(positions)) == 200
    assert gated_runtime.app.max_position() == before + 1 + 2 * 200
    assert bus.batches < bus.commands
    for number in lots:
        assert lot(gated_runtime, number).quantity == qty(50, "kg")
    assert work_order(gated_runtime).consumed == {"SUGAR": qty(200, "kg")}


def test_commands_executed_from_many_threads_all_commit_exactly_once(memory_runtime: Runtime) -> None:
    plant_with_running_order(memory_runtime)
    run(memory_runtime, receive("LOT-C", value=100), receive("LOT-D", value=100), receive("LOT-B2", value=100))
    lots = ["LOT-A", "LOT-B2", "LOT-C", "LOT-D"]
    commands = [consume("WO-1", lots[i % 4], "0.5") for i in range(200)]
    before = memory_runtime.app.max_position()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda command: memory_runtime.bus.execute(command, context()), commands))

    assert len({r.position for r in results}) == 200
    assert memory_runtime.app.max_position() == before + 2 * 200
    for number in lots:
        assert lot(memory_runtime, number).quantity == qty(75, "kg")
    assert work_order(memory_runtime).consumed == {"SUGAR": qty(100, "kg")}


def test_a_command_refused_half_way_leaves_nothing_in_its_batch(gated_runtime: Runtime, gate: GateClock) -> None:
    plant_with_running_order(gated_runtime)
    run(gated_runtime, receive("LOT-H", value=50), HoldLot(command_id=next_id(), lot_number="LOT-H", reason="QA"))
    # The order accepts each of these consumptions; the lot refuses two of them after the order has changed.
    commands = [
        consume("WO-1", "LOT-B", 11),  # first in the batch, more than the lot holds
        consume("WO-1", "LOT-A", 5),
        consume("WO-1", "LOT-H", 1),  # the lot is on hold
        consume("WO-1", "LOT-A", 7),
    ]

    futures = in_one_batch(gated_runtime, gate, commands)

    assert isinstance(futures[0].exception(), InsufficientQuantityError)
    assert isinstance(futures[2].exception(), LotNotAvailableError)
    assert futures[1].result().result.remaining == "95 kg"
    assert futures[3].result().result.remaining == "88 kg"
    order = work_order(gated_runtime)
    assert order.consumed == {"SUGAR": qty(12, "kg")}
    assert order.consumed_lots == ["LOT-A"]
    assert lot(gated_runtime, "LOT-A").quantity == qty(88, "kg")
    assert lot(gated_runtime, "LOT-B").quantity == qty(10, "kg")
    assert lot(gated_runtime, "LOT-H").status is LotStatus.ON_HOLD

    # The writer's cached order carries no trace of the refusals either.
    run(gated_runtime, consume("WO-1", "LOT-B", 10))
    order = work_order(gated_runtime)
    assert order.consumed == {"SUGAR": qty(22, "kg")}
    assert order.consumed_lots == ["LOT-A", "LOT-B"]
    assert [type(e).__name__ for e in gated_runtime.app.history(order.id)].count("MaterialConsumed") == 3


def test_a_consumption_reported_on_unknown_equipment_is_refused(memory_runtime: Runtime) -> None:
    for command in [*plant_commands(), receive("LOT-EQ", 100, "kg"), *running_order("WO-EQ")]:
        memory_runtime.bus.execute(command, context())
    before = memory_runtime.app.max_position()
    report = msgspec.structs.replace(consume("WO-EQ", "LOT-EQ", 5), equipment_code="NO-SUCH-CELL")

    with pytest.raises(NotFoundError, match="NO-SUCH-CELL"):
        memory_runtime.bus.execute(report, context())

    assert memory_runtime.app.max_position() == before


def test_callers_on_two_event_loops_get_their_own_answers_and_refusals(gated_runtime: Runtime, gate: GateClock) -> None:
    plant_with_running_order(gated_runtime)
    bus = gated_runtime.bus
    shares = ([consume("WO-1", "LOT-A", 1) for _ in range(10)], [consume("WO-1", "LOT-A", 1) for _ in range(9)])
    shares[1].append(consume("WO-1", "LOT-B", 11))  # more than LOT-B holds

    async def send_all(share: Sequence[Command]) -> list[CommandResult | BaseException]:
        sent = (bus.execute_async(command, context()) for command in share)
        return await asyncio.gather(*sent, return_exceptions=True)

    gate.close()
    plug = bus.submit(MoveLot(command_id=next_id("plug"), lot_number="LOT-A", location="PLUG"), context())
    assert gate.entered.wait(WAIT_S)
    with ThreadPoolExecutor(max_workers=2) as loops:  # two threads, each with its own event loop
        answers = [loops.submit(asyncio.run, send_all(share)) for share in shares]
        deadline = time.monotonic() + WAIT_S
        while bus._queue.qsize() < 20 and time.monotonic() < deadline:  # all queued while the gate is shut
            threading.Event().wait(0.001)
        gate.open()
        first, second = (future.result(WAIT_S) for future in answers)

    assert plug.result(WAIT_S).position is not None
    assert bus.batches >= 2
    accepted = [*first, *second[:-1]]
    assert all(isinstance(a, CommandResult) for a in accepted)
    assert isinstance(second[-1], InsufficientQuantityError)
    assert len({a.position for a in accepted if isinstance(a, CommandResult)}) == 19
    assert lot(gated_runtime, "LOT-A").quantity == qty(81, "kg")


def test_a_caller_that_gives_up_waiting_leaves_the_others_answered(gated_runtime: Runtime, gate: GateClock) -> None:
    plant_with_running_order(gated_runtime)
    bus = gated_runtime.bus
    gate.close()
    plug = bus.submit(MoveLot(command_id=next_id("plug"), lot_number="LOT-A", location="PLUG"), context())
    assert gate.entered.wait(WAIT_S)

    async def one_gives_up() -> CommandResult:
        impatient = asyncio.ensure_future(bus.execute_async(consume("WO-1", "LOT-A", 1), context()))
        patient = asyncio.ensure_future(bus.execute_async(consume("WO-1", "LOT-A", 2), context()))
        await asyncio.sleep(0)  # one turn of the loop: both commands are queued for one batch
        impatient.cancel()  # gone before the writer answers; its command still runs
        with contextlib.suppress(asyncio.CancelledError):
            await impatient
        gate.open()
        return await asyncio.wait_for(patient, WAIT_S)

    result = asyncio.run(one_gives_up())

    assert plug.result(WAIT_S).position is not None
    assert result.position == gated_runtime.app.max_position()
    assert lot(gated_runtime, "LOT-A").quantity == qty(97, "kg")
