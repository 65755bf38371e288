"""Genealogy on real stores: recursive traces checked against a walk of the events themselves."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alembic import command
from api.runtime import Runtime, build_runtime
from application.commands import AmountIn, Command
from application.traceability.lots import MergeLots, ReceiveLot, SplitLot
from application.traceability.work_orders import (
    BomLineIn,
    ConsumeMaterial,
    CreateWorkOrder,
    OperationIn,
    ReleaseWorkOrder,
    ReportProduction,
    StartWorkOrder,
)
from domain.errors import DomainError
from infrastructure.migrations import alembic_config, migrate
from infrastructure.settings import Settings
from projections.runner import rebuild
from projections.store import PostgresReadStore, ReadStore, open_read_store
from projections.traceability.genealogy import GenealogyProjection, reached_lots, trace
from tests.builders import consume, context, next_id, plant_commands, produce, q_in, receive
from tests.fakes import SteppingClock
from tests.integration.scenarios import genealogy_extras, project, recorded_events, run, run_demo_shift

Direction = Literal["backward", "forward"]
DIRECTIONS: tuple[Direction, ...] = ("backward", "forward")
CREATIONS = {f"MaterialLot.{kind}" for kind in ("Received", "Produced", "CreatedBySplit", "CreatedByMerge")}


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    read_store = open_read_store(settings)
    yield read_store
    read_store.close()


@dataclass(frozen=True)
class Link:
    """One genealogy link as the events tell it: material of `parent` went into `child`."""

    parent: str
    child: str
    kind: str
    occurred_at: datetime


def links_from_events(runtime: Runtime) -> tuple[list[str], list[Link]]:
    """Every lot and every link, read from the lots' creation events in the notification log."""
    lots: list[str] = []
    links: list[Link] = []
    for recorded in recorded_events(runtime):
        e, kind = recorded.event, recorded.kind
        if kind not in CREATIONS:
            continue
        lots.append(e.lot_number)
        at = e.provenance.occurred_at
        if kind == "MaterialLot.Produced":
            links += [Link(p.lot_number, e.lot_number, "consumed-into", at) for p in e.inputs]
        elif kind == "MaterialLot.CreatedBySplit":
            links.append(Link(e.parent_lot, e.lot_number, "split", at))
        elif kind == "MaterialLot.CreatedByMerge":
            links += [Link(p.lot_number, e.lot_number, "merge", at) for p in e.sources]
    return lots, links


def walk(start: str, direction: Direction, links: Iterable[Link]) -> list[tuple[str, str]]:
    """Every path from `start` (as 'a>b>c') with the kind of its last link, by depth-first search."""
    step: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for link in links:
        near, far = (link.child, link.parent) if direction == "backward" else (link.parent, link.child)
        step[near].append((far, link.kind))
    paths: list[tuple[str, str]] = []

    def go(path: tuple[str, ...]) -> None:
        for far, kind in step[path[-1]]:
            assert far not in path, f"cycle through {far}"
            paths.append((">".join((*path, far)), kind))
            go((*path, far))

    go((start,))
    return sorted(paths)


def traced(store: ReadStore, lot: str, direction: Direction, as_of: datetime | None = None) -> list[tuple[str, str]]:
    rows, truncated = trace(store, lot, direction, as_of=as_of)
    assert not truncated
    for row in rows:
        hops = row["path"].split(">")
        assert (hops[0], hops[-2], hops[-1]) == (lot, row["via_lot"], row["lot_number"])
        assert row["depth"] == len(hops) - 1
    return sorted((row["path"], row["kind"]) for row in rows)


def reached(paths: Iterable[tuple[str, str]]) -> set[str]:
    return {path.rsplit(">", 1)[-1] for path, _ in paths}


def plant_history(runtime: Runtime, store: ReadStore) -> None:
    """The demo shift and the extra cases after it, projected into the genealogy view."""
    end = run_demo_shift(runtime)
    run(runtime, genealogy_extras(end))
    project(runtime, store, GenealogyProjection)


def test_every_lot_traces_backward_and_forward_along_the_paths_its_events_describe(
    runtime: Runtime, store: ReadStore
) -> None:
    plant_history(runtime, store)
    lots, links = links_from_events(runtime)
    assert {"split", "merge", "consumed-into"} <= {link.kind for link in links}

    for lot in lots:
        for direction in DIRECTIONS:
            expected = walk(lot, direction, links)
            found = traced(store, lot, direction)
            assert reached(found) == reached(expected), (lot, direction)
            assert found == expected, (lot, direction)

    # The demo's pallet is traced back through packing, filling, a split tank and a merged silo.
    pallet_back = reached(traced(store, "PAL-0002", "backward"))
    assert {"CS-0002", "BTL-OUT-0002", "SYR-0001-B", "SYR-0001", "SUG-SILO-1", "SUG-24-0117"} <= pallet_back
    assert "BTL-OUT-0001" not in pallet_back
    # Both halves of a split lot went into different orders: a recall of the parent reaches both.
    assert {"X-SYR-3", "X-SYR-4"} <= reached(traced(store, "X-SUG-A", "forward"))
    # Merges of merges: the last merge traces back to every lot pooled into it.
    assert {"X-SYR-M", "X-SYR-1", "X-SYR-3", "X-SYR-4", "X-M2", "X-M1", "X-SUG-B"} <= reached(
        traced(store, "X-SYR-MM", "backward")
    )


def shortest_depths(paths: Iterable[tuple[str, str]]) -> dict[str, int]:
    depths: dict[str, int] = {}
    for path, _ in paths:
        hops = path.split(">")
        depths[hops[-1]] = min(depths.get(hops[-1], len(hops)), len(hops) - 1)
    return depths


def materials_from_events(runtime: Runtime) -> dict[str, str]:
    return {r.event.lot_number: r.event.material_code for r in recorded_events(runtime) if r.kind in CREATIONS}


def test_the_lots_a_trace_reaches_come_once_each_nearest_first_with_their_material(
    runtime: Runtime, store: ReadStore
) -> None:
    plant_history(runtime, store)
    lots, links = links_from_events(runtime)
    material = materials_from_events(runtime)

    recalled = 0
    for lot in lots:
        for direction in DIRECTIONS:
            depths = shortest_depths(walk(lot, direction, links))
            rows = reached_lots(store, lot, direction)
            assert [r["lot_number"] for r in rows] == sorted(depths, key=lambda n: (depths[n], n)), (lot, direction)
            assert {r["lot_number"]: r["depth"] for r in rows} == depths
            assert [r["material_code"] for r in rows] == [material[r["lot_number"]] for r in rows]
            assert all(r["material_code"] == material[r["lot_number"]] for r in trace(store, lot, direction).rows)
            recalled += len(rows)
    assert recalled > len(lots)
    # A lot reached along two paths (a split tank whose halves were merged again) comes once.
    assert any(len(walk(lot, d, links)) > len(shortest_depths(walk(lot, d, links))) for lot in lots for d in DIRECTIONS)


def expected_quantities(runtime: Runtime) -> dict[tuple[str, str, str], tuple[Decimal | None, str | None]]:
    """Each link's quantity from the other side of the story: what each lot gave up, and when.

    Consumption comes from the lots' Consumed events, grouped per order into production windows
    (everything consumed since the order's previous report; or, with nothing consumed in between,
    the previous report's lots without a quantity). Splits and merges come from the parent's
    SplitOff and MergedInto events.
    """
    lot_numbers: dict[object, str] = {}
    order_numbers: dict[object, str] = {}
    window: dict[str, dict[str, tuple[Decimal, str]]] = defaultdict(dict)
    previous: dict[str, list[str]] = defaultdict(list)
    expected: dict[tuple[str, str, str], tuple[Decimal | None, str | None]] = {}
    for recorded in recorded_events(runtime):
        e, kind = recorded.event, recorded.kind
        if kind == "WorkOrder.Created":
            order_numbers[e.originator_id] = e.order_number
        elif kind in CREATIONS:
            lot_numbers[e.originator_id] = e.lot_number
        elif kind == "MaterialLot.Consumed":
            lot = lot_numbers[e.originator_id]
            value, _ = window[e.order_number].get(lot, (Decimal(0), e.quantity.unit))
            window[e.order_number][lot] = (value + e.quantity.value, e.quantity.unit)
        elif kind == "WorkOrder.ProductionReported":
            order = order_numbers[e.originator_id]
            if window[order]:
                inputs: dict[str, tuple[Decimal | None, str | None]] = dict(window[order])
            else:
                inputs = dict.fromkeys(previous[order], (None, None))
            previous[order], window[order] = list(inputs), {}
            if e.lot_number is not None:
                expected |= {(lot, e.lot_number, "consumed-into"): q for lot, q in inputs.items()}
        elif kind == "MaterialLot.SplitOff":
            expected[(lot_numbers[e.originator_id], e.into_lot, "split")] = (e.quantity.value, e.quantity.unit)
        elif kind == "MaterialLot.MergedInto":
            expected[(lot_numbers[e.originator_id], e.into_lot, "merge")] = (e.quantity.value, e.quantity.unit)
    return expected


def test_each_link_carries_the_quantity_consumed_split_or_merged(runtime: Runtime, store: ReadStore) -> None:
    plant_history(runtime, store)

    with store.reader() as tx:
        edges = tx.execute("SELECT parent_lot, child_lot, kind, quantity, unit FROM rm_genealogy_edges")
    found = {
        (e["parent_lot"], e["child_lot"], e["kind"]): (
            None if e["quantity"] is None else Decimal(str(e["quantity"])),
            e["unit"],
        )
        for e in edges
    }

    assert len(found) == len(edges)
    assert found == expected_quantities(runtime)
    assert found[("X-M2", "X-SYR-1", "consumed-into")] == (Decimal(200), "kg")  # two consumptions, one link
    assert found[("X-M2", "X-SYR-2", "consumed-into")] == (None, None)  # shared with X-SYR-1
    assert found[("X-SUG-A", "X-SUG-A-1", "split")] == (Decimal(200), "kg")
    assert found[("X-SYR-M", "X-SYR-MM", "merge")] == (Decimal(3200), "L")


def test_a_trace_as_of_a_time_before_a_production_leaves_its_output_out(runtime: Runtime, store: ReadStore) -> None:
    plant_history(runtime, store)
    _, links = links_from_events(runtime)
    productions = sorted({(link.occurred_at, link.child) for link in links if link.kind == "consumed-into"})
    assert len(productions) >= 10

    for made_at, output in productions:
        inputs = {link.parent for link in links if link.child == output}
        for lot in inputs:
            assert output not in reached(traced(store, lot, "forward", as_of=made_at - timedelta(seconds=1)))
            assert output in reached(traced(store, lot, "forward", as_of=made_at))
        assert traced(store, output, "backward", as_of=made_at - timedelta(seconds=1)) == []

    lots = sorted({link.child for link in links} | {link.parent for link in links})
    for made_at, _ in productions[:: max(1, len(productions) // 4)]:
        moment = made_at - timedelta(seconds=1)
        earlier = [link for link in links if link.occurred_at <= moment]
        for lot in lots:
            for direction in DIRECTIONS:
                assert traced(store, lot, direction, as_of=moment) == walk(lot, direction, earlier), (lot, moment)
                depths = shortest_depths(walk(lot, direction, earlier))
                found = reached_lots(store, lot, direction, as_of=moment)
                assert {r["lot_number"]: r["depth"] for r in found} == depths, (lot, moment)


ORDERS = 3
FIRST_LOTS = ("R0", "R1", "R2")

# Random production histories: lots of sugar received, split, merged, consumed into three
# running orders that make the same material, so outputs can be split, merged and consumed again.


@pytest.fixture(scope="module")
def plant_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store with a small plant, three sugar lots and three running orders, copied per example."""
    path = tmp_path_factory.mktemp("genealogy-template") / "chronicle.db"
    template_settings = Settings.from_env({"MES_DATABASE_URL": f"sqlite:///{path}"})
    migrate(template_settings)
    runtime = build_runtime(template_settings, clock=SteppingClock())
    orders = [
        CreateWorkOrder(
            command_id=next_id(),
            order_number=f"O{i}",
            product_code="SUGAR",
            planned_quantity=q_in(1000, "kg"),
            bill_of_materials=[BomLineIn("SUGAR", Decimal(1), "kg")],
            routing=[OperationIn(10, "Mix", "MIX", Decimal(1))],
        )
        for i in range(ORDERS)
    ]
    run(
        runtime,
        [
            *plant_commands(),
            *[receive(lot, value=300) for lot in FIRST_LOTS],
            *orders,
            *[ReleaseWorkOrder(command_id=next_id(), order_number=o.order_number) for o in orders],
            *[StartWorkOrder(command_id=next_id(), order_number=o.order_number) for o in orders],
        ],
    )
    runtime.close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # so that copying the file copies everything
    return path


@dataclass(frozen=True)
class Receive:
    amount: int

    def command(self, lots: list[str], new: str) -> Command | None:
        return ReceiveLot(
            command_id=next_id(),
            lot_number=new,
            material_code="SUGAR",
            quantity=q_in(self.amount, "kg"),
            location="WH",
            supplier_lot="SUP",
        )


@dataclass(frozen=True)
class Produce:
    order: int
    amount: int

    def command(self, lots: list[str], new: str) -> Command | None:
        return ReportProduction(
            command_id=next_id(),
            order_number=f"O{self.order}",
            operation=10,
            good=AmountIn(Decimal(self.amount), "kg"),
            lot_number=new,
        )


@dataclass(frozen=True)
class Consume:
    order: int
    lot: int  # picks one of the lots made so far, modulo their number
    amount: int

    def command(self, lots: list[str], new: str) -> Command | None:
        return ConsumeMaterial(
            command_id=next_id(),
            order_number=f"O{self.order}",
            lot_number=lots[self.lot % len(lots)],
            quantity=q_in(self.amount, "kg"),
            operation=10,
        )


@dataclass(frozen=True)
class Split:
    lot: int
    amount: int

    def command(self, lots: list[str], new: str) -> Command | None:
        return SplitLot(
            command_id=next_id(), lot_number=lots[self.lot % len(lots)], quantity=q_in(self.amount, "kg"),
            new_lot_number=new,
        )  # fmt: skip


@dataclass(frozen=True)
class Merge:
    first: int
    second: int

    def command(self, lots: list[str], new: str) -> Command | None:
        if self.first % len(lots) == self.second % len(lots):
            return None
        pooled = [lots[self.first % len(lots)], lots[self.second % len(lots)]]
        return MergeLots(command_id=next_id(), lot_numbers=pooled, new_lot_number=new, location="WH")


Step = Receive | Produce | Consume | Split | Merge
LOT = st.integers(min_value=0, max_value=40)
ORDER = st.integers(min_value=0, max_value=ORDERS - 1)
AMOUNT = st.integers(min_value=1, max_value=30)
HISTORIES = st.lists(
    st.one_of(
        st.builds(Receive, st.integers(min_value=50, max_value=300)),
        st.builds(Produce, ORDER, AMOUNT),
        st.builds(Consume, ORDER, LOT, AMOUNT),
        st.builds(Split, LOT, AMOUNT),
        st.builds(Merge, LOT, LOT),
    ),
    min_size=4,
    max_size=24,
)


def play(runtime: Runtime, history: list[Step]) -> list[str]:
    """Sends the generated steps; the plant refuses what its rules forbid. Returns the lots made."""
    lots = list(FIRST_LOTS)
    for number, step in enumerate(history):
        new = f"{type(step).__name__[0]}{number}"
        command = step.command(lots, new)
        if command is None:
            continue
        try:
            runtime.bus.execute(command, context())
        except DomainError:
            continue
        if not isinstance(step, Consume):
            lots.append(new)
    return lots


@contextmanager
def copy_of(template: Path) -> Iterator[tuple[Runtime, ReadStore]]:
    """A fresh store per example: function-scoped fixtures are not reset between hypothesis examples."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chronicle.db"
        shutil.copyfile(template, path)
        example_settings = Settings.from_env({"MES_DATABASE_URL": f"sqlite:///{path}"})
        runtime = build_runtime(example_settings, clock=SteppingClock())
        store = open_read_store(example_settings)
        try:
            yield runtime, store
        finally:
            store.close()
            runtime.close()


@hypothesis.settings(max_examples=25, deadline=None)
@given(history=HISTORIES)
def test_genealogy_is_acyclic_and_what_went_into_a_lot_is_where_that_lot_went(
    plant_template: Path, history: list[Step]
) -> None:
    with copy_of(plant_template) as (runtime, store):
        lots = play(runtime, history)
        project(runtime, store, GenealogyProjection)
        with store.reader() as tx:
            edges = [(e["parent_lot"], e["child_lot"]) for e in tx.execute("SELECT * FROM rm_genealogy_edges")]
        paths = {(lot, d): traced(store, lot, d) for lot in lots for d in DIRECTIONS}

    assert is_acyclic(lots, edges)
    for (lot, _), found in paths.items():
        for path, _ in found:
            hops = path.split(">")
            assert len(set(hops)) == len(hops), f"{path} passes a lot twice"
        assert lot not in reached(found)
    backward = {(lot, earlier) for lot in lots for earlier in reached(paths[(lot, "backward")])}
    forward = {(lot, earlier) for earlier in lots for lot in reached(paths[(earlier, "forward")])}
    assert backward == forward


def is_acyclic(lots: list[str], edges: list[tuple[str, str]]) -> bool:
    """Kahn's algorithm: every lot can be ordered after all of its parents."""
    parents: dict[str, int] = dict.fromkeys(lots, 0)
    children: dict[str, list[str]] = defaultdict(list)
    for parent, child in edges:
        parents[child] = parents.get(child, 0) + 1
        parents.setdefault(parent, 0)
        children[parent].append(child)
    ready = [lot for lot, count in parents.items() if count == 0]
    ordered = 0
    while ready:
        lot = ready.pop()
        ordered += 1
        for child in children[lot]:
            parents[child] -= 1
            if parents[child] == 0:
                ready.append(child)
    return ordered == len(parents)


def test_a_rebuilt_view_has_planner_statistics_and_traces_follow_the_indexes(
    runtime: Runtime, store: ReadStore
) -> None:
    plant_history(runtime, store)
    rebuild(runtime.app, store, GenealogyProjection)
    if not isinstance(store, PostgresReadStore):
        return  # SQLite plans these walks from its indexes alone
    with store.reader() as tx:
        counted = tx.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relnamespace = ?::regnamespace AND relname = ANY(?)",
            (store.schema, list(GenealogyProjection.tables)),
        )
        assert {r["relname"]: r["reltuples"] > 0 for r in counted} == dict.fromkeys(GenealogyProjection.tables, True)
    with store.walker() as tx:
        plan = "\n".join(
            r["QUERY PLAN"]
            for r in tx.execute(
                "EXPLAIN SELECT * FROM rm_genealogy_edges e JOIN rm_genealogy_lots n ON n.lot_number = e.child_lot"
            )
        )
    assert "Nested Loop" in plan
    assert "Hash" not in plan
    assert "Merge" not in plan
    assert store.refresh_statistics(GenealogyProjection.tables) == []  # nothing changed since the rebuild


def test_the_edge_materials_migration_empties_the_view_and_the_projection_replays_it(
    settings: Settings, runtime: Runtime, store: ReadStore
) -> None:
    plant_history(runtime, store)
    lots, _ = links_from_events(runtime)
    before = {(lot, d): reached_lots(store, lot, d) for lot in lots for d in DIRECTIONS}

    command.downgrade(alembic_config(settings), "0002")
    migrate(settings)
    with store.reader() as tx:
        assert tx.position("genealogy") is None
        assert tx.execute("SELECT count(*) AS n FROM rm_genealogy_edges")[0]["n"] == 0

    project(runtime, store, GenealogyProjection)
    assert {(lot, d): reached_lots(store, lot, d) for lot in lots for d in DIRECTIONS} == before


CHAIN_LINKS = 120


def test_a_chain_longer_than_the_trace_limit_is_recalled_whole_and_the_trace_says_it_was_cut(
    runtime: Runtime, store: ReadStore
) -> None:
    """A heel carried from batch to batch: every batch's lot holds some of the one before. The recall
    list from the first lot reaches the newest; the every-path trace stops at its limit and says so."""
    run(runtime, [*plant_commands(), receive("HEEL-0", value=1000)])
    run(
        runtime,
        [
            SplitLot(
                command_id=next_id(),
                lot_number=f"HEEL-{i - 1}",
                quantity=q_in(1000 - i, "kg"),
                new_lot_number=f"HEEL-{i}",
            )
            for i in range(1, CHAIN_LINKS + 1)
        ],
    )
    project(runtime, store, GenealogyProjection)

    recall = reached_lots(store, "HEEL-0", "forward")
    cut = trace(store, "HEEL-0", "forward", max_depth=64)
    whole = trace(store, "HEEL-0", "forward", max_depth=CHAIN_LINKS)
    back = reached_lots(store, f"HEEL-{CHAIN_LINKS}", "backward")

    assert [(r["lot_number"], r["depth"]) for r in recall] == [(f"HEEL-{i}", i) for i in range(1, CHAIN_LINKS + 1)]
    assert (len(cut.rows), cut.truncated) == (64, True)
    assert cut.rows[-1]["lot_number"] == "HEEL-64"
    assert (len(whole.rows), whole.truncated) == (CHAIN_LINKS, False)
    assert back[-1] == {"lot_number": "HEEL-0", "material_code": "SUGAR", "depth": CHAIN_LINKS}


BATCHES = 40


def test_a_bulk_lot_in_every_batch_of_a_heel_chain_recalls_each_batch_once_at_its_shortest_distance(
    runtime: Runtime, store: ReadStore
) -> None:
    """Every batch takes sugar from one bulk lot and a heel of the batch before: the bulk lot reaches
    batch i along i paths, at distances 1 to i; the recall list has it once, at distance 1."""
    commands: list[Command] = [
        *plant_commands(),
        receive("BULK", value=10_000),
        receive("HEEL-SEED", value=5, material="SYRUP", unit="L"),
    ]
    previous = "HEEL-SEED"
    for i in range(1, BATCHES + 1):
        order = f"HB-{i}"
        commands += [
            CreateWorkOrder(
                command_id=next_id(),
                order_number=order,
                product_code="SYRUP",
                planned_quantity=q_in(100, "L"),
                bill_of_materials=[BomLineIn("SUGAR", Decimal("0.2"), "kg"), BomLineIn("SYRUP", Decimal("0.05"), "L")],
                routing=[OperationIn(10, "Mix", "MIX", Decimal("0.5"))],
            ),
            ReleaseWorkOrder(command_id=next_id(), order_number=order),
            StartWorkOrder(command_id=next_id(), order_number=order),
            consume(order, "BULK", 20),
            consume(order, previous, 5, unit="L"),
            produce(order, f"HB-LOT-{i}", 100),
        ]
        previous = f"HB-LOT-{i}"
    run(runtime, commands)
    project(runtime, store, GenealogyProjection)

    recall = reached_lots(store, "BULK", "forward")
    back = reached_lots(store, f"HB-LOT-{BATCHES}", "backward")

    assert {r["lot_number"]: r["depth"] for r in recall} == {f"HB-LOT-{i}": 1 for i in range(1, BATCHES + 1)}
    assert len(recall) == BATCHES
    assert {r["lot_number"]: r["depth"] for r in back}["BULK"] == 1
    assert {r["lot_number"]: r["depth"] for r in back}["HEEL-SEED"] == BATCHES
