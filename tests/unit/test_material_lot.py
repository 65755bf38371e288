"""MaterialLot: receipt, consumption, split, merge, moves, holds and scrap of one lot of material."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.errors import (
    IllegalLotTransitionError,
    InsufficientQuantityError,
    InvalidQuantityError,
    LotExpiredError,
    LotNotAvailableError,
    MergeError,
    ReasonRequiredError,
    RequiredValueError,
    UnitMismatchError,
)
from domain.ids import lot_id
from domain.material_lot import MaterialLot
from domain.values import LotStatus, Quantity
from tests.builders import T0, provenance, qty
from tests.builders import received_lot as lot

TODAY = T0.date()


def held(lot_number: str = "LOT-1", value: str | int = 100) -> MaterialLot:
    result = lot(lot_number, value)
    result.hold(reason="suspected contamination", provenance=provenance())
    result.collect_events()
    return result


def consume(target: MaterialLot, quantity: Quantity, **overrides: Any) -> None:
    target.consume(
        quantity,
        order_number=overrides.get("order_number", "WO-1"),
        operation=10,
        equipment_code="MIX",
        provenance=overrides.get("provenance", provenance()),
    )


def event_names(target: MaterialLot) -> list[str]:
    return [type(e).__name__ for e in target.collect_events()]


# Receive


def test_a_received_lot_is_available_where_it_was_put() -> None:
    received = MaterialLot.receive(
        lot_number="LOT-1",
        material_code="SUGAR",
        quantity=qty(100, "kg"),
        location="WH",
        supplier_lot="SUP-9",
        expiry=date(2027, 1, 31),
        provenance=provenance(),
    )

    assert received.id == lot_id("LOT-1")
    assert received.status is LotStatus.AVAILABLE
    assert received.quantity == qty(100, "kg")
    assert received.location == "WH"
    assert received.supplier_lot == "SUP-9"
    assert received.expiry == date(2027, 1, 31)
    assert event_names(received) == ["Received"]


def test_a_lot_received_into_quarantine_waits_for_inspection() -> None:
    assert lot(quarantined=True).status is LotStatus.QUARANTINE


@pytest.mark.parametrize("value", [0, -5])
def test_receiving_a_lot_without_a_positive_quantity_is_refused(value: int) -> None:
    with pytest.raises(InvalidQuantityError):
        lot(value=value)


# Consume


def test_consuming_part_of_a_lot_leaves_the_rest_available() -> None:
    sugar = lot(value=100)

    consume(sugar, qty(30, "kg"))

    assert sugar.quantity == qty(70, "kg")
    assert sugar.status is LotStatus.AVAILABLE
    assert event_names(sugar) == ["Consumed"]


def test_consuming_exactly_all_of_a_lot_makes_it_consumed() -> None:
    sugar = lot(value="12.5")

    consume(sugar, qty("12.50", "kg"))

    assert sugar.quantity.value == 0
    assert sugar.is_empty
    assert sugar.status is LotStatus.CONSUMED


def test_consuming_more_than_the_lot_holds_is_refused() -> None:
    sugar = lot(value=10)

    with pytest.raises(InsufficientQuantityError):
        consume(sugar, qty("10.001", "kg"))

    assert sugar.quantity == qty(10, "kg")
    assert event_names(sugar) == []


@pytest.mark.parametrize("value", [0, -1])
def test_consuming_nothing_or_a_negative_amount_is_refused(value: int) -> None:
    sugar = lot(value=10)

    with pytest.raises(InvalidQuantityError):
        consume(sugar, qty(value, "kg"))

    assert sugar.quantity == qty(10, "kg")


def test_consuming_from_a_held_lot_is_refused() -> None:
    sugar = held()

    with pytest.raises(LotNotAvailableError) as refused:
        consume(sugar, qty(1, "kg"))

    assert refused.value.status == LotStatus.ON_HOLD
    assert sugar.quantity == qty(100, "kg")


def test_consuming_from_a_quarantined_lot_is_refused() -> None:
    sugar = lot(quarantined=True)

    with pytest.raises(LotNotAvailableError) as refused:
        consume(sugar, qty(1, "kg"))

    assert refused.value.status == LotStatus.QUARANTINE
    assert event_names(sugar) == []


def test_consuming_from_an_expired_lot_is_refused() -> None:
    sugar = lot(expiry=TODAY - timedelta(days=1))

    with pytest.raises(LotExpiredError):
        consume(sugar, qty(1, "kg"), provenance=provenance(at=T0))

    assert sugar.quantity == qty(100, "kg")


def test_a_lot_may_still_be_consumed_on_its_expiry_date() -> None:
    sugar = lot(expiry=TODAY)

    consume(sugar, qty(1, "kg"), provenance=provenance(at=T0))

    assert sugar.quantity == qty(99, "kg")


def test_consuming_in_another_unit_than_the_lot_is_refused() -> None:
    sugar = lot(unit="kg")

    with pytest.raises(UnitMismatchError):
        consume(sugar, qty(1, "L"))

    assert sugar.quantity == qty(100, "kg")


def test_consuming_from_a_consumed_lot_is_refused() -> None:
    sugar = lot(value=5)
    consume(sugar, qty(5, "kg"))

    with pytest.raises(LotNotAvailableError):
        consume(sugar, qty(1, "kg"))


# Split


def test_a_split_moves_part_of_the_lot_into_a_new_lot() -> None:
    sugar = lot(value=100)

    child = sugar.split(qty(40, "kg"), into_lot="LOT-1A", provenance=provenance())

    assert sugar.quantity == qty(60, "kg")
    assert child.quantity == qty(40, "kg")
    assert child.id == lot_id("LOT-1A")
    assert child.material_code == sugar.material_code
    assert child.location == sugar.location
    assert event_names(sugar) == ["SplitOff"]
    (created,) = child.collect_events()
    assert type(created).__name__ == "CreatedBySplit"
    assert created.parent_lot == "LOT-1"  # type: ignore[attr-defined]


def test_a_split_off_lot_keeps_the_status_and_expiry_of_its_parent() -> None:
    expiry = date(2026, 9, 30)
    sugar = lot(expiry=expiry, quarantined=True)

    child = sugar.split(qty(10, "kg"), into_lot="LOT-1A", provenance=provenance())

    assert child.status is LotStatus.QUARANTINE
    assert child.expiry == expiry
    assert sugar.status is LotStatus.QUARANTINE


def test_a_split_off_a_held_lot_is_held_too_for_the_same_reason() -> None:
    child = held().split(qty(10, "kg"), into_lot="LOT-1A", provenance=provenance())

    assert child.status is LotStatus.ON_HOLD
    assert child.hold_reason == "suspected contamination"
    assert child.supplier_lot == "SUP-LOT-1"


def test_releasing_the_hold_on_a_split_off_lot_returns_it_to_its_parents_status() -> None:
    sugar = lot(quarantined=True)
    sugar.hold(reason="failed incoming inspection", provenance=provenance())
    child = sugar.split(qty(10, "kg"), into_lot="LOT-1A", provenance=provenance())

    child.release(reason="retest passed", provenance=provenance())

    assert child.status is LotStatus.QUARANTINE


def test_splitting_off_the_whole_lot_is_refused() -> None:
    sugar = lot(value=100)

    with pytest.raises(InvalidQuantityError, match="whole lot"):
        sugar.split(qty(100, "kg"), into_lot="LOT-1A", provenance=provenance())

    assert sugar.quantity == qty(100, "kg")
    assert event_names(sugar) == []


def test_splitting_more_than_the_lot_holds_is_refused() -> None:
    with pytest.raises(InsufficientQuantityError):
        lot(value=100).split(qty(101, "kg"), into_lot="LOT-1A", provenance=provenance())


def test_splitting_a_lot_into_itself_is_refused() -> None:
    sugar = lot(value=100)

    with pytest.raises(InvalidQuantityError, match="same lot"):
        sugar.split(qty(10, "kg"), into_lot="LOT-1", provenance=provenance())

    assert sugar.quantity == qty(100, "kg")
    assert event_names(sugar) == []


def test_splitting_a_consumed_lot_is_refused() -> None:
    sugar = lot(value=5)
    consume(sugar, qty(5, "kg"))

    with pytest.raises(IllegalLotTransitionError):
        sugar.split(qty(1, "kg"), into_lot="LOT-1A", provenance=provenance())


# Merge


def test_merging_pools_whole_lots_and_uses_up_the_sources() -> None:
    a, b = lot("LOT-A", 30), lot("LOT-B", "12.5")

    merged = MaterialLot.merge([a, b], lot_number="LOT-M", location="LINE-1", provenance=provenance())

    assert merged.quantity == qty("42.5", "kg")
    assert merged.location == "LINE-1"
    assert merged.status is LotStatus.AVAILABLE
    for source in (a, b):
        assert source.status is LotStatus.CONSUMED
        assert source.quantity.value == 0
        assert event_names(source) == ["MergedInto"]
    (created,) = merged.collect_events()
    assert [p.lot_number for p in created.sources] == ["LOT-A", "LOT-B"]  # type: ignore[attr-defined]
    assert sum(p.quantity.value for p in created.sources) == merged.quantity.value  # type: ignore[attr-defined]


def test_a_merged_lot_expires_with_its_earliest_source() -> None:
    sources = [
        lot("LOT-A", expiry=date(2026, 12, 1)),
        lot("LOT-B", expiry=None),
        lot("LOT-C", expiry=date(2026, 10, 15)),
    ]

    merged = MaterialLot.merge(sources, lot_number="LOT-M", location="WH", provenance=provenance())

    assert merged.expiry == date(2026, 10, 15)


def test_merging_lots_of_different_materials_is_refused() -> None:
    sugar, water = lot("LOT-A"), lot("LOT-B", material="WATER")

    with pytest.raises(MergeError, match="WATER"):
        MaterialLot.merge([sugar, water], lot_number="LOT-M", location="WH", provenance=provenance())

    assert sugar.status is water.status is LotStatus.AVAILABLE
    assert event_names(sugar) == event_names(water) == []


@pytest.mark.parametrize("count", [0, 1])
def test_merging_fewer_than_two_lots_is_refused(count: int) -> None:
    with pytest.raises(MergeError, match="at least two"):
        MaterialLot.merge([lot()][:count], lot_number="LOT-M", location="WH", provenance=provenance())


def test_merging_a_lot_with_itself_is_refused() -> None:
    sugar = lot()

    with pytest.raises(MergeError, match="itself"):
        MaterialLot.merge([sugar, sugar], lot_number="LOT-M", location="WH", provenance=provenance())


def test_merging_a_held_lot_is_refused_and_changes_no_source() -> None:
    available, on_hold = lot("LOT-A", 30), held("LOT-B", 20)

    with pytest.raises(LotNotAvailableError):
        MaterialLot.merge([available, on_hold], lot_number="LOT-M", location="WH", provenance=provenance())

    assert available.quantity == qty(30, "kg")
    assert available.status is LotStatus.AVAILABLE
    assert on_hold.status is LotStatus.ON_HOLD
    assert event_names(available) == event_names(on_hold) == []


def test_merging_lots_counted_in_different_units_is_refused() -> None:
    with pytest.raises(UnitMismatchError):
        MaterialLot.merge(
            [lot("LOT-A", unit="kg"), lot("LOT-B", unit="g")],
            lot_number="LOT-M",
            location="WH",
            provenance=provenance(),
        )


# Move


def test_moving_a_lot_changes_its_location() -> None:
    sugar = lot()

    sugar.move(to_location="LINE-1", provenance=provenance())

    assert sugar.location == "LINE-1"
    (moved,) = sugar.collect_events()
    assert (moved.from_location, moved.to_location) == ("WH", "LINE-1")  # type: ignore[attr-defined]


def test_moving_a_lot_to_where_it_already_is_records_nothing() -> None:
    sugar = lot()

    sugar.move(to_location="WH", provenance=provenance())

    assert event_names(sugar) == []


def test_a_held_lot_may_still_be_moved() -> None:
    sugar = held()

    sugar.move(to_location="QA-CAGE", provenance=provenance())

    assert sugar.location == "QA-CAGE"
    assert sugar.status is LotStatus.ON_HOLD


@pytest.mark.parametrize("location", ["", "  "])
def test_moving_a_lot_nowhere_is_refused(location: str) -> None:
    with pytest.raises(RequiredValueError):
        lot().move(to_location=location, provenance=provenance())


def test_moving_a_consumed_lot_is_refused() -> None:
    sugar = lot(value=5)
    consume(sugar, qty(5, "kg"))

    with pytest.raises(IllegalLotTransitionError):
        sugar.move(to_location="LINE-1", provenance=provenance())


# Hold and release


def test_holding_a_lot_blocks_it_with_the_reason() -> None:
    sugar = lot()

    sugar.hold(reason="suspected contamination", provenance=provenance())

    assert sugar.status is LotStatus.ON_HOLD
    assert sugar.hold_reason == "suspected contamination"
    assert event_names(sugar) == ["Held"]


def test_a_quarantined_lot_may_be_put_on_hold() -> None:
    sugar = lot(quarantined=True)

    sugar.hold(reason="failed incoming inspection", provenance=provenance())

    assert sugar.status is LotStatus.ON_HOLD


@pytest.mark.parametrize("reason", ["", "   "])
def test_holding_a_lot_without_a_reason_is_refused(reason: str) -> None:
    sugar = lot()

    with pytest.raises(ReasonRequiredError):
        sugar.hold(reason=reason, provenance=provenance())

    assert sugar.status is LotStatus.AVAILABLE
    assert event_names(sugar) == []


def test_holding_a_held_lot_is_refused() -> None:
    with pytest.raises(IllegalLotTransitionError):
        held().hold(reason="again", provenance=provenance())


def test_releasing_a_held_lot_makes_it_available() -> None:
    sugar = held()

    sugar.release(reason="lab results clean", provenance=provenance())

    assert sugar.status is LotStatus.AVAILABLE
    assert sugar.hold_reason is None
    assert event_names(sugar) == ["Released"]


def test_lifting_a_hold_on_a_quarantined_lot_keeps_it_in_quarantine() -> None:
    sugar = lot(quarantined=True)
    sugar.hold(reason="supplier recall notice", provenance=provenance())

    sugar.release(reason="recall does not cover this lot", provenance=provenance())

    assert sugar.status is LotStatus.QUARANTINE


def test_releasing_a_quarantined_lot_makes_it_available() -> None:
    sugar = lot(quarantined=True)

    sugar.release(reason="incoming inspection passed", provenance=provenance())

    assert sugar.status is LotStatus.AVAILABLE


@pytest.mark.parametrize("reason", ["", "   "])
def test_releasing_a_lot_without_a_reason_is_refused(reason: str) -> None:
    sugar = held()

    with pytest.raises(ReasonRequiredError):
        sugar.release(reason=reason, provenance=provenance())

    assert sugar.status is LotStatus.ON_HOLD


def test_releasing_an_available_lot_is_refused() -> None:
    with pytest.raises(IllegalLotTransitionError):
        lot().release(reason="nothing to release", provenance=provenance())


@pytest.mark.parametrize("action", ["hold", "release"])
def test_holding_or_releasing_a_consumed_lot_is_refused(action: str) -> None:
    sugar = lot(value=5)
    consume(sugar, qty(5, "kg"))
    sugar.collect_events()

    with pytest.raises(IllegalLotTransitionError) as refused:
        getattr(sugar, action)(reason="a reason", provenance=provenance())

    assert refused.value.status == LotStatus.CONSUMED
    assert sugar.status is LotStatus.CONSUMED
    assert event_names(sugar) == []


# Scrap


@pytest.mark.parametrize("reason", ["", "  "])
def test_scrapping_without_a_reason_is_refused(reason: str) -> None:
    sugar = lot()

    with pytest.raises(ReasonRequiredError):
        sugar.scrap(reason=reason, provenance=provenance())

    assert sugar.quantity == qty(100, "kg")
    assert sugar.status is LotStatus.AVAILABLE


def test_scrapping_part_of_a_lot_leaves_the_rest() -> None:
    sugar = lot(value=100)

    sugar.scrap(reason="torn bag", quantity=qty(25, "kg"), provenance=provenance())

    assert sugar.quantity == qty(75, "kg")
    assert sugar.status is LotStatus.AVAILABLE
    assert event_names(sugar) == ["Scrapped"]


def test_scrapping_a_whole_lot_makes_it_scrapped() -> None:
    sugar = held()

    sugar.scrap(reason="contaminated", provenance=provenance())

    assert sugar.quantity.value == 0
    assert sugar.status is LotStatus.SCRAPPED


def test_scrapping_the_remaining_quantity_makes_it_scrapped() -> None:
    sugar = lot(value=10)

    sugar.scrap(reason="spilled", quantity=qty(10, "kg"), provenance=provenance())

    assert sugar.status is LotStatus.SCRAPPED


def test_scrapping_more_than_the_lot_holds_is_refused() -> None:
    sugar = lot(value=10)

    with pytest.raises(InsufficientQuantityError):
        sugar.scrap(reason="spilled", quantity=qty(11, "kg"), provenance=provenance())

    assert sugar.quantity == qty(10, "kg")


def test_scrapping_a_scrapped_lot_is_refused() -> None:
    sugar = lot()
    sugar.scrap(reason="contaminated", provenance=provenance())

    with pytest.raises(IllegalLotTransitionError):
        sugar.scrap(reason="again", provenance=provenance())
