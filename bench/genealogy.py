"""Genealogy traces on PostgreSQL: p50/p99 latency through the HTTP API against the same SQL run directly.

Data: the demo shift (`--demo`, the default) or a generated five-level history (`--events N`).
The API runs under uvicorn in this process; requests go over loopback with one keep-alive client.

Run: `python -m bench.genealogy [--demo | --events N] [--requests 300] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from api.app import create_app
from api.demo import run_shift, serving
from api.demo_plant import FINISHED_PALLETS, RAW_SUGAR_LOT
from application.service import Chronicle
from bench.history import generate, print_progress
from infrastructure.migrations import migrate
from infrastructure.settings import Settings, parse_postgres_url, postgres_url
from projections.genealogy import trace
from projections.runner import ProjectionRunner
from projections.store import PostgresReadStore
from projections.supervisor import ALL_PROJECTIONS

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
                ProjectionRunner(app, store, projection(store)).catch_up()
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
        web = create_app(settings)
        with serving(web, "127.0.0.1", PORT), httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as client:
            if not args.events:
                position = run_shift(client, open(os.devnull, "w"))  # noqa: SIM115 - discard the demo's lines
                client.get("/api/v1/lots", params={"min_position": position}).raise_for_status()
            for direction, lot in (("backward", backward_lot), ("forward", forward_lot)):
                reached = len(trace(store, lot, direction))  # type: ignore[arg-type]
                sql = timed(lambda d=direction, n=lot: trace(store, n, d), args.requests)  # type: ignore[misc]
                url = f"/api/v1/lots/{lot}/genealogy"
                api = timed(
                    lambda d=direction, u=url: client.get(u, params={"direction": d}).raise_for_status(), args.requests
                )
                for path, samples in ((f"{direction} trace, direct SQL", sql), (f"{direction} trace, HTTP API", api)):
                    rows.append(
                        {"path": path, "lot": lot, "steps": reached, "requests": args.requests, **percentiles(samples)}
                    )
        store.close()
    finally:
        with psycopg.connect(base.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    print(f"data: {data}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"{'path':<28} {'lot':<20} {'steps':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for row in rows:
        print(f"{row['path']:<28} {row['lot']:<20} {row['steps']:>7} {row['p50_ms']:>8} {row['p99_ms']:>8}")
    report = {"benchmark": "genealogy", "store": "postgresql", "data": data, "rows": rows}
    print(json.dumps(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
