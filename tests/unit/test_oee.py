"""OEE of one equipment: a reference shift computed by hand, and properties for any timeline and
counts (the productive time and the six losses make up planned time; A and Q within [0, 1]; P above
1 only where the units would take longer at the ideal cycle than the machine ran)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.performance.oee import Made, buckets, oee
from tests.timelines import MODE_NAMES, STATE_NAMES, changes, minutes, timeline


def test_a_reference_shift_computed_by_hand() -> None:
    # 8 h in Production. Idle 10 min and Starting 1 (one stop, 11 min), Execute, a 1-minute
    # Suspended (a minor stop), Execute, Held 30 min, Execute to the end. 48,000 good and 600
    # rejects at an ideal 0.5 s a unit: 405 min at the ideal cycle, 400 of them for good units.
    states = timeline(
        (0, "Idle"), (10, "Starting"), (11, "Execute"), (200, "Suspended"), (201, "Execute"), (300, "Held"),
        (330, "Execute"), end=480,
    )  # fmt: skip
    modes = timeline((0, "Production"), end=480)

    figures = oee("FILL-1", states, modes, [Made(48_000, 600, Decimal("0.5"))])

    assert (figures.pbt, figures.adot, figures.adet, figures.apt) == (480, 41, 1, 438)
    assert (figures.pq, figures.gq, figures.sq) == (48_600, 48_000, 600)
    assert (figures.ideal_minutes, figures.productive_minutes) == (405, 400)
    assert figures.availability == pytest.approx(439 / 480, abs=1e-4)  # 0.9146
    assert figures.performance == pytest.approx(405 / 439, abs=1e-4)  # 0.9226
    assert figures.quality == pytest.approx(400 / 405, abs=1e-4)  # 0.9877
    assert figures.oee == pytest.approx(400 / 480, abs=1e-4)  # 0.8333
    assert figures.losses == {
        "breakdowns": 41,
        "setup_and_adjustments": 0,
        "minor_stops": 1,
        "reduced_speed": 33,
        "startup_rejects": 0,
        "production_rejects": 5,
    }


def test_no_planned_time_gives_no_ratios_rather_than_a_division_by_zero() -> None:
    figures = oee("X", timeline((0, "Execute"), end=60), timeline((0, "Maintenance"), end=60), [])

    assert (figures.pbt, figures.availability, figures.performance, figures.quality, figures.oee) == (
        0,
        None,
        None,
        None,
        None,
    )


MADE = st.lists(
    st.builds(Made, st.integers(0, 5000), st.integers(0, 500), st.decimals("0.01", "5", places=2)), max_size=3
)


@given(changes(STATE_NAMES), changes(MODE_NAMES), MADE)
def test_productive_time_and_the_six_losses_make_up_planned_time_and_ratios_stay_in_bounds(
    state_changes: list[tuple[float, str]], mode_changes: list[tuple[float, str]], made: list[Made]
) -> None:
    figures = oee("X", timeline(*state_changes, end=480), timeline(*mode_changes, end=480), made)

    assert figures.productive_minutes + sum(figures.losses.values()) == pytest.approx(figures.pbt, abs=0.01)
    assert figures.adot + figures.adet + figures.apt == pytest.approx(figures.pbt, abs=0.01)
    for ratio in (figures.availability, figures.quality):
        assert ratio is None or 0 <= ratio <= 1
    if figures.performance is not None and figures.performance > 1:
        assert figures.ideal_minutes > figures.pbt - figures.adot  # it ran faster than its ideal cycle
    if None not in (figures.availability, figures.performance, figures.quality, figures.oee):
        product = figures.availability * figures.performance * figures.quality  # type: ignore[operator]
        assert product == pytest.approx(figures.oee, abs=1e-3)


def test_buckets_cut_a_range_into_aligned_pieces_the_last_one_short() -> None:
    cut = buckets(minutes(0), minutes(150), minutes(60) - minutes(0))

    assert cut == [(minutes(0), minutes(60)), (minutes(60), minutes(120)), (minutes(120), minutes(150))]
