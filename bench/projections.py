"""Projection catch-up on PostgreSQL: events/s of each read model rebuilt from a generated history.

Baselines measured in the same run, on the same database and data:
- read+decode: paging through the notification log and decoding every event, no view work;
- library runner: eventsourcing's ReadModelRunner keeping an equivalent lots view, which
  commits once per event (measured on the first `--library-events` events: it is slow).

Run: `python -m bench.projections [--quick] [--events N] [--json PATH]` with MES_DATABASE_URL
pointing at a PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection as LibraryProjection
from eventsourcing.projection import ProjectionRunner as LibraryProjectionRunner

from api.capabilities import PROJECTIONS as ALL_PROJECTIONS
from api.progress import ProgressBar
from application.service import Chronicle
from bench.history import generate, print_progress
from bench.report import emit_json
from infrastructure.migrations import migrate
from infrastructure.settings import Settings, parse_postgres_url, postgres_url
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="history size (default 200,000)")
    parser.add_argument(
        "--library-events", type=int, default=10_000, help="events the library's runner is measured on (default 10,000)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5,000 events")
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
        for projection in ALL_PROJECTIONS:
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
        all_seconds = sum(r["seconds"] for r in rows[1:])
        rows.append(
            {
                "path": "all five views",
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
    report = {"benchmark": "projections", "store": "postgresql", "history_events": generated.events, "rows": rows}
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
