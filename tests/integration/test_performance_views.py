"""OEE through the real stores, for any generated shift: states and modes reported in any order
(a connector's backlog arrives late), a shift pattern with breaks and planned downtime. Whatever the
order of arrival, the views give what the same changes in order give; run time and every loss add
up to planned busy time in every shift and over the range; the shifts add up to the range;
availability and quality stay in [0, 1]; and the hourly summaries give the figures the timelines
give, by hour, by shift and over the range.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.capabilities import PROJECTIONS
from api.runtime import Runtime
from application.commands import Command
from application.performance.calendar import BreakIn, DefineShiftPattern, PlanDowntime, ShiftIn
from application.performance.states import ObserveState, SetMode
from application.traceability.work_orders import OperationIn
from domain.packml import EquipmentMode, PackMLState, authoritative
from domain.shift_calendar import Window
from infrastructure.settings import Settings
from projections.performance import counts as count_view
from projections.performance.counts import bottleneck
from projections.performance.history import Bucket, History, clip, history, shift_buckets, time_buckets
from projections.performance.oee import Made, Oee, oee
from projections.performance.stops import clip_stops
from projections.performance.summary import summary_figures
from projections.runner import ReadModelRunner
from projections.store import ReadStore, open_read_store, stored_time
from tests.builders import T0, Plant, context, next_id

DAY = T0.replace(hour=0) + timedelta(days=1)  # the calendar's first day: after the clock's now
STATES = st.sampled_from([PackMLState.EXECUTE, PackMLState.HELD, PackMLState.SUSPENDED, PackMLState.STOPPED])
MODES = st.sampled_from([EquipmentMode.PRODUCTION, EquipmentMode.CHANGEOVER, EquipmentMode.MAINTENANCE])
DAY_AND_NIGHT = [ShiftIn("Day", "07:00", "19:00", [BreakIn("12:00", "12:45")]), ShiftIn("Night", "19:00", "07:00")]
PATTERNS = st.sampled_from(
    [
        [ShiftIn("Early", "06:00", "14:00", [BreakIn("10:00", "10:30")]), ShiftIn("Late", "14:00", "22:00")],
        DAY_AND_NIGHT,
        [ShiftIn("Short", "05:30", "06:30")],
    ]
)
# Changes over two days from 04:00 on the calendar's first day, minutes apart, in any order.
CHANGES = st.lists(st.tuples(st.integers(0, 48 * 60), STATES), min_size=1, max_size=40, unique_by=lambda c: c[0])
MODE_CHANGES = st.lists(st.tuples(st.integers(0, 48 * 60), MODES), max_size=6, unique_by=lambda c: c[0])
DOWNTIME = st.lists(st.tuples(st.integers(0, 48 * 60), st.integers(1, 240)), max_size=2)


def at(minute: int) -> datetime:
    return DAY + timedelta(hours=4, minutes=minute)


def calendar_of(plant: Plant, shifts: list[ShiftIn], downtime: list[tuple[int, int]]) -> list[Command]:
    """The line's pattern from the calendar's first day, every day, and its planned downtime."""
    return [
        DefineShiftPattern(
            command_id=next_id(),
            calendar_code=plant.line,
            effective_from=DAY,
            shifts=shifts,
            working_days=[1, 2, 3, 4, 5, 6, 7],
        ),
        *(
            PlanDowntime(command_id=next_id(), calendar_code=plant.line, start=at(a), end=at(a + n), kind="Maintenance")
            for a, n in downtime
        ),
    ]


def figures(store: ReadStore, h: History, start: datetime, end: datetime) -> Oee:
    """The reference: OEE over [start, end), within the history's range, straight from its timelines
    and the counts themselves, per order from its authoritative source over the history's range."""
    rows = count_view.count_rows(store, h.code, h.since, h.until)
    cycles = count_view.routing_of(store, h.code, sorted({r["order_number"] for r in rows if r["order_number"]}))
    sources: dict[str, set[str]] = {}
    for r in rows:
        sources.setdefault(r["order_number"], set()).add(r["source"])
    totals: dict[str, tuple[int, int]] = {}
    for r in rows:
        order = r["order_number"]
        if order in cycles and start < stored_time(r["at"]) <= end and r["source"] == authoritative(sources[order]):
            good, reject = totals.get(order, (0, 0))
            totals[order] = (good + int(r["good"]), reject + int(r["reject"]))
    made = [Made(g, j, Decimal(str(cycles[o]["ideal_cycle_time_s"]))) for o, (g, j) in totals.items()]
    operation = [Window(start, end)] if h.plan is None else clip(h.plan.operation, start, end)
    pot = sum(((w.end - w.start) for w in operation), timedelta()).total_seconds() / 60
    return oee(pot, clip(h.pieces, start, end), clip_stops(h.stops, start, end), made)


def catch_up(runtime: Runtime, store: ReadStore) -> None:
    for projection in PROJECTIONS:
        ReadModelRunner(runtime.app, store, projection(store)).catch_up()


def report(
    runtime: Runtime, plant: Plant, changes: list[tuple[int, PackMLState]], modes: list[tuple[int, EquipmentMode]]
) -> None:
    bus, who = runtime.bus, context()
    for minute, state in changes:
        bus.execute(
            ObserveState(command_id=next_id(), equipment_code=plant.filler, state=state, occurred_at=at(minute)), who
        )
    for minute, mode in modes:
        bus.execute(SetMode(command_id=next_id(), equipment_code=plant.filler, mode=mode, occurred_at=at(minute)), who)


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    opened = open_read_store(settings)
    yield opened
    opened.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=CHANGES,
    modes=MODE_CHANGES,
    shifts=PATTERNS,
    downtime=DOWNTIME,
    order=st.randoms(use_true_random=False),
)
def test_late_reports_change_nothing_and_the_losses_make_up_planned_time_in_every_shift(
    runtime: Runtime,
    store: ReadStore,
    changes: list[tuple[int, PackMLState]],
    modes: list[tuple[int, EquipmentMode]],
    shifts: list[ShiftIn],
    downtime: list[tuple[int, int]],
    order: Random,
) -> None:
    in_order, shuffled = Plant.named(), Plant.named()
    for plant in (in_order, shuffled):
        for command in plant.commands():
            runtime.bus.execute(command, context())
        calendar = [
            DefineShiftPattern(
                command_id=next_id(),
                calendar_code=plant.line,
                effective_from=DAY,
                shifts=shifts,
                working_days=[1, 2, 3, 4, 5, 6, 7],
            ),
            *(
                PlanDowntime(
                    command_id=next_id(), calendar_code=plant.line, start=at(a), end=at(a + n), kind="Maintenance"
                )
                for a, n in downtime
            ),
        ]
        for command in calendar:
            runtime.bus.execute(command, context())
    report(runtime, in_order, sorted(changes), sorted(modes))
    late = list(changes)
    order.shuffle(late)
    report(runtime, shuffled, late, list(reversed(modes)))
    catch_up(runtime, store)
    since, until = at(0), at(48 * 60)

    first, second = history(store, in_order.filler, since, until), history(store, shuffled.filler, since, until)
    shifts_worked = shift_buckets(second.plan, since, until)
    whole = figures(store, second, since, until)
    by_shift = [figures(store, second, b.start, b.end) for b in shifts_worked]

    assert whole == figures(store, first, since, until)  # the order of arrival changes nothing
    for f in (whole, *by_shift):
        assert f.productive_minutes + sum(f.losses.values()) == pytest.approx(f.pbt, abs=0.01)
        assert f.aust + f.adot + f.adet + f.apt == pytest.approx(f.pbt, abs=0.01)
        assert f.availability is None or 0 <= f.availability <= 1
    for element in ("pbt", "aust", "adot", "adet"):
        in_shifts = sum(getattr(f, element) for f in by_shift)
        assert in_shifts == pytest.approx(getattr(whole, element), abs=0.01), element
    # The hourly summary gives what the timelines give, by hour, by shift and over the range.
    hours = time_buckets(since, until, timedelta(hours=1))
    cuts = [Bucket(since, until), *shifts_worked, *hours]
    summarised = summary_figures(store, shuffled.filler, since, until, cuts)
    live = [figures(store, second, b.start, b.end) for b in cuts]
    assert [same(f) for f in summarised] == [same(f) for f in live]
    (added_up,) = summary_figures(store, shuffled.filler, since, until, [Bucket(since, until)])  # by the database
    assert same(added_up) == same(whole)


def test_a_report_of_the_day_before_arriving_late_is_not_hidden_by_the_next_day_s_opening(
    runtime: Runtime, store: ReadStore
) -> None:
    # Execute, then a stop reported on the next day before the Held that began it arrives: the
    # next day's record opened in Execute, the last state known then. The stop runs on.
    plant = Plant.named()
    for command in [*plant.commands(), *calendar_of(plant, DAY_AND_NIGHT, [])]:
        runtime.bus.execute(command, context())
    report(runtime, plant, [(0, PackMLState.EXECUTE), (1200, PackMLState.HELD), (1, PackMLState.HELD)], [])
    catch_up(runtime, store)
    since, until = at(0), at(48 * 60)
    h = history(store, plant.filler, since, until)
    cuts = [Bucket(since, until), *time_buckets(since, until, timedelta(hours=1))]

    summarised = summary_figures(store, plant.filler, since, until, cuts)

    assert [(s.start, s.first) for s in h.stops if s.first] == [(at(180), True), (at(525), True), (at(1965), True)]
    assert [same(f) for f in summarised] == [same(figures(store, h, b.start, b.end)) for b in cuts]


def same(f: Oee) -> tuple[object, ...]:
    """The figures, to the precision they are given in (sums of seconds may differ in the last bit)."""
    rounded = tuple(round(v, 2) if isinstance(v, float) else v for v in f[:-4])
    return (*rounded, *(round(v, 2) for v in f.losses.values()), f.breakdowns)


def test_the_bottleneck_is_the_longest_ideal_cycle_by_number_not_by_text(runtime: Runtime, store: ReadStore) -> None:
    plant = Plant.named()
    create = plant.create_order("WO-BOTTLENECK-" + next_id())
    routing = [OperationIn(10, "Mix", plant.mixer, Decimal("9")), OperationIn(20, "Fill", plant.filler, Decimal("10"))]
    for command in [
        *plant.commands(),
        msgspec.structs.replace(create, routing=routing),
        *plant.running_order(create.order_number)[1:],
    ]:
        runtime.bus.execute(command, context())
    catch_up(runtime, store)

    assert (
        bottleneck(store, [plant.mixer, plant.filler], T0, T0 + timedelta(days=400)) == plant.filler
    )  # "9" > "10" as text
