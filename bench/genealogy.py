"""Genealogy on PostgreSQL: p50/p99 of traces and the recall list, through the HTTP API and as direct SQL.

Data: the demo shift (`--demo`, the default) or a generated five-level history (`--events N`).
The API runs under uvicorn in this process; requests go over loopback with one keep-alive client.

Run: `python -m bench.genealogy [--demo | --events N] [--requests 300] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import psycopg

from api.app import create_app
from api.capabilities import PROJECTIONS as ALL_PROJECTIONS
from api.demo import one_sender, run_shift, serving
from api.demo_plant import FINISHED_PALLETS, RAW_SUGAR_LOT
from application.service import Chronicle
from bench.history import generate, print_progress
from bench.load import Connection, ResponseError
from bench.report import emit_json
from infrastructure.migrations import migrate
from infrastructure.settings import Settings, parse_postgres_url, postgres_url
from projections.runner import ReadModelRunner
from projections.store import PostgresReadStore, ReadStore, Row
from projections.traceability.genealogy import reached_lots, trace
from tests.accounts import bearer, provision_machine

PORT = 8791


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


def timed(call: Callable[[], Any], repeat: int, budget_s: float = 60.0) -> list[float]:
    """Latencies of up to `repeat` calls, stopping early once `budget_s` is spent (slow traces)."""
    call()  # warm caches and prepared plans
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < repeat and time.perf_counter() < deadline:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


Direction = Literal["backward", "forward"]


def every_path(store: ReadStore, lot: str, direction: Direction) -> list[Row]:
    return trace(store, lot, direction).rows


TRACES: tuple[tuple[str, Direction, Callable[[ReadStore, str, Direction], list[Row]], str, float], ...] = (
    # (what, direction, SQL function, API route under the lot, share of the requests): the goals are
    # on the first two; the third shows the cost of listing every path of a recall, for scale.
    ("backward trace", "backward", every_path, "genealogy", 1.0),
    ("recall list", "forward", reached_lots, "genealogy/lots", 1.0),
    ("forward trace, every path", "forward", every_path, "genealogy", 0.1),
)


def measure_traces(
    store: ReadStore, base_url: str, headers: dict[str, str], finished: str, raw: str, requests: int
) -> list[dict[str, Any]]:
    """A backward trace of a finished unit and the recall list of a raw lot (and its every-path
    forward trace), each through the API and as the same SQL run directly, p50/p99 in ms.

    Requests go over one keep-alive connection of the lean client (`bench.load`): a general
    client's own CPU (httpx: about half a millisecond a request) would be counted as the API's."""
    host, port = base_url.removeprefix("http://").split(":")
    loop = asyncio.new_event_loop()
    connection = Connection(host, int(port), headers)

    def get(url: str) -> None:
        status, body = loop.run_until_complete(connection.get(url))
        if status != 200:
            raise ResponseError(status, body)

    rows = []
    try:
        for what, direction, query, route, share in TRACES:
            lot = finished if direction == "backward" else raw
            repeat = max(5, int(requests * share))
            found = len(query(store, lot, direction))
            sql = percentiles(timed(lambda q=query, d=direction, n=lot: q(store, n, d), repeat))  # type: ignore[misc]
            url = f"/api/v1/lots/{lot}/{route}?direction={direction}"
            connection.close()  # the server drops a keep-alive connection idle for 5 s, as the SQL left it
            api = percentiles(timed(lambda u=url: get(u), repeat))  # type: ignore[misc]
            rows.append(
                {
                    "trace": what,
                    "direction": direction,
                    "lot": lot,
                    "rows": found,
                    "requests": repeat,
                    "sql": sql,
                    "api": api,
                    "api_x_sql_p99": round(api["p99_ms"] / max(sql["p99_ms"], 1e-3), 2),
                }
            )
    finally:
        connection.close()
        loop.close()
    return rows


def print_traces(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'genealogy (ms)':<26} {'lot':<16} {'rows':>6} {'SQL p50':>8} {'SQL p99':>8} {'API p50':>8} "
        f"{'API p99':>8} {'API/SQL p99':>11}"
    )
    for t in rows:
        print(
            f"{t['trace']:<26} {t['lot']:<16} {t['rows']:>6} {t['sql']['p50_ms']:>8} {t['sql']['p99_ms']:>8} "
            f"{t['api']['p50_ms']:>8} {t['api']['p99_ms']:>8} {t['api_x_sql_p99']:>11}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=0, help="generate this many events instead of the demo")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    base = parse_postgres_url(os.environ.get("MES_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env({"MES_DATABASE_URL": postgres_url(base, schema=schema)})
    migrate(settings)
    rows: list[dict[str, Any]] = []
    try:
        if args.events:
            app = Chronicle(env=settings.eventsourcing_env())
            generated = generate(app, args.events, progress=print_progress(args.events))
            sys.stderr.write("\n")
            store = PostgresReadStore(settings)
            for projection in ALL_PROJECTIONS:
                ReadModelRunner(app, store, projection(store)).catch_up()
            store.close()
            app.close()
            backward_lot, forward_lot = (
                generated.finished_lots[len(generated.finished_lots) // 2],
                generated.sugar_lots[0],
            )
            data = f"generated history of {generated.events:,} events"
        else:
            backward_lot, forward_lot, data = FINISHED_PALLETS[0], RAW_SUGAR_LOT, "the demo shift"
        store = PostgresReadStore(settings)
        headers = bearer(provision_machine(settings))
        web = create_app(settings)
        with (
            serving(web, "127.0.0.1", PORT),
            httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60, headers=headers) as client,
        ):
            if not args.events:
                position = run_shift(client, open(os.devnull, "w"), one_sender(headers))  # noqa: SIM115
                client.get("/api/v1/lots", params={"min_position": position}).raise_for_status()
            rows = measure_traces(store, f"http://127.0.0.1:{PORT}", headers, backward_lot, forward_lot, args.requests)
        store.close()
    finally:
        with psycopg.connect(base.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    print(f"data: {data}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print_traces(rows)
    report = {"benchmark": "genealogy", "store": "postgresql", "data": data, "rows": rows}
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
