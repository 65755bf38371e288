"""Write path on PostgreSQL: commands/s of the group-committed bus against baselines, same run.

Each client repeatedly sends ConsumeMaterial for its own work order and lot (two aggregates per
command, no hot spot), so the figures compare ways of committing, not contention. Baselines:

- bus without batching: the same bus and aggregate cache, one transaction per command
  (`max_batch=1`): the gain of group commit alone;
- own transaction: the same handlers, one `save()` per command with aggregates reloaded from the
  store, the library's default way (its cost grows with each aggregate's history);
- raw insert: psycopg inserting one event-sized row per transaction, nothing else.

Run: `python -m bench.write_path [--quick] [--clients 1,16,64] [--json PATH]` with MES_DATABASE_URL
pointing at a PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/test). It works
in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import msgspec
import psycopg

from api.capabilities import HANDLERS
from api.runtime import Runtime, build_runtime
from application.bus import CommandContext, execute_in_own_transaction
from application.traceability.work_orders import (
    ConsumeMaterial,
)
from bench.report import emit_json
from domain.values import Actor, ActorKind, Source
from infrastructure.clock import SystemClock
from infrastructure.migrations import migrate
from infrastructure.settings import Settings, parse_postgres_url, postgres_url
from tests.builders import Plant

CONTEXT = CommandContext(Actor("bench", "Load generator", ActorKind.SERVICE), Source.SYSTEM)
EVENT_ROW = b"x" * 420  # about the size of a stored Consumed event


@dataclass
class Figure:
    path: str
    clients: int
    commands: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.commands / self.seconds


PLANT = Plant("B", "B.A", "B.A.L", "CELL", "CELL-2", "RAW", "WATER", "OUT")


def seed(runtime: Runtime, clients: int, per_client: int, tag: str) -> list[tuple[str, str]]:
    """One running order and one big lot per client."""
    if runtime.app.max_position() == 0:
        for command in PLANT.commands():
            runtime.bus.execute(command, CONTEXT)
    pairs = []
    for i in range(clients):
        order, lot = f"WO-{tag}-{i}", f"LOT-{tag}-{i}"
        for command in (PLANT.receive(lot, per_client * 10), *PLANT.running_order(order, planned=1000)):
            runtime.bus.execute(command, CONTEXT)
        pairs.append((order, lot))
    return pairs


def consume(order: str, lot: str, n: int, tag: str) -> ConsumeMaterial:
    """One kilogram into an order, under an id the load generator can send again."""
    return msgspec.structs.replace(PLANT.consume(order, lot, 1), command_id=f"{tag}-{order}-{n}")


def drive(clients: int, per_client: int, send: Callable[[int, int], object]) -> float:
    """Runs `per_client` sends on each of `clients` threads at once; returns the wall time."""
    start_line = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        start_line.wait()
        for n in range(per_client):
            send(i, n)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        start_line.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


def bench_bus(runtime: Runtime, clients: int, per_client: int, path: str = "group-commit bus") -> Figure:
    """The clients are tasks on one event loop awaiting `execute_async`, as the HTTP server's
    requests are: client threads would mostly measure their own fight for the GIL with the
    writer thread (threads: 3,700 cmd/s at 16 clients where tasks give 5,200, same bus)."""
    tag = f"bus{runtime.settings.max_batch}-{clients}"
    pairs = seed(runtime, clients, per_client, tag)

    async def client(i: int) -> None:
        for n in range(per_client):
            await runtime.bus.execute_async(consume(*pairs[i], n, tag), CONTEXT)

    async def run_all() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        return time.perf_counter() - started

    return Figure(path, clients, clients * per_client, asyncio.run(run_all()))


OWN_TRANSACTION_MAX = 400  # its cost grows with each aggregate's history: a longer run measures only that


def bench_own_transaction(runtime: Runtime, clients: int, per_client: int) -> Figure:
    per_client = max(1, min(per_client, OWN_TRANSACTION_MAX // clients))
    tag = f"own{clients}"
    pairs = seed(runtime, clients, per_client, tag)
    clock = SystemClock()
    seconds = drive(
        clients,
        per_client,
        lambda i, n: execute_in_own_transaction(runtime.app, clock, HANDLERS, consume(*pairs[i], n, tag), CONTEXT),
    )
    return Figure("own transaction per command", clients, clients * per_client, seconds)


def bench_raw_insert(conninfo: str, schema: str, clients: int, per_client: int) -> Figure:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".raw_events (id bigserial PRIMARY KEY, '
            "originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea)"
        )
    connections = [psycopg.connect(conninfo, autocommit=True) for _ in range(clients)]

    def send(i: int, n: int) -> None:
        with connections[i].transaction():
            connections[i].execute(
                f'INSERT INTO "{schema}".raw_events (originator_id, originator_version, topic, state) '
                "VALUES (%s, %s, %s, %s)",
                (uuid.uuid4(), n, "bench:Raw", EVENT_ROW),
                prepare=True,
            )

    try:
        seconds = drive(clients, per_client, send)
    finally:
        for conn in connections:
            conn.close()
    return Figure("raw psycopg insert", clients, clients * per_client, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,16", help="comma-separated client counts (default 1,16)")
    parser.add_argument("--commands", type=int, default=4000, help="commands per measurement (default 4000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 commands per measurement")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    total = 300 if args.quick else args.commands
    client_counts = [int(x) for x in args.clients.split(",")]

    base = parse_postgres_url(os.environ.get("MES_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = postgres_url(base, schema=schema)
    settings = Settings.from_env(
        {"MES_DATABASE_URL": url, "MES_POOL_SIZE": "2", "MES_POOL_MAX_OVERFLOW": str(max(client_counts))}
    )
    migrate(settings)
    runtime = build_runtime(settings)
    unbatched = build_runtime(dataclasses.replace(settings, max_batch=1))
    figures: list[Figure] = []
    try:
        for clients in client_counts:
            per_client = max(1, total // clients)
            measurements: tuple[tuple[str, Callable[[], Figure]], ...] = (
                ("raw", partial(bench_raw_insert, base.conninfo(), schema, clients, per_client)),
                ("own", partial(bench_own_transaction, runtime, clients, per_client)),
                ("unbatched", partial(bench_bus, unbatched, clients, per_client, "bus without batching")),
                ("bus", partial(bench_bus, runtime, clients, per_client)),
            )
            for label, measure in measurements:
                print(f"  measuring {label} at {clients} clients ...", file=sys.stderr, flush=True)
                figures.append(measure())
    finally:
        runtime.close()
        unbatched.close()
        with psycopg.connect(base.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    rows = []
    for clients in client_counts:
        at = {f.path: f for f in figures if f.clients == clients}
        raw, own = at["raw psycopg insert"], at["own transaction per command"]
        unbatched_figure = at["bus without batching"]
        rows += [
            {
                "path": figure.path,
                "clients": clients,
                "commands": figure.commands,
                "commands_per_s": round(figure.per_second, 1),
                "x_raw_insert": round(figure.per_second / raw.per_second, 2),
                "x_own_transaction": round(figure.per_second / own.per_second, 2),
                "x_unbatched": round(figure.per_second / unbatched_figure.per_second, 2),
            }
            for figure in at.values()
        ]
    print(f"{'path':<30} {'clients':>7} {'commands':>8} {'cmd/s':>9} {'x raw':>7} {'x own-tx':>8} {'x unbatched':>11}")
    for row in rows:
        print(
            f"{row['path']:<30} {row['clients']:>7} {row['commands']:>8} {row['commands_per_s']:>9} "
            f"{row['x_raw_insert']:>7} {row['x_own_transaction']:>8} {row['x_unbatched']:>11}"
        )
    report = {"benchmark": "write_path", "store": "postgresql", "rows": rows}
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
