"""Projection catch-up on PostgreSQL: events/s of each read model rebuilt from a generated history.

Baselines measured in the same run, on the same database and data:
- read+decode: paging through the notification log and decoding every event, no view work;
- library runner: eventsourcing's ReadModelRunner keeping an equivalent lots view, which
  commits once per event (measured on the first `--library-events` events: it is slow).

The performance views (`projections/performance/`) are measured the same way on a history of
their own (`--performance-events`): a line of machines, each changing state and reporting a count
every minute, its record of each day saved through the application, and a work order a day running
on the line. Goal: each view rebuilt at no less than a quarter of read+decode's rate.

Run: `python -m bench.projections [--quick] [--events N] [--performance-events N] [--json PATH]` with
MES_DATABASE_URL pointing at a PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection as LibraryProjection
from eventsourcing.projection import ProjectionRunner as LibraryProjectionRunner

from api.capabilities import PROJECTIONS as ALL_PROJECTIONS
from api.progress import ProgressBar
from application.service import Chronicle
from bench.history import ACTOR, generate, print_progress
from bench.report import emit_json
from domain.equipment import Equipment
from domain.equipment_day import EquipmentDay
from domain.packml import CountSource, EquipmentMode, PackMLState
from domain.values import BomLine, EquipmentLevel, Operation, Provenance, Quantity, Source
from domain.work_order import WorkOrder
from infrastructure.migrations import migrate
from infrastructure.settings import PostgresTarget, Settings, parse_postgres_url, postgres_url
from projections.performance import PROJECTIONS as PERFORMANCE_PROJECTIONS
from projections.runner import rebuild
from projections.store import PostgresReadStore

LOT_TOPICS = tuple(
    f"domain.material_lot:MaterialLot.{kind}"
    for kind in (
        "Received",
        "Produced",
        "CreatedBySplit",
        "CreatedByMerge",
        "Consumed",
        "SplitOff",
        "MergedInto",
        "Moved",
        "Held",
        "Released",
        "Scrapped",
    )
)


class LibraryLotsView(PostgresTrackingRecorder):
    """The lots view done the library's way: one transaction per event, with its tracking record."""

    def apply(self, event: Any, tracking: Tracking) -> None:
        table = f'"{self.datastore.schema}".bench_library_lots'
        with self.datastore.transaction(commit=True) as curs:
            if hasattr(event, "lot_number"):
                curs.execute(
                    f"INSERT INTO {table} (lot_id, lot_number, quantity, status) VALUES (%s, %s, %s, %s)",
                    (str(event.originator_id), event.lot_number, event.quantity.value, "Available"),
                )
            elif hasattr(event, "quantity"):
                curs.execute(
                    f"UPDATE {table} SET quantity = quantity - %s WHERE lot_id = %s",
                    (event.quantity.value, str(event.originator_id)),
                )
            self._insert_tracking(curs, tracking)


class LibraryLotsProjection(LibraryProjection[LibraryLotsView]):
    name = "liblots"
    topics = LOT_TOPICS

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)


def read_and_decode(app: Chronicle, page_size: int = 2000) -> tuple[int, float]:
    started, position, count = time.perf_counter(), 0, 0
    while notifications := app.recorder.select_notifications(start=position, limit=page_size, inclusive_of_start=False):
        for n in notifications:
            app.mapper.to_domain_event(n)
        count += len(notifications)
        position = notifications[-1].id
    return count, time.perf_counter() - started


def library_runner(settings: Settings, admin_conninfo: str, schema: str, upto: int) -> tuple[int, float]:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE "{schema}".bench_library_lots (lot_id text PRIMARY KEY, lot_number text, '
            "quantity numeric, status text)"
        )
    env = settings.eventsourcing_env() | {"LIBLOTS_CREATE_TABLE": "y"}
    started = time.perf_counter()
    with LibraryProjectionRunner(
        application_class=Chronicle, projection_class=LibraryLotsProjection, view_class=LibraryLotsView, env=env
    ) as runner:
        runner.wait(upto, timeout=600)
        seconds = time.perf_counter() - started
    return upto, seconds


PERFORMANCE_GOAL = 0.25  # each performance view rebuilt at a quarter of read+decode's rate or better
LINE_MACHINES = 5
MACHINE_STATES = (PackMLState.EXECUTE, PackMLState.HELD, PackMLState.EXECUTE, PackMLState.STOPPED)


def write_performance_history(
    app: Chronicle, events: int, machines: int = LINE_MACHINES, progress: Callable[[int], None] | None = None
) -> int:
    """About `events` events of a line of `machines` machines, day by day from a fixed date: each
    machine's record of the day opened, then a state change and a count from every machine every
    minute, and a work order a day run on all of them (created, released, started at the day's
    start, completed at its end); each day saved through the application. Returns the events saved."""
    clock = datetime(2026, 1, 5, tzinfo=UTC)
    serial = [0]

    def stamp(at: datetime) -> Provenance:
        serial[0] += 1
        return Provenance(ACTOR, Source.SYSTEM, f"perf-{serial[0]}", "performance-history", at)

    site = Equipment.register(code="P", name="Site", level=EquipmentLevel.SITE, parent=None, provenance=stamp(clock))
    area = Equipment.register(code="P.A", name="Area", level=EquipmentLevel.AREA, parent=site, provenance=stamp(clock))
    line = Equipment.register(
        code="P.A.L", name="Line", level=EquipmentLevel.PRODUCTION_LINE, parent=area, provenance=stamp(clock)
    )
    cells = [
        Equipment.register(
            code=f"P.A.L.M{n + 1}",
            name=f"Machine {n + 1}",
            level=EquipmentLevel.WORK_CELL,
            parent=line,
            provenance=stamp(clock),
        )
        for n in range(machines)
    ]
    saved = len(app.save(site, area, line, *cells))
    codes = [cell.code for cell in cells]
    closing = dict.fromkeys(codes, PackMLState.UNDEFINED)
    day = 0
    while saved < events:
        start = clock + timedelta(days=day)
        order = WorkOrder.create(
            order_number=f"P-WO-{day + 1}",
            product_code="BOTTLED",
            planned_quantity=Quantity(Decimal(50_000), "ea"),
            bill_of_materials=[BomLine("SYRUP", Decimal(1), "L")],
            routing=[Operation(10 * (n + 1), f"Step {n + 1}", code, Decimal(1)) for n, code in enumerate(codes)],
            provenance=stamp(start),
        )
        order.release(provenance=stamp(start))
        order.start(provenance=stamp(start))
        records = {
            code: EquipmentDay.open(
                equipment_code=code,
                day=start.date(),
                state=closing[code],
                mode=EquipmentMode.PRODUCTION,
                provenance=stamp(start),
            )
            for code in codes
        }
        pending = 4 + len(codes)  # the order's four events (its completion too) and the day openings
        for minute in range(24 * 60):
            if saved + pending >= events:
                break
            at = start + timedelta(minutes=minute)
            for n, (code, record) in enumerate(records.items()):
                state = MACHINE_STATES[(minute + n) % len(MACHINE_STATES)]
                record.observe(state, raw_code=None, provenance=stamp(at))
                good = 55 if state is PackMLState.EXECUTE else 0
                record.report_counts(
                    good=good,
                    reject=minute % 2,
                    since=at - timedelta(minutes=1),
                    source=CountSource.MACHINE,
                    order_number=None,
                    provenance=stamp(at),
                )
                closing[code] = state
            pending += 2 * len(codes)
        order.complete(provenance=stamp(start + timedelta(days=1)))
        saved += len(app.save(order, *records.values()))
        day += 1
        if progress:
            progress(saved)
    return saved


def catch_up_rows(
    app: Chronicle, store: PostgresReadStore, projections: Sequence[type[Any]], rows: list[dict[str, Any]]
) -> float:
    """Times reading and decoding the whole log, then rebuilding each view from it, into `rows`;
    answers the read+decode baseline in events/s."""
    head = app.max_position()
    count, seconds = read_and_decode(app)
    baseline = count / seconds
    rows.append(
        {
            "path": "read+decode (baseline)",
            "events": count,
            "seconds": round(seconds, 2),
            "events_per_s": round(baseline),
        }
    )
    for projection in projections:
        started = time.perf_counter()
        rebuild(app, store, projection, progress=ProgressBar(f"rebuild {projection.name}"))
        seconds = time.perf_counter() - started
        rows.append(
            {
                "path": f"rebuild {projection.name}",
                "events": head,
                "seconds": round(seconds, 2),
                "events_per_s": round(head / seconds),
            }
        )
    return baseline


def performance_catch_up(base: PostgresTarget, events: int) -> dict[str, Any]:
    """Rebuilds each performance view from a generated line history, against reading and decoding
    the same log; in a scratch schema of its own."""
    from bench.suite import scratch_schema  # noqa: PLC0415 - the suite imports this module too

    rows: list[dict[str, Any]] = []
    with scratch_schema(base) as settings:
        app = Chronicle(env=settings.eventsourcing_env())
        store = PostgresReadStore(settings)
        try:
            written = write_performance_history(app, events, progress=print_progress(events))
            sys.stderr.write("\n")
            head = app.max_position()
            baseline = catch_up_rows(app, store, PERFORMANCE_PROJECTIONS, rows)
            views = rows[1:]
            all_seconds = sum(r["seconds"] for r in views)
            rows.append(
                {
                    "path": "all performance views",
                    "events": head,
                    "seconds": round(all_seconds, 2),
                    "events_per_s": round(head / all_seconds),
                }
            )
        finally:
            store.close()
            app.close()
    for row in rows:
        row["x_read_decode"] = round(row["events_per_s"] / baseline, 2)
        if row["path"].startswith("rebuild"):
            row["goal_x_read_decode"] = PERFORMANCE_GOAL
            row["meets_goal"] = row["x_read_decode"] >= PERFORMANCE_GOAL
    return {"history_events": written, "machines": LINE_MACHINES, "rows": rows}


def print_performance(report: dict[str, Any]) -> None:
    print(
        f"\nPerformance views' catch-up: {report['history_events']:,} events of a line of {report['machines']} "
        f"machines (goal: each at least {PERFORMANCE_GOAL}x read+decode)"
    )
    print(f"{'path':<34} {'events':>9} {'seconds':>8} {'events/s':>9} {'x read+decode':>13} {'goal met':>8}")
    for row in report["rows"]:
        met = "" if "meets_goal" not in row else ("yes" if row["meets_goal"] else "no")
        print(
            f"{row['path']:<34} {row['events']:>9} {row['seconds']:>8} {row['events_per_s']:>9} "
            f"{row['x_read_decode']:>13} {met:>8}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="history size (default 200,000)")
    parser.add_argument(
        "--library-events", type=int, default=10_000, help="events the library's runner is measured on (default 10,000)"
    )
    parser.add_argument(
        "--performance-events", type=int, default=200_000, help="performance history size (default 200,000)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5,000 events of each history")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    target = 5_000 if args.quick else args.events
    library_events = min(args.library_events, target, 2_000 if args.quick else args.library_events)

    base = parse_postgres_url(os.environ.get("MES_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env({"MES_DATABASE_URL": postgres_url(base, schema=schema)})
    migrate(settings)
    app = Chronicle(env=settings.eventsourcing_env())
    store = PostgresReadStore(settings)
    rows: list[dict[str, Any]] = []
    try:
        generated = generate(app, target, progress=print_progress(target))
        sys.stderr.write("\n")
        head = app.max_position()
        baseline = catch_up_rows(app, store, ALL_PROJECTIONS, rows)
        all_seconds = sum(r["seconds"] for r in rows[1:])
        rows.append(
            {
                "path": f"all {len(ALL_PROJECTIONS)} views",
                "events": head,
                "seconds": round(all_seconds, 2),
                "events_per_s": round(head / all_seconds),
            }
        )
        sys.stderr.write(f"  measuring the library's ReadModelRunner on {library_events:,} events ...\n")
        lib_count, lib_seconds = library_runner(settings, base.conninfo(), schema, library_events)
        library_rate = lib_count / lib_seconds
        rows.append(
            {
                "path": "library ReadModelRunner (lots)",
                "events": lib_count,
                "seconds": round(lib_seconds, 2),
                "events_per_s": round(library_rate),
            }
        )
    finally:
        app.close()
        store.close()
        with psycopg.connect(base.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    lots_rate = next(r["events_per_s"] for r in rows if r["path"] == "rebuild lots")
    for row in rows:
        row["x_read_decode"] = round(row["events_per_s"] / baseline, 2)
        row["x_library_runner"] = round(row["events_per_s"] / library_rate, 1)
    print(f"history: {generated.events:,} events, {len(generated.finished_lots):,} finished units")
    print(f"{'path':<34} {'events':>9} {'seconds':>8} {'events/s':>9} {'x read+decode':>13} {'x library':>9}")
    for row in rows:
        print(
            f"{row['path']:<34} {row['events']:>9} {row['seconds']:>8} {row['events_per_s']:>9} "
            f"{row['x_read_decode']:>13} {row['x_library_runner']:>9}"
        )
    print(f"lots view: {lots_rate / library_rate:.1f}x the library's ReadModelRunner")
    performance = performance_catch_up(base, 5_000 if args.quick else args.performance_events)
    print_performance(performance)
    report = {
        "benchmark": "projections",
        "store": "postgresql",
        "history_events": generated.events,
        "rows": rows,
        "performance": performance,
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
