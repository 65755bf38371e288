"""OEE of one equipment: reference shifts computed by hand, and properties for any timeline, shift
calendar and counts (the productive time and the six losses make up planned busy time; A and Q
within [0, 1]; P above 1 only where the units would take longer at the ideal cycle than the
machine ran, which is how a plant running faster than its ideal cycle shows)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.performance.oee import OeeBucket
from domain.reason_tree import Reason
from domain.shift_calendar import Window, subtract
from projections.performance.oee import Made, Oee, buckets, oee
from projections.performance.reasons import Mark
from projections.performance.stops import planned, stops
from tests.timelines import MODE_NAMES, STATE_NAMES, changes, minutes, oee_of, timeline


def test_a_reference_shift_computed_by_hand() -> None:
    # 8 h in Production. Idle 10 min and Starting 1 (one stop, 11 min), Execute, a 1-minute
    # Suspended (a minor stop), Execute, Held 30 min, Execute to the end. 48,000 good and 600
    # rejects at an ideal 0.5 s a unit: 405 min at the ideal cycle, 400 of them for good units.
    states = timeline(
        (0, "Idle"), (10, "Starting"), (11, "Execute"), (200, "Suspended"), (201, "Execute"), (300, "Held"),
        (330, "Execute"), end=480,
    )  # fmt: skip
    modes = timeline((0, "Production"), end=480)

    figures = oee_of(states, modes, [Made(48_000, 600, Decimal("0.5"))])

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


def test_a_reference_shift_with_a_break_a_changeover_and_reasons_computed_by_hand() -> None:
    # 06:00-14:00 with a break from 10:00 to 10:30: POT 450 min, all of it in modes that count, so
    # PBT 450. Changeover from 400 to 430 (AUST 30, a setup loss). Stops in Production: Held 60-90
    # with fault E-17 (a bottle jam: a breakdown), Suspended 200-201 (a minor stop), Stopped 300-320
    # given the planned reason Cleaning (a setup loss). 43,200 good and 600 rejects at 0.5 s: 365
    # minutes at the ideal cycle, 360 of them for good units.
    states = timeline(
        (0, "Execute"), (60, "Held", "E-17"), (90, "Execute"), (200, "Suspended"), (201, "Execute"),
        (300, "Stopped"), (320, "Execute"), end=480,
    )  # fmt: skip
    modes = timeline((0, "Production"), (400, "Changeover"), (430, "Production"), end=480)
    busy = [Window(minutes(0), minutes(240)), Window(minutes(270), minutes(480))]
    cleaning = Mark(minutes(300), "reason", Reason("CIP", "Cleaning", "Cleaning", planned=True), None, "u-1")
    jam = {"E-17": Reason("JAM", "Bottle jam", "Mechanical", planned=False)}
    found = stops("FILL-1", states, modes, busy=busy, marks=[cleaning], faults=jam)

    figures = oee(450, planned(modes, busy), found, [Made(43_200, 600, Decimal("0.5"))])

    assert (figures.pot, figures.pdot, figures.pbt, figures.aust) == (450, 0, 450, 30)
    assert (figures.adot, figures.adet, figures.apt) == (50, 1, 369)
    assert figures.availability == pytest.approx(370 / 450, abs=1e-4)  # 0.8222
    assert figures.performance == pytest.approx(365 / 370, abs=1e-4)  # 0.9865
    assert figures.quality == pytest.approx(360 / 365, abs=1e-4)  # 0.9863
    assert figures.oee == pytest.approx(360 / 450, abs=1e-4)  # 0.8
    assert figures.losses == {
        "breakdowns": 30,
        "setup_and_adjustments": 50,
        "minor_stops": 1,
        "reduced_speed": 4,
        "startup_rejects": 0,
        "production_rejects": 5,
    }
    assert (figures.breakdowns, figures.mtbf_minutes, figures.mttr_minutes) == (1, 370, 30)


def test_no_planned_time_gives_no_ratios_rather_than_a_division_by_zero() -> None:
    figures = oee_of(timeline((0, "Execute"), end=60), timeline((0, "Maintenance"), end=60), [])

    assert (figures.pbt, figures.availability, figures.performance, figures.quality, figures.oee) == (
        0,
        None,
        None,
        None,
        None,
    )


HOLES = st.lists(st.tuples(st.integers(0, 470), st.integers(1, 90)), max_size=4)
MADE = st.lists(
    st.builds(Made, st.integers(0, 5000), st.integers(0, 500), st.decimals("0.01", "5", places=2)), max_size=3
)


@given(changes(STATE_NAMES), changes(MODE_NAMES), MADE, HOLES)
def test_productive_time_and_the_six_losses_make_up_planned_time_and_ratios_stay_in_bounds(
    state_changes: list[tuple[float, str]],
    mode_changes: list[tuple[float, str]],
    made: list[Made],
    holes: list[tuple[int, int]],
) -> None:
    # The calendar: a shift from 0 to 480 less breaks and planned downtime (the holes).
    busy = subtract([Window(minutes(0), minutes(480))], [Window(minutes(a), minutes(a + n)) for a, n in holes])
    figures = oee_of(timeline(*state_changes, end=480), timeline(*mode_changes, end=480), made, busy)

    assert figures.productive_minutes + sum(figures.losses.values()) == pytest.approx(figures.pbt, abs=0.01)
    assert figures.aust + figures.adot + figures.adet + figures.apt == pytest.approx(figures.pbt, abs=0.01)
    for ratio in (figures.availability, figures.quality):
        assert ratio is None or 0 <= ratio <= 1
    if figures.performance is not None and figures.performance > 1:
        assert figures.ideal_minutes > figures.pbt - figures.aust - figures.adot  # faster than its ideal cycle
    # OEE = A x P x Q exactly: each ratio is its quotient of minutes (rounded to 4 places), and the
    # quotients' product is productive time over planned busy time.
    run = figures.pbt - figures.aust - figures.adot
    ideal = float(sum(m.ideal_cycle_time_s * (m.good + m.reject) for m in made)) / 60
    good = float(sum(m.ideal_cycle_time_s * m.good for m in made)) / 60
    assert figures.pot - figures.pdot == pytest.approx(figures.pbt, abs=0.01)
    if figures.pbt > 0:
        assert figures.availability == pytest.approx(run / figures.pbt, abs=1e-3)
        assert figures.oee == pytest.approx(good / figures.pbt, abs=1e-3)
    if run > 0.01 and figures.performance is not None:
        assert figures.performance == pytest.approx(ideal / run, rel=1e-3, abs=1e-3)
    if ideal > 0:
        assert figures.quality == pytest.approx(good / ideal, abs=1e-3)


def test_buckets_cut_a_range_into_aligned_pieces_the_last_one_short() -> None:
    cut = buckets(minutes(0), minutes(150), minutes(60) - minutes(0))

    assert cut == [(minutes(0), minutes(60)), (minutes(60), minutes(120)), (minutes(120), minutes(150))]


def test_an_oee_bucket_is_its_span_and_name_then_the_figures_in_their_order() -> None:
    assert OeeBucket.__struct_fields__ == ("start", "end", "name", *Oee._fields)  # api/performance/oee.py _bucket
