"""Equipment: the ISA-95 hierarchy from the site down to a work cell, and decommissioning."""

from __future__ import annotations

import pytest

from api.runtime import Runtime
from application.traceability.equipment import DecommissionEquipment, RegisterEquipment
from domain.equipment import Equipment
from domain.errors import EquipmentDecommissionedError, HierarchyError, ReasonRequiredError
from domain.ids import equipment_id
from domain.values import PARENT_LEVEL, EquipmentLevel, EquipmentStatus
from tests.builders import context, next_id, provenance

L = EquipmentLevel


def register(code: str, level: EquipmentLevel, parent: Equipment | None = None) -> Equipment:
    return Equipment.register(code=code, name=f"{level} {code}", level=level, parent=parent, provenance=provenance())


def hierarchy() -> dict[EquipmentLevel, Equipment]:
    """One piece of equipment at every level, each under the one above it."""
    site = register("S1", L.SITE)
    area = register("S1.A", L.AREA, site)
    line = register("S1.A.L1", L.PRODUCTION_LINE, area)
    cell = register("S1.A.L1.C1", L.WORK_CELL, line)
    return {L.SITE: site, L.AREA: area, L.PRODUCTION_LINE: line, L.WORK_CELL: cell}


def test_a_site_is_the_top_of_the_hierarchy_and_has_no_parent() -> None:
    site = register("S1", L.SITE)

    assert site.level is L.SITE
    assert site.parent_code is None
    assert site.status is EquipmentStatus.ACTIVE
    assert site.id == equipment_id("S1")
    assert [type(e).__name__ for e in site.collect_events()] == ["Registered"]


def test_a_site_under_a_parent_is_refused() -> None:
    other_site = register("S0", L.SITE)

    with pytest.raises(HierarchyError, match="top of the hierarchy"):
        register("S1", L.SITE, other_site)


@pytest.mark.parametrize(
    ("level", "parent_level"),
    [(L.AREA, L.SITE), (L.PRODUCTION_LINE, L.AREA), (L.WORK_CELL, L.PRODUCTION_LINE)],
)
def test_equipment_is_registered_under_a_parent_of_the_level_directly_above(
    level: EquipmentLevel, parent_level: EquipmentLevel
) -> None:
    parent = hierarchy()[parent_level]

    child = register("NEW", level, parent)

    assert child.level is level
    assert child.parent_code == parent.code
    assert child.status is EquipmentStatus.ACTIVE


@pytest.mark.parametrize(
    ("level", "parent_level"),
    [
        (level, parent_level)
        for level in L
        for parent_level in L
        if PARENT_LEVEL[level] is not None and PARENT_LEVEL[level] is not parent_level
    ],
)
def test_equipment_under_a_parent_of_the_wrong_level_is_refused(
    level: EquipmentLevel, parent_level: EquipmentLevel
) -> None:
    parent = hierarchy()[parent_level]

    with pytest.raises(HierarchyError, match=f"belongs under a {PARENT_LEVEL[level]}"):
        register("NEW", level, parent)


@pytest.mark.parametrize("level", [L.AREA, L.PRODUCTION_LINE, L.WORK_CELL])
def test_equipment_below_the_site_without_a_parent_is_refused(level: EquipmentLevel) -> None:
    with pytest.raises(HierarchyError, match=f"needs a {PARENT_LEVEL[level]}"):
        register("NEW", level)


@pytest.mark.parametrize("parent_level", [L.SITE, L.AREA, L.PRODUCTION_LINE])
def test_equipment_under_a_decommissioned_parent_is_refused(parent_level: EquipmentLevel) -> None:
    plant = hierarchy()
    parent = plant[parent_level]
    parent.decommission(reason="line dismantled", provenance=provenance())
    level = next(level for level, above in PARENT_LEVEL.items() if above is parent_level)

    with pytest.raises(EquipmentDecommissionedError, match=repr(parent.code)):
        register("NEW", level, parent)


def test_decommissioning_takes_equipment_out_of_service() -> None:
    cell = hierarchy()[L.WORK_CELL]
    cell.collect_events()

    cell.decommission(reason="replaced by a new filler", provenance=provenance())

    assert cell.status is EquipmentStatus.DECOMMISSIONED
    (decommissioned,) = cell.collect_events()
    assert type(decommissioned).__name__ == "Decommissioned"
    assert decommissioned.reason == "replaced by a new filler"  # type: ignore[attr-defined]
    with pytest.raises(EquipmentDecommissionedError):
        cell.ensure_in_service()


def test_active_equipment_is_in_service() -> None:
    cell = hierarchy()[L.WORK_CELL]

    cell.ensure_in_service()  # does not raise

    assert cell.status is EquipmentStatus.ACTIVE


@pytest.mark.parametrize("reason", ["", "   "])
def test_decommissioning_without_a_reason_is_refused(reason: str) -> None:
    cell = hierarchy()[L.WORK_CELL]
    cell.collect_events()

    with pytest.raises(ReasonRequiredError):
        cell.decommission(reason=reason, provenance=provenance())

    assert cell.status is EquipmentStatus.ACTIVE
    assert cell.collect_events() == []


def test_decommissioning_twice_is_refused() -> None:
    cell = hierarchy()[L.WORK_CELL]
    cell.decommission(reason="worn out", provenance=provenance())
    cell.collect_events()

    with pytest.raises(EquipmentDecommissionedError):
        cell.decommission(reason="still worn out", provenance=provenance())

    assert cell.collect_events() == []


def test_registering_under_a_decommissioned_line_through_the_bus_records_nothing(memory_runtime: Runtime) -> None:
    for command in [
        RegisterEquipment(command_id=next_id(), code="S1", name="Site", level=L.SITE),
        RegisterEquipment(command_id=next_id(), code="S1.A", name="Area", level=L.AREA, parent_code="S1"),
        RegisterEquipment(
            command_id=next_id(), code="S1.A.L1", name="Line", level=L.PRODUCTION_LINE, parent_code="S1.A"
        ),
        DecommissionEquipment(command_id=next_id(), code="S1.A.L1", reason="line dismantled"),
    ]:
        memory_runtime.bus.execute(command, context())
    before = memory_runtime.app.max_position()

    with pytest.raises(EquipmentDecommissionedError):
        memory_runtime.bus.execute(
            RegisterEquipment(command_id=next_id(), code="CELL", name="Cell", level=L.WORK_CELL, parent_code="S1.A.L1"),
            context(),
        )

    assert memory_runtime.app.max_position() == before
