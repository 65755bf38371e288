from __future__ import annotations

from api.runtime import Runtime
from tests.builders import context, plant_commands, receive


def test_receiving_a_lot_records_one_event_and_answers_its_position(memory_runtime: Runtime) -> None:
    for command in plant_commands():
        memory_runtime.bus.execute(command, context())
    before = memory_runtime.app.max_position()
    result = memory_runtime.bus.execute(receive("LOT-1"), context())
    assert result.position == before + 1
    assert result.result.lot_number == "LOT-1"
