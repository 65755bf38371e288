"""MaterialDefinition: converting a counted amount to the material's base unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import InvalidQuantityError, UnitMismatchError
from domain.material_definition import MaterialDefinition
from domain.values import Quantity, UnitConversion
from tests.builders import provenance, qty


def material(base_unit: str = "kg", *conversions: UnitConversion, code: str = "SUGAR") -> MaterialDefinition:
    return MaterialDefinition.define(
        code=code, name=code.title(), base_unit=base_unit, conversions=conversions, provenance=provenance()
    )


def sugar() -> MaterialDefinition:
    """Sugar, counted in kg or in 25 kg bags."""
    return material("kg", UnitConversion("bag", Decimal(25)))


def test_an_amount_in_the_base_unit_passes_unchanged() -> None:
    assert sugar().to_base(qty("12.5", "kg")) == qty("12.5", "kg")


def test_a_material_specific_unit_is_converted_by_its_factor() -> None:
    assert sugar().to_base(qty(3, "bag")) == qty(75, "kg")


def test_a_material_specific_unit_does_not_apply_to_another_material() -> None:
    salt = material("kg", code="SALT")

    with pytest.raises(UnitMismatchError):
        salt.to_base(qty(1, "bag"))


@pytest.mark.parametrize(
    ("amount", "base_unit", "expected"),
    [
        (qty(500, "g"), "kg", qty("0.5", "kg")),
        (qty(2, "t"), "kg", qty(2000, "kg")),
        (qty("1.5", "kg"), "g", qty(1500, "g")),
        (qty(250, "mL"), "L", qty("0.25", "L")),
        (qty(3, "hL"), "L", qty(300, "L")),
        (qty(2, "L"), "mL", qty(2000, "mL")),
    ],
)
def test_standard_conversions_hold_for_every_material(amount: Quantity, base_unit: str, expected: Quantity) -> None:
    converted = material(base_unit).to_base(amount)

    assert converted == expected
    assert converted.unit == base_unit


def test_a_material_specific_factor_wins_over_the_standard_one() -> None:
    # A "t" of this material is a tote of 800 kg, not a tonne.
    totes = material("kg", UnitConversion("t", Decimal(800)))

    assert totes.to_base(qty(2, "t")) == qty(1600, "kg")


@pytest.mark.parametrize("unit", ["L", "bag", "ea", "KG"])
def test_a_unit_without_a_conversion_is_refused(unit: str) -> None:
    with pytest.raises(UnitMismatchError) as refused:
        material("kg").to_base(qty(1, unit))

    assert refused.value.expected == "kg"
    assert refused.value.given == unit


def test_a_conversion_added_later_is_used() -> None:
    water = material("L", code="WATER")
    water.define_conversion(UnitConversion("drum", Decimal(200)), provenance=provenance())

    assert water.to_base(qty(2, "drum")) == qty(400, "L")


@pytest.mark.parametrize("factor", [Decimal(0), Decimal(-25)])
def test_a_conversion_factor_that_is_not_positive_is_refused(factor: Decimal) -> None:
    with pytest.raises(InvalidQuantityError):
        material("kg", UnitConversion("bag", factor))
    with pytest.raises(InvalidQuantityError):
        sugar().define_conversion(UnitConversion("drum", factor), provenance=provenance())
