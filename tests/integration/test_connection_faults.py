"""Lost connections on the write side: a batch whose connection broke is run again, and a command
whose COMMIT went through before the connection broke is answered from its receipt, once."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import OperationalError

from api.runtime import Runtime
from domain.ids import lot_id
from domain.material_lot import MaterialLot
from tests.builders import consume, context, plant_commands, qty, receive, running_order


def seed(runtime: Runtime) -> None:
    for command in (*plant_commands(), receive("SUG-1", value=100), *running_order("WO-1")):
        runtime.bus.execute(command, context())


def test_a_commit_whose_acknowledgement_was_lost_is_answered_from_its_receipt_once(runtime: Runtime) -> None:
    seed(runtime)
    real_put = runtime.app.events.put
    calls = {"n": 0}

    def put_then_lose_the_connection(*objs: Any, **kwargs: Any) -> Any:
        recordings = real_put(*objs, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            msg = "server closed the connection unexpectedly (after COMMIT)"
            raise OperationalError(msg)
        return recordings

    runtime.app.events.put = put_then_lose_the_connection  # type: ignore[method-assign]
    position_before = runtime.app.max_position()

    answer = runtime.bus.execute(consume("WO-1", "SUG-1", 40), context())

    assert answer.replayed
    assert answer.position == runtime.app.max_position() > position_before
    lot: MaterialLot = runtime.app.repository.get(lot_id("SUG-1"))
    assert lot.quantity == qty(60, "kg")


def test_a_batch_whose_connection_broke_before_commit_is_recorded_on_the_next_attempt(runtime: Runtime) -> None:
    seed(runtime)
    real_put = runtime.app.events.put
    calls = {"n": 0}

    def lose_the_connection_once(*objs: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            msg = "terminating connection due to administrator command"
            raise OperationalError(msg)
        return real_put(*objs, **kwargs)

    runtime.app.events.put = lose_the_connection_once  # type: ignore[method-assign]

    answer = runtime.bus.execute(consume("WO-1", "SUG-1", 40), context())

    assert not answer.replayed
    assert calls["n"] == 2
    lot: MaterialLot = runtime.app.repository.get(lot_id("SUG-1"))
    assert lot.quantity == qty(60, "kg")
