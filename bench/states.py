"""State changes and counts on PostgreSQL: commands/s through the bus on an equipment with a long
history against one with none, and against raw inserts, in the same run.

An equipment's states and counts are kept in a record per day (`domain/equipment_day.py`), so an
observed state (ObserveState) or a count (ReportCounts) loads today's record only, whatever came
before. The history is written straight to the store (one change every 30 s, day by day, ending
now): it is the set-up, not the measurement.

Run: `python -m bench.states [--events 1000000] [--commands 4000] [--clients 1,16] [--json PATH]`
with MES_DATABASE_URL pointing at PostgreSQL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from api.runtime import Runtime, build_runtime
from application.commands import Command
from application.performance.counts import ReportCounts
from application.performance.states import ObserveState
from application.service import Chronicle
from bench.history import print_progress
from bench.report import emit_json
from bench.write_path import CONTEXT, bench_raw_insert
from domain.equipment_day import EquipmentDay, day_of
from domain.packml import EquipmentMode, PackMLState
from domain.values import Provenance, Source
from infrastructure.settings import PostgresTarget, Settings, parse_postgres_url
from tests.builders import Plant

STEP = timedelta(seconds=30)
PLANT = Plant("ST", "ST.A", "ST.A.L", "OLD-MIXER", "NEW-FILLER", "RAW", "WATER", "OUT")
STATES = (PackMLState.EXECUTE, PackMLState.HELD)


def write_history(app: Chronicle, code: str, events: int, end: datetime, progress: Any = None) -> int:
    """`events` observed states of `code`, one every 30 s up to `end`, saved a day at a time."""
    moment = end - STEP * events
    written, day = 0, None
    while written < events:
        day = EquipmentDay.open(
            equipment_code=code,
            day=day_of(moment),
            state=PackMLState.UNDEFINED if day is None else day.closing_state,
            mode=EquipmentMode.PRODUCTION,
            provenance=_provenance(moment, "open"),
        )
        while written < events and day_of(moment) == day.day:
            day.observe(STATES[written % 2], raw_code=None, provenance=_provenance(moment, str(written)))
            moment += STEP
            written += 1
        app.save(day)
        if progress:
            progress(written)
    return written


def _provenance(at: datetime, command_id: str) -> Provenance:
    return Provenance(CONTEXT.actor, Source.SYSTEM, f"history-{command_id}", f"history-{command_id}", at)


def observe_state(code: str, command_id: str, n: int, at: datetime) -> Command:
    """The n-th observed state a client sends: Execute and Held in turn."""
    return ObserveState(command_id=command_id, equipment_code=code, state=STATES[n % 2], occurred_at=at)


def report_counts(code: str, command_id: str, n: int, at: datetime) -> Command:
    """The n-th count a client sends: a machine's counter deltas over the last second."""
    return ReportCounts(
        command_id=command_id,
        equipment_code=code,
        good=40 + n % 20,
        reject=n % 3,
        since=at - timedelta(seconds=1),
        occurred_at=at,
    )


# (what the rows call the command, its command-id prefix, how a client makes its n-th one)
COMMANDS: tuple[tuple[str, str, Callable[[str, str, int, datetime], Command]], ...] = (
    ("state change", "st", observe_state),
    ("count", "ct", report_counts),
)


def commands_per_second(
    runtime: Runtime,
    code: str,
    clients: int,
    per_client: int,
    prefix: str = "st",
    make: Callable[[str, str, int, datetime], Command] = observe_state,
) -> float:
    """Commands sent by `clients` tasks at once through the bus, each a new command on `code`."""
    start = datetime.now(UTC) - timedelta(minutes=4)

    async def client(i: int) -> None:
        for n in range(per_client):
            at = start + timedelta(milliseconds=clients * n + i)
            await runtime.bus.execute_async(make(code, f"{prefix}-{code}-{clients}-{i}-{n}", n, at), CONTEXT)

    async def run_all() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        return time.perf_counter() - started

    return clients * per_client / asyncio.run(run_all())


def state_figures(
    base: PostgresTarget, settings: Settings, events: int, commands: int, clients: list[int]
) -> list[dict[str, Any]]:
    """The rows: raw insert; then for state changes and for counts, a new equipment and one with
    `events` earlier changes, with the ratios of the long history to both."""
    app = Chronicle(env=settings.eventsourcing_env())
    runtime = build_runtime(settings)
    try:
        for command in PLANT.commands():
            runtime.bus.execute(command, CONTEXT)
        write_history(app, PLANT.mixer, events, datetime.now(UTC) - timedelta(minutes=10), print_progress(events))
        sys.stderr.write("\n")
        rows: list[dict[str, Any]] = []
        for n in clients:
            per_client = max(1, commands // n)
            raw = bench_raw_insert(base.conninfo(), settings.postgres().schema, n, per_client).per_second
            rows.append({"path": "raw psycopg insert", "clients": n, "commands_per_s": round(raw, 1)})
            for what, prefix, make in COMMANDS:
                new = commands_per_second(runtime, PLANT.filler, n, per_client, prefix, make)
                old = commands_per_second(runtime, PLANT.mixer, n, per_client, prefix, make)
                rows += [
                    {"path": f"{what}, new equipment", "clients": n, "commands_per_s": round(new, 1)},
                    {
                        "path": f"{what}, {events:,} earlier",
                        "clients": n,
                        "commands_per_s": round(old, 1),
                        "x_new_equipment": round(old / new, 3),
                        "x_raw_insert": round(old / raw, 2),
                    },
                ]
        return rows
    finally:
        runtime.close()
        app.close()


def print_states(rows: list[dict[str, Any]]) -> None:
    print(
        f"\nState changes and counts, commands/s\n{'path':<40} {'clients':>7} {'cmd/s':>10} {'x new':>7} {'x raw':>7}"
    )
    for r in rows:
        print(
            f"{r['path']:<40} {r['clients']:>7} {r['commands_per_s']:>10} "
            f"{r.get('x_new_equipment', ''):>7} {r.get('x_raw_insert', ''):>7}"
        )


def main(argv: list[str] | None = None) -> int:
    from bench.suite import scratch_schema  # noqa: PLC0415 - the suite imports this module too

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="earlier changes of the old equipment")
    parser.add_argument("--commands", type=int, default=4000, help="commands per measurement")
    parser.add_argument("--clients", default="1,16", help="comma-separated client counts")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    base = parse_postgres_url(os.environ.get("MES_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    with scratch_schema(base) as settings:
        rows = state_figures(base, settings, args.events, args.commands, [int(c) for c in args.clients.split(",")])
    print_states(rows)
    emit_json({"benchmark": "equipment states", "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
