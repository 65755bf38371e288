"""`mes bench`: the whole benchmark suite on PostgreSQL, every figure a ratio to a baseline of the same run.

1. Write path, commands/s at 1, 16 and 64 clients: (a) the bus, (b) the same through `mes serve`
   in its own process, (c) raw psycopg inserts, (d) one `save()` per command (the library's way).
2. Projection catch-up, events/s, from the generated history: each view rebuilt, against (e)
   reading and decoding the log alone and (f) the library's ReadModelRunner.
3. Genealogy on the generated history: p50/p99 of a backward trace of a finished unit and of the
   recall list of a raw lot (and, for scale, its forward trace with every path), through the API
   and as the same SQL run directly.
4. Memory: peak RSS of `mes serve` while its projections ingest the generated history.
5. Equipment states and counts, commands/s on an equipment with a long history against a new one
   and raw inserts; the performance views' catch-up against read+decode of a line's history.
6. OEE of a machine of a five-machine line with a state change a minute for a year: p50/p99 by
   hour and by day over a month and the year, through the API and as the same SQL run directly.

Everything happens in schemas of its own, dropped at the end. `--quick` is a smoke run (about a
minute); the full run generates 1,000,000 events.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg

from api.access.guard import Gate
from api.access.services import build_access
from api.app import create_app
from api.capabilities import PROJECTIONS as ALL_PROJECTIONS
from api.progress import ProgressBar
from api.runtime import build_runtime
from application.access.provision import add_person
from application.service import Chronicle
from bench import oee as oee_bench
from bench import projections as projection_bench
from bench.genealogy import measure_traces, percentiles, print_traces
from bench.history import generate, print_progress
from bench.load import run_clients
from bench.report import emit_json
from bench.serve_process import ServeProcess
from bench.states import print_states, state_figures
from bench.write_path import bench_bus, bench_own_transaction, bench_raw_insert, seed
from domain.values import Role
from infrastructure.migrations import migrate
from infrastructure.settings import PostgresTarget, Settings, parse_postgres_url, postgres_url
from projections.runner import rebuild
from projections.store import PostgresReadStore
from tests.accounts import SET_UP, bearer, provision_machine

PORT = 8793
LOGIN_PASSWORD = "bench sign-in 2026"  # noqa: S105 - a throwaway account on a scratch schema


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


@contextmanager
def scratch_schema(base: PostgresTarget, **env: str) -> Iterator[Settings]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env({"MES_DATABASE_URL": postgres_url(base, schema=schema), **env})
    migrate(settings)
    try:
        yield settings
    finally:
        with psycopg.connect(base.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def http_load(base_url: str, pairs: list[tuple[str, str]], per_client: int, tag: str, headers: dict[str, str]) -> float:
    """Each client sends its own consumptions, one at a time, over its own keep-alive connection."""
    host, port = base_url.removeprefix("http://").split(":")

    def consumptions(n: int) -> list[tuple[str, dict[str, object], str]]:
        order, lot = pairs[n]
        body = {"lot_number": lot, "quantity": {"value": "1", "unit": "kg"}, "operation": 10}
        return [(f"/api/v1/work-orders/{order}/consumptions", body, f"{tag}-{order}-{i}") for i in range(per_client)]

    return asyncio.run(run_clients(host, int(port), len(pairs), consumptions, headers))


def write_path(base: PostgresTarget, clients: list[int], total: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pool = {"MES_POOL_SIZE": "2", "MES_POOL_MAX_OVERFLOW": str(max(clients))}
    with scratch_schema(base, **pool) as settings:
        runtime = build_runtime(settings)
        try:
            for n in clients:
                per_client = max(1, total // n)
                log(f"write path at {n} clients: raw insert, own transaction, bus")
                figures = [
                    bench_raw_insert(base.conninfo(), settings.postgres().schema, n, per_client),
                    bench_own_transaction(runtime, n, per_client),
                    bench_bus(runtime, n, per_client),
                ]
                rows += [
                    {"path": f.path, "clients": n, "commands": f.commands, "commands_per_s": f.per_second}
                    for f in figures
                ]
        finally:
            runtime.close()
    # The same bus on a store whose events are encrypted at rest (MES_CIPHER_KEY): the cipher's cost.
    with scratch_schema(base, **pool, MES_CIPHER_KEY=base64.b64encode(os.urandom(32)).decode()) as settings:
        runtime = build_runtime(settings)
        try:
            for n in clients:
                log(f"write path at {n} clients: bus with events encrypted at rest")
                figure = bench_bus(runtime, n, max(1, total // n), "group-commit bus, encrypted")
                rows.append(
                    {
                        "path": figure.path,
                        "clients": n,
                        "commands": figure.commands,
                        "commands_per_s": figure.per_second,
                    }
                )
        finally:
            runtime.close()
    rows += http_write_path(base, clients, total, rounds=1 if total < 1000 else 4)
    for n in clients:
        at = {r["path"]: r for r in rows if r["clients"] == n}
        raw, own = at["raw psycopg insert"]["commands_per_s"], at["own transaction per command"]["commands_per_s"]
        for row in at.values():
            row["x_raw_insert"] = round(row["commands_per_s"] / raw, 2)
            row["x_own_transaction"] = round(row["commands_per_s"] / own, 1)
            row["commands_per_s"] = round(row["commands_per_s"], 1)
    return rows


UNLIMITED = {"MES_RATE_PER_SECOND": "1000000", "MES_RATE_BURST": "10000000"}
HTTP_PATHS = (
    ("HTTP API, no access guard", ("bench.app_server", "--open")),
    ("HTTP API, API key and guard", ("bench.app_server",)),
)


def _tag(round_: int, path: str, clients: int) -> str:
    """A business-key-safe tag for one round's orders and lots."""
    return f"r{round_}p{[p for p, _ in HTTP_PATHS].index(path)}n{clients}"


def http_write_path(base: PostgresTarget, clients: list[int], total: int, rounds: int = 3) -> list[dict[str, Any]]:
    """The same consumptions through the HTTP API with the access guard and without it (the same
    server otherwise, each in a process of its own, projections off: the write path alone). The
    two alternate, `rounds` times, each on fresh orders; each row is the median round."""
    rates: dict[tuple[str, int], list[float]] = {}
    with scratch_schema(base) as settings:
        runtime = build_runtime(settings)
        order = [(r, path, module) for r in range(rounds) for path, module in HTTP_PATHS[:: 1 if r % 2 == 0 else -1]]
        seeded = {
            (r, path, n): seed(runtime, n, max(1, total // n), _tag(r, path, n))
            for r, path, _ in order
            for n in clients
        }
        runtime.close()
        headers = bearer(provision_machine(settings))  # after the seed, which looks for an empty log
        for r, path, module in order:
            # The load is one principal at thousands of commands a second: the limiter still counts
            # (its cost is the guard's), with a limit this load never reaches.
            server = ServeProcess(settings, PORT, module=module, env=UNLIMITED)
            try:
                for n in clients:
                    log(f"write path through the HTTP API at {n} clients, round {r + 1}: {path}")
                    per_client = max(1, total // n)
                    seconds = http_load(server.base_url, seeded[r, path, n], per_client, _tag(r, path, n), headers)
                    rates.setdefault((path, n), []).append(n * per_client / seconds)
            finally:
                server.stop()
        check_us = guard_microseconds(
            dataclasses.replace(settings, rate_per_second=1e6, rate_burst=10_000_000), headers
        )
    rows: list[dict[str, Any]] = [
        {"path": path, "clients": n, "commands": max(1, total // n) * n, "commands_per_s": statistics.median(rate)}
        for (path, n), rate in rates.items()
    ]
    for n in clients:
        at = {r["path"]: r for r in rows if r["clients"] == n}
        off, on = at[HTTP_PATHS[0][0]], at[HTTP_PATHS[1][0]]
        on["x_authentication_off"] = round(on["commands_per_s"] / off["commands_per_s"], 3)
        # The check's share of one request's time at the guarded rate (one process serves them in turn).
        on["guard_check_us"] = check_us
        on["guard_share"] = round(check_us * on["commands_per_s"] / 1e6, 4)
    return rows


def guard_microseconds(settings: Settings, headers: dict[str, str], checks: int = 20_000) -> float:
    """What the access check costs one request, in process and without the network's noise: the
    gate's check of a consumption with a kept API key, in microseconds."""
    app = create_app(settings, run_projections=False)
    gate: Gate = next(g for m in app.middleware if isinstance(g := getattr(m, "__self__", None), Gate))
    scope: Any = {
        "type": "http",
        "method": "POST",
        "path_template": "/api/v1/work-orders/{order_number}/consumptions",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "state": {},
    }

    async def checks_in_a_row() -> float:
        await gate.check(scope)  # the first check reads the store; the rest find the key kept
        started = time.perf_counter()
        for _ in range(checks):
            await gate.check(scope)
        return (time.perf_counter() - started) / checks * 1e6

    return round(asyncio.run(checks_in_a_row()), 2)


def states_figures(base: PostgresTarget, events: int, commands: int) -> list[dict[str, Any]]:
    """State changes and counts on an equipment with a long history against a new one (bench/states.py)."""
    log(f"state changes and counts: an equipment with {events:,} earlier changes against a new one")
    with scratch_schema(base) as settings:
        return state_figures(base, settings, events, commands, [1, 16])


def performance_catch_up_figures(base: PostgresTarget, events: int) -> dict[str, Any]:
    """The performance views rebuilt from a line's history, against read+decode (bench/projections.py)."""
    log(f"performance views' catch-up on a line's history of {events:,} events")
    return projection_bench.performance_catch_up(base, events)


def oee_figures(base: PostgresTarget, *, quick: bool) -> dict[str, Any]:
    """OEE through the API and as the same SQL on a seeded year of a line (bench/oee.py)."""
    options = oee_bench.default_options(quick=quick)
    log(f"OEE of a line of {options.machines} machines over {options.days} days")
    with scratch_schema(base) as settings:
        return oee_bench.oee_figures(base, settings, options)


def login_figures(base: PostgresTarget, attempts: int) -> dict[str, Any]:
    """How long a person's sign-in takes through the API (argon2id on purpose), p50 and p99."""
    open_sign_in = {"MES_MFA_ROLES": "none", "MES_SIGN_IN_PER_MINUTE": "100000"}  # a password alone, unlimited
    with scratch_schema(base) as settings:
        runtime = build_runtime(settings)
        access = build_access(runtime.bus, runtime.directory, settings)
        add_person(access.passwords, "bench-person", "Bench Person", [Role.OPERATOR], LOGIN_PASSWORD, SET_UP)
        runtime.close()
        server = ServeProcess(settings, PORT, env=open_sign_in)
        try:
            samples = []
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                for _ in range(attempts):
                    started = time.perf_counter()
                    answer = client.post(
                        "/api/v1/auth/login", json={"username": "bench-person", "password": LOGIN_PASSWORD}
                    )
                    samples.append(time.perf_counter() - started)
                    answer.raise_for_status()
        finally:
            server.stop()
    return {"logins": attempts, **percentiles(samples)}


def history_figures(base: PostgresTarget, events: int, requests: int, library_events: int) -> dict[str, Any]:
    """Generates the history with `mes serve` ingesting it, then measures memory, traces and catch-up."""
    with scratch_schema(base) as settings:
        store = PostgresReadStore(settings)
        server = ServeProcess(settings, PORT)
        stop = threading.Event()

        names = [p.name for p in ALL_PROJECTIONS]

        def slowest_view() -> int:
            with store.reader() as tx:
                rows = tx.execute(
                    f"SELECT min(position) AS p, count(*) AS n FROM projection_positions "
                    f"WHERE name IN ({', '.join('?' * len(names))})",
                    names,
                )
            return int(rows[0]["p"] or 0) if rows[0]["n"] == len(names) else 0

        samples = server.sample_rss(slowest_view, stop)
        app = Chronicle(env=settings.eventsourcing_env())
        try:
            log(f"generating {events:,} events while mes serve ingests them")
            generated = generate(app, events, progress=print_progress(events))
            sys.stderr.write("\n")
            head = app.max_position()
            deadline = time.monotonic() + 1800
            while slowest_view() < head and time.monotonic() < deadline:
                stop.wait(1.0)
            stop.set()
            ninety = int(head * 0.9)
            memory = {
                "rss_peak_mb": round(samples.peak() / 2**20, 1),
                "rss_peak_at_90pct_mb": round(samples.peak_until(ninety) / 2**20, 1),
            }
            memory["last_10pct_growth"] = round(memory["rss_peak_mb"] / max(memory["rss_peak_at_90pct_mb"], 1) - 1, 3)

            log("genealogy traces through the API and as direct SQL")
            headers = bearer(provision_machine(settings))
            finished = generated.finished_lots[len(generated.finished_lots) // 2]
            traces = measure_traces(store, server.base_url, headers, finished, generated.sugar_lots[0], requests)
            server.stop()

            log("projection catch-up: read+decode, each view rebuilt, the library's runner")
            catch_up = catch_up_figures(app, store, settings, base, head, library_events)
        finally:
            stop.set()
            server.stop()
            app.close()
            store.close()
    return {
        "history_events": generated.events,
        "finished_units": len(generated.finished_lots),
        "memory": memory,
        "traces": traces,
        "catch_up": catch_up,
    }


def catch_up_figures(
    app: Chronicle, store: PostgresReadStore, settings: Settings, base: PostgresTarget, head: int, library_events: int
) -> list[dict[str, Any]]:
    count, seconds = projection_bench.read_and_decode(app)
    baseline = count / seconds
    rows: list[dict[str, Any]] = [{"path": "read+decode (e)", "events_per_s": round(baseline)}]
    for projection in ALL_PROJECTIONS:
        started = time.perf_counter()
        rebuild(app, store, projection, progress=ProgressBar(f"rebuild {projection.name}"))
        rows.append(
            {"path": f"rebuild {projection.name}", "events_per_s": round(head / (time.perf_counter() - started))}
        )
    lib_count, lib_seconds = projection_bench.library_runner(
        settings, base.conninfo(), settings.postgres().schema, library_events
    )
    library_rate = lib_count / lib_seconds
    rows.append({"path": "library ReadModelRunner (f)", "events_per_s": round(library_rate)})
    for row in rows:
        row["x_read_decode"] = round(row["events_per_s"] / baseline, 2)
        row["x_library"] = round(row["events_per_s"] / library_rate, 1)
    return rows


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nWrite path, commands/s (ratios to the same run's baselines)\n{'path':<38} {'clients':>7} "
        f"{'cmd/s':>9} {'x raw (c)':>9} {'x own-tx (d)':>12} {'x auth off':>10}"
    )
    for r in report["write_path"]:
        print(
            f"{r['path']:<38} {r['clients']:>7} {r['commands_per_s']:>9} {r['x_raw_insert']:>9} "
            f"{r['x_own_transaction']:>12} {r.get('x_authentication_off', ''):>10}"
        )
    guarded = next(r for r in report["write_path"] if "guard_check_us" in r)
    print(f"access check in process: {guarded['guard_check_us']} us a request")
    print_states(report["states"])
    projection_bench.print_performance(report["performance_catch_up"])
    oee_bench.print_oee(report["oee"])
    login = report["login"]
    print(
        f"\nSign-in through the API (argon2id): p50 {login['p50_ms']} ms, p99 {login['p99_ms']} ms ({login['logins']})"
    )
    h = report["history"]
    print(f"\nHistory: {h['history_events']:,} events, {h['finished_units']:,} finished units")
    print(f"{'projection catch-up':<30} {'events/s':>9} {'x read+decode (e)':>17} {'x library (f)':>13}")
    for r in h["catch_up"]:
        print(f"{r['path']:<30} {r['events_per_s']:>9} {r['x_read_decode']:>17} {r['x_library']:>13}")
    print()
    print_traces(h["traces"])
    m = h["memory"]
    print(
        f"\nmes serve RSS while ingesting: peak {m['rss_peak_mb']} MB, peak up to 90% {m['rss_peak_at_90pct_mb']} MB, "
        f"last 10% added {m['last_10pct_growth'] * 100:.1f}%"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mes bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, under a minute")
    parser.add_argument("--events", type=int, default=1_000_000, help="history size of the full run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    base = parse_postgres_url(os.environ.get("MES_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    quick = args.quick
    started = time.perf_counter()
    report = {
        "benchmark": "chronicle suite",
        "quick": quick,
        "write_path": write_path(base, [1, 4] if quick else [1, 16, 64], 200 if quick else 4000),
        "login": login_figures(base, 5 if quick else 50),
        "states": states_figures(base, 2_000 if quick else 1_000_000, 200 if quick else 4000),
        "performance_catch_up": performance_catch_up_figures(base, 5_000 if quick else 200_000),
        "oee": oee_figures(base, quick=quick),
        "history": history_figures(
            base, 5_000 if quick else args.events, 20 if quick else 300, 500 if quick else 10_000
        ),
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    print_report(report)
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
