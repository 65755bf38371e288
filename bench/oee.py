"""OEE on PostgreSQL: p50/p99 of `GET /api/v1/oee` by hour and by day over a month and a year of a
line's states and counts, through the HTTP API and as the same SQL run directly.

The line has `--machines` work cells (default 5), each changing state once a minute for `--days`
(default 365, ending at today's midnight UTC): Execute, Held, Execute, Stopped and so on, with a
five- and a seven-minute stop every half hour, always in the Production mode, and one machine count
a minute (good and rejects over that minute) naming no order: it counts for the order running on
the line, whose routing gives each machine its ideal cycle time. One order runs all that time, or
`--orders-per-day` of them a day (each count then finds its order among more runs).

Seeding the read model directly is the set-up, not the measurement: the equipment is registered
and the projections caught up through the application, then the rows the states and counts views
would hold (`rm_equipment_states`, `rm_equipment_modes`, `rm_equipment_counts`, `rm_order_routing`,
`rm_order_runs`) are written with COPY, a day at a time. The write path of states and counts is
benched in `bench/states.py`, the projections' catch-up in `bench/projections.py`. Every view's
checkpoint is at the log head (`/ready` answers 200), and the requests pass no `min_position`, so
no request waits for a projection.

A case is one query (`equipment=` one machine, or `line=` with `--subjects equipment,line`), one
range (the last month, the year) and one bucket (`--buckets hour,day`; `range`, `order` and `shift`
too, though no shift calendar is seeded). Each is timed through the API (`mes serve` in its own
process, a machine's API key, one keep-alive connection of the lean client) and as the same SQL run
directly: the statements the route runs for that request, recorded by the real app answering it
once in a child process on a read store that records them, then run with psycopg on one connection,
every row fetched. An answer slower than `--timeout` (60 s) ends its case, and the server is
restarted. Goals: p99 under 50 ms for a month, under 200 ms for the year, the API within 2x of SQL.

Run: `python -m bench.oee [--quick] [--days 365] [--machines 5] [--requests 40] [--subjects equipment]
[--buckets hour,day] [--orders-per-day 0] [--timeout 60] [--json PATH]` with MES_DATABASE_URL
pointing at PostgreSQL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import multiprocessing
import os
import queue
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
from litestar.testing import TestClient

from api.app import create_app
from api.capabilities import PROJECTIONS as ALL_PROJECTIONS
from api.runtime import build_runtime
from application.service import Chronicle
from application.traceability.equipment import RegisterEquipment
from bench.genealogy import percentiles, timed
from bench.load import Connection
from bench.report import emit_json
from bench.serve_process import ServeProcess
from bench.write_path import CONTEXT
from domain.packml import EquipmentMode, PackMLState, follows
from domain.values import EquipmentLevel
from infrastructure.settings import PostgresTarget, Settings, parse_postgres_url
from projections.performance.counts import ORDER_OF_COUNT
from projections.performance.summary import refresh
from projections.runner import ReadModelRunner
from projections.store import PostgresReadStore, ReadStore, Row, Tx
from tests.accounts import bearer, provision_machine

PORT = 8795
SITE, AREA, LINE = "OEE", "OEE.A", "OEE.A.L1"
ORDER, PRODUCT = "OEE-WO", "BOTTLED"
IDEAL_CYCLE_S = "1.0"
ACTOR_ID = "bench-seed"
E, S = PackMLState.EXECUTE, PackMLState
# Half an hour of one machine, a state a minute: one-minute stops (minor), then a five- and a
# seven-minute stop (downtime). Changes PackML has no transition for are flagged, as observed ones are.
CYCLE: tuple[PackMLState, ...] = (
    *(E, S.HELD, E, S.STOPPED) * 4,
    *(E, S.STOPPING, S.STOPPED, S.RESETTING, S.IDLE, S.STARTING),
    *(E, S.ABORTING, S.ABORTED, S.CLEARING, S.STOPPED, S.RESETTING, S.IDLE, S.STARTING),
)
IN_MODEL = tuple(follows(CYCLE[i - 1], CYCLE[i]) for i in range(len(CYCLE)))
BUCKETS = ("hour", "day")  # the default `--buckets`; the API also has range, shift and order
RANGES = (("month", 30, 50.0), ("year", 365, 200.0))  # (name, days, goal for the p99 in ms)
GOAL_API_X_SQL = 2.0
REQUEST_TIMEOUT_S = 60.0  # one answer slower than this ends its case (the server is restarted)
CASE_BUDGET_S = 30.0  # a case stops timing once this is spent (at least one timed request)
WARM_UP_S = 1.0  # a first answer slower than this is timed as well as warming the caches
RECORD_S = 20.0  # the route's SQL is recorded for this long at most (its reads come before its sums)
STARTUP_S = 60.0  # how long the recording process may take to start the app
SHOWN_TABLES = 3  # the costliest tables printed under the table (the JSON has them all)
QUICK_DAYS, QUICK_REQUESTS, QUICK_BUDGET_S = 3, 5, 5.0


def log(message: str) -> None:
    sys.stderr.write(f"[oee] {message}\n")
    sys.stderr.flush()


def machines_of(count: int) -> list[str]:
    return [f"{LINE}.M{n + 1}" for n in range(count)]


@dataclass(frozen=True)
class Subject:
    """What an OEE query is about: the query parameter naming it and its code."""

    parameter: str
    code: str

    @property
    def label(self) -> str:
        return f"{self.parameter}={self.code}"


# What `--subjects` may name: one machine of the line, or the line itself (its bottleneck's OEE with
# every machine's beside it: five machines' reads, so only on request, to keep the full run short).
SUBJECTS: dict[str, Callable[[list[str]], Subject]] = {
    "equipment": lambda machines: Subject("equipment", machines[0]),
    "line": lambda machines: Subject("line", LINE),
}
DEFAULT_SUBJECTS = ("equipment",)


# --- set-up ---------------------------------------------------------------------------------------


def register_line(settings: Settings, machines: list[str]) -> dict[str, str]:
    """Registers the site, area, line and its work cells through the bus, a machine account, and
    brings every view up to the log head; the machine's credentials."""
    runtime = build_runtime(settings)
    try:
        plant = [(SITE, EquipmentLevel.SITE, None), (AREA, EquipmentLevel.AREA, SITE)]
        plant += [(LINE, EquipmentLevel.PRODUCTION_LINE, AREA)]
        plant += [(code, EquipmentLevel.WORK_CELL, LINE) for code in machines]
        for code, level, parent in plant:
            command = RegisterEquipment(command_id=f"oee-{code}", code=code, name=code, level=level, parent_code=parent)
            runtime.bus.execute(command, CONTEXT)
    finally:
        runtime.close()
    headers = bearer(provision_machine(settings))
    app = Chronicle(env=settings.eventsourcing_env())
    store = PostgresReadStore(settings)
    try:
        for projection in ALL_PROJECTIONS:
            ReadModelRunner(app, store, projection(store)).catch_up()
    finally:
        store.close()
        app.close()
    return headers


def _text(at: datetime) -> str:
    return at.isoformat(sep=" ")


@dataclass
class Seeded:
    """How many rows the set-up wrote into each table."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


def day_rows(machines: list[str], day: datetime, position: int) -> tuple[list[str], list[str], list[str], int]:
    """One day of every machine as COPY text lines (states, modes, counts), and the next position."""
    states, modes, counts = [], [], []
    first_minute = int(day.timestamp()) // 60  # minutes since the epoch: one cycle across days
    minutes = [day + timedelta(minutes=m) for m in range(24 * 60 + 1)]
    texts = [_text(t) for t in minutes]
    for n, code in enumerate(machines):
        offset = first_minute + 7 * n  # machines out of step with each other
        closing = CYCLE[(offset - 1) % len(CYCLE)]  # what yesterday closed in
        states.append(f"{code}\t{texts[0]}\t{position}\t{closing}\topened\tt\t\\N\t\\N\t{ACTOR_ID}\n")
        modes.append(f"{code}\t{texts[0]}\t{position}\t{EquipmentMode.PRODUCTION}\t{ACTOR_ID}\n")
        position += 1
        for m in range(24 * 60):
            i = (offset + m) % len(CYCLE)
            state, flag = CYCLE[i], "t" if IN_MODEL[i] else "f"
            states.append(f"{code}\t{texts[m]}\t{position}\t{state}\tobserved\t{flag}\t\\N\t\\N\t{ACTOR_ID}\n")
            good, reject = (55 + m % 5, 1 if m % 7 == 0 else 0) if state is E else (0, 0)
            counts.append(f"{code}\t{texts[m + 1]}\t{position + 1}\t{texts[m]}\t{good}\t{reject}\tmachine\t\\N\n")
            position += 2
    return states, modes, counts, position


def orders_of(start: datetime, days: int, per_day: int) -> list[tuple[str, datetime, datetime]]:
    """The orders run on the line one after another: one over all `days`, or `per_day` a day."""
    if per_day == 0:
        return [(ORDER, start, start + timedelta(days=days))]
    length = timedelta(days=1) / per_day
    return [
        (
            f"{ORDER}-{d + 1}-{k + 1}",
            start + timedelta(days=d) + k * length,
            start + timedelta(days=d) + (k + 1) * length,
        )
        for d in range(days)
        for k in range(per_day)
    ]


def seed_read_model(
    conninfo: str, schema: str, machines: list[str], start: datetime, days: int, orders_per_day: int, position: int
) -> Seeded:
    """COPYs `days` of states, modes and counts from `start`, and the orders run on the line in that
    time with their routings (one operation a machine), into the views' tables."""
    seeded = Seeded()
    with psycopg.connect(conninfo, autocommit=True, options=f"-c search_path={schema}") as conn:
        routing, runs = [], []
        for number, started_at, ended_at in orders_of(start, days, orders_per_day):
            order_id = str(uuid.uuid4())
            for n, code in enumerate(machines):
                routing.append((number, order_id, code, PRODUCT, 10 * (n + 1), IDEAL_CYCLE_S))
                runs.append((code, number, started_at, ended_at, position))
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO rm_order_routing (order_number, order_id, equipment_code, product_code, operation, "
                "ideal_cycle_time_s) VALUES (%s, %s, %s, %s, %s, %s)",
                routing,
            )
            cursor.executemany(
                "INSERT INTO rm_order_runs (equipment_code, order_number, started_at, ended_at, position) "
                "VALUES (%s, %s, %s, %s, %s)",
                runs,
            )
        seeded.add("rm_order_routing", len(routing))
        seeded.add("rm_order_runs", len(runs))
        columns = {
            "rm_equipment_states": "equipment_code, at, position, state, kind, in_model, command, raw_code, actor_id",
            "rm_equipment_modes": "equipment_code, at, position, mode, actor_id",
            "rm_equipment_counts": "equipment_code, at, position, since, good, reject, source, order_number",
        }
        started = time.perf_counter()
        for d in range(days):
            *lines, position = day_rows(machines, start + timedelta(days=d), position)
            for (table, names), text in zip(columns.items(), lines, strict=True):
                with conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    copy.write("".join(text))
                seeded.add(table, len(text))
            sys.stderr.write(
                f"\r  seeding the read model: day {d + 1:,}/{days:,}, {sum(seeded.rows.values()):,} rows, "
                f"{time.perf_counter() - started:.0f} s"
            )
            sys.stderr.flush()
        sys.stderr.write("\n")
        # What the counts view adds up as it projects each count: units per hour, order and source.
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute(
            "INSERT INTO rm_count_hours (equipment_code, hour, order_number, source, good, reject) "
            "SELECT c.equipment_code, date_trunc('hour', c.at - interval '1 microsecond'), "
            f"COALESCE({ORDER_OF_COUNT}, ''), c.source, SUM(c.good), SUM(c.reject) "
            "FROM rm_equipment_counts c GROUP BY 1, 2, 3, 4"
        )
        # Where each machine's history changed, as the states view marks it: from the first day on.
        conn.cursor().executemany(
            "INSERT INTO rm_summary_dirty (equipment_code, hour, at, position) VALUES (%s, %s, %s, %s)",
            [(code, start, start, position) for code in machines],
        )
        for table in (*columns, "rm_order_routing", "rm_order_runs", "rm_count_hours"):
            conn.execute(f"ANALYZE {table}")  # as autovacuum would have, long before a year went by
    return seeded


def summarise(settings: Settings, machines: list[str]) -> float:
    """Brings each machine's hourly summary up to date, as the first query after the views moved
    would (projections/performance/summary.py); the seconds it took."""
    store = PostgresReadStore(settings)
    started = time.perf_counter()
    try:
        for n, code in enumerate(machines, start=1):
            refresh(store, code)
            sys.stderr.write(
                f"\r  summarising by hour: machine {n}/{len(machines)}, {time.perf_counter() - started:.0f} s"
            )
            sys.stderr.flush()
        sys.stderr.write("\n")
    finally:
        store.close()
    return time.perf_counter() - started


# --- the same SQL, run directly -------------------------------------------------------------------


class RecordingStore(ReadStore):
    """A read store that hands each statement its readers run to `record`, then runs it."""

    def __init__(self, store: ReadStore, record: Callable[[str, tuple[Any, ...]], None]) -> None:
        self.store = store
        self.record = record
        self.dialect = store.dialect
        self.byte_order = store.byte_order

    def _recording(self, tx: Tx) -> Tx:
        def execute(sql: str, params: Sequence[Any]) -> list[Row]:
            self.record(sql.replace("?", "%s"), tuple(params))  # the PostgreSQL store's own placeholder
            return tx.execute(sql, params)

        return Tx(execute, tx.executemany)

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        with self.store.reader() as tx:
            yield self._recording(tx)

    @contextmanager
    def walker(self) -> Iterator[Tx]:
        with self.store.walker() as tx:
            yield self._recording(tx)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.store.transaction() as tx:
            yield tx

    def decimal_sum(self, column: str) -> str:
        return self.store.decimal_sum(column)

    def refresh_statistics(self, tables: Iterable[str], *, force: bool = False) -> list[str]:
        return self.store.refresh_statistics(tables, force=force)

    def table_names(self) -> set[str]:
        return self.store.table_names()

    def copy_table(self, tx: Tx, source: str, target: str) -> None:
        self.store.copy_table(tx, source, target)

    def close(self) -> None:
        self.store.close()


def _record_route(env: dict[str, str], url: str, headers: dict[str, str], out: Any) -> None:
    """In a process of its own: the app on a recording read store answers `url` once, each statement
    sent to `out` as it runs (so they arrive even if the answer is never waited for)."""
    settings = Settings.from_env(env)
    store = RecordingStore(PostgresReadStore(settings), lambda sql, params: out.put(("sql", sql, params)))
    with TestClient(create_app(settings, run_projections=False, read_store=store)) as client:
        out.put(("asked",))
        out.put(("answered", client.get(url, headers=headers).status_code))


@dataclass
class Statements:
    """The SQL a request ran, in order; `complete` unless recording stopped before the answer."""

    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    complete: bool = False
    status: int | None = None  # the route's answer

    def key(self) -> str:
        return repr(self.statements)


def statements_of(settings: Settings, url: str, headers: dict[str, str], limit_s: float) -> Statements:
    """The read-model statements the route runs for `url`: the real app answers it once in a child
    process on a read store that records them. The statements stream out as they run, so a slow
    answer is cut off after `limit_s` with the reads made until then (the reads come first)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    env = {"MES_DATABASE_URL": settings.database_url, "MES_ADMIN_DATABASE_URL": settings.admin_database_url}
    child = context.Process(target=_record_route, args=(env, url, headers, out), daemon=True)
    child.start()
    found, asked = Statements(), False
    deadline = time.monotonic() + STARTUP_S
    try:
        while time.monotonic() < deadline and (child.is_alive() or not out.empty()):
            try:
                message = out.get(timeout=0.2)
            except queue.Empty:
                continue
            if message[0] == "asked":
                asked, deadline = True, time.monotonic() + limit_s
            elif message[0] == "sql" and asked:
                found.statements.append((message[1], message[2]))
            elif message[0] == "answered":
                found.complete, found.status = True, message[1]
                break
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
    return found


@dataclass
class SqlTimes:
    """The route's statements run directly: latencies of the lot, rows fetched, and each table's
    share (the sum of the medians of its statements), the costliest first."""

    samples: list[float]
    rows: int
    by_table: list[dict[str, Any]]


def sql_samples(
    target: PostgresTarget, schema: str, statements: list[tuple[str, Any]], repeat: int, budget_s: float
) -> SqlTimes:
    """Latencies of running the statements one after another on one connection, every row fetched
    (as the store's connections: search_path, JIT off), and what each table read costs."""
    options = f"-c search_path={schema} -c jit=off"
    each: list[list[float]] = [[] for _ in statements]
    rows = [0] * len(statements)
    with psycopg.connect(target.conninfo(), autocommit=True, options=options) as conn:

        def run() -> None:
            for i, (sql, params) in enumerate(statements):
                started = time.perf_counter()
                rows[i] = len(conn.execute(sql, params).fetchall())
                each[i].append(time.perf_counter() - started)

        samples = timed(run, repeat, budget_s)
    by_table: dict[str, dict[str, Any]] = {}
    for (sql, _), n, times in zip(statements, rows, each, strict=True):
        table = by_table.setdefault(
            _table_of(sql), {"table": _table_of(sql), "statements": 0, "rows": 0, "p50_ms": 0.0}
        )
        table["statements"] += 1
        table["rows"] += n
        table["p50_ms"] = round(table["p50_ms"] + percentiles(times[1:])["p50_ms"], 2)  # [0]: the warm-up
    return SqlTimes(samples, sum(rows), sorted(by_table.values(), key=lambda t: -t["p50_ms"]))


def _table_of(sql: str) -> str:
    """The table a statement reads: its last FROM (a subquery's come earlier, in the select list)."""
    found = re.findall(r"\bFROM\s+(\w+)", sql)
    return found[-1] if found else sql[:40]


# --- through the API -------------------------------------------------------------------------------


@dataclass
class Answered:
    """What timing one case through the API found."""

    samples: list[float] = field(default_factory=list)
    status: str = "ok"  # ok, timed out, or the HTTP status of a case the API does not answer
    detail: str = ""
    buckets: int = 0


class Api:
    """`mes serve` in its own process with one keep-alive connection to it; restarted after an
    answer that did not come in time (the server would still be computing it)."""

    def __init__(self, settings: Settings, headers: dict[str, str]) -> None:
        self.settings = settings
        self.headers = headers
        self.loop = asyncio.new_event_loop()
        self.server = ServeProcess(settings, PORT)
        self.connection = Connection("127.0.0.1", PORT, headers)

    def ready(self) -> bool:
        with httpx.Client(base_url=self.server.base_url, timeout=10) as client:
            return client.get("/api/v1/ready").status_code == 200

    def get(self, url: str, timeout_s: float) -> tuple[int, bytes] | None:
        """The answer's status and body, or None when it took longer than `timeout_s`."""
        try:
            return self.loop.run_until_complete(asyncio.wait_for(self.connection.get(url), timeout_s))
        except TimeoutError:
            self.connection.close()
            self.server.stop()
            self.server = ServeProcess(self.settings, PORT)
            return None

    def close(self) -> None:
        self.connection.close()
        self.server.stop()
        self.loop.close()


def api_samples(api: Api, url: str, repeat: int, budget_s: float, timeout_s: float) -> Answered:
    """Up to `repeat` timed requests after one that warms caches, stopping early once `budget_s` is
    spent (a first answer slower than WARM_UP_S is timed too: caches are no matter at that scale);
    a case the API does not answer, or an answer slower than `timeout_s`, ends the case."""
    api.connection.close()  # the server drops a keep-alive connection left idle for 5 s
    answered = Answered()
    deadline = time.perf_counter() + budget_s
    first = True
    while len(answered.samples) < repeat and (first or not answered.samples or time.perf_counter() < deadline):
        started = time.perf_counter()
        answer = api.get(url, timeout_s)
        seconds = time.perf_counter() - started
        if answer is None:
            answered.status, answered.detail = "timed out", f"no answer within {timeout_s:.0f} s"
            return answered
        status, body = answer
        if status != 200:  # a case the API does not answer (yet): recorded, and the others go on
            answered.status, answered.detail = f"HTTP {status}", _problem(body)
            return answered
        if first:
            answered.buckets = len(json.loads(body)["buckets"])
            first = False
            if seconds < WARM_UP_S:
                continue
        answered.samples.append(seconds)
    return answered


def _problem(body: bytes) -> str:
    """What a problem answer says went wrong: its invalid fields, else its detail or title."""
    try:
        problem = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")[:200]
    found = problem.get("errors") or problem.get("detail") or problem.get("title")
    return json.dumps(found) if isinstance(found, list | dict) else str(found)


# --- the cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    days: int
    machines: int
    requests: int
    buckets: tuple[str, ...]
    subjects: tuple[str, ...]
    orders_per_day: int = 0
    budget_s: float = CASE_BUDGET_S
    timeout_s: float = REQUEST_TIMEOUT_S


def default_options(*, quick: bool) -> Options:
    """The full run (a year, 40 requests a month case), or the smoke run `--quick` makes."""
    if quick:
        return Options(QUICK_DAYS, 5, QUICK_REQUESTS, BUCKETS, DEFAULT_SUBJECTS, budget_s=QUICK_BUDGET_S)
    return Options(365, 5, 40, BUCKETS, DEFAULT_SUBJECTS)


def ranges_of(days: int, end: datetime) -> list[tuple[str, int, float, datetime]]:
    """The ranges measured, ending at `end`: a month and the year (each at most the days seeded)."""
    return [(name, min(n, days), goal, end - timedelta(days=min(n, days))) for name, n, goal in RANGES]


def oee_figures(base: PostgresTarget, settings: Settings, options: Options) -> dict[str, Any]:
    """Seeds the line, serves the API, and times every case: subject x range x bucket."""
    machines = machines_of(options.machines)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=options.days)
    log(f"registering a line of {options.machines} machines; catching the views up")
    headers = register_line(settings, machines)
    app = Chronicle(env=settings.eventsourcing_env())
    head = app.max_position()
    app.close()
    schema = settings.postgres().schema
    seeding = time.perf_counter()
    seeded = seed_read_model(base.conninfo(), schema, machines, start, options.days, options.orders_per_day, head + 1)
    seed_seconds = round(time.perf_counter() - seeding, 1)
    log("summarising each machine's history by hour")
    summary_seconds = round(summarise(settings, machines), 1)
    subjects = [SUBJECTS[name](machines) for name in options.subjects]
    timed_sql: dict[str, SqlTimes] = {}  # by statements: the same SQL is timed once
    rows: list[dict[str, Any]] = []
    log("starting mes serve")
    api = Api(settings, headers)
    try:
        ready = api.ready()
        for subject in subjects:
            for name, days, goal, since in ranges_of(options.days, end):
                repeat = options.requests if days <= 31 else max(3, options.requests // 10)
                for bucket in options.buckets:
                    query = {subject.parameter: subject.code, "from": since.isoformat(), "to": end.isoformat()}
                    url = f"/api/v1/oee?{urlencode({**query, 'bucket': bucket})}"
                    case = f"{subject.label}, {name} ({days} d), bucket={bucket}"
                    log(f"{case}: recording the route's SQL, then running it directly")
                    recorded = statements_of(settings, url, headers, min(options.timeout_s, RECORD_S))
                    sql = None
                    if recorded.status in (200, None):  # None: cut off while computing, its reads made
                        if recorded.key() not in timed_sql:
                            timed_sql[recorded.key()] = sql_samples(
                                base, schema, recorded.statements, repeat, options.budget_s
                            )
                        sql = timed_sql[recorded.key()]
                    log(f"{case}: {repeat} requests through the API")
                    answered = api_samples(api, url, repeat, options.budget_s, options.timeout_s)
                    rows.append(
                        case_row(
                            {"query": subject.label, "range": name, "days": days, "bucket": bucket},
                            goal,
                            answered,
                            sql,
                            recorded.complete,
                            repeat,
                        )
                    )
    finally:
        api.close()
    return {
        "days": options.days,
        "machines": options.machines,
        "state_changes_per_machine_minute": 1,
        "orders_per_day": options.orders_per_day,
        "seeded_rows": seeded.rows,
        "seed_seconds": seed_seconds,
        "summary_seconds": summary_seconds,
        "ready": ready,
        "request_timeout_s": options.timeout_s,
        "rows": rows,
    }


def case_row(
    case: dict[str, Any], goal: float, answered: Answered, sql: SqlTimes | None, complete: bool, repeat: int
) -> dict[str, Any]:
    """One case's figures beside its goals: the API's p99 and its ratio to the same SQL's."""
    row: dict[str, Any] = {
        **case,
        "status": answered.status,
        "buckets": answered.buckets,
        "requests": len(answered.samples),
        "requests_asked": repeat,
        "goal_p99_ms": goal,
        "goal_api_x_sql": GOAL_API_X_SQL,
        "meets_p99_goal": False,
        "meets_api_x_sql_goal": False,
    }
    if answered.detail:
        row["detail"] = answered.detail
    if sql is not None:
        row["sql"] = {
            **percentiles(sql.samples),
            "runs": len(sql.samples),
            "rows": sql.rows,
            "recorded_whole": complete,
        }
        row["sql_by_table"] = sql.by_table
    if answered.samples:
        row["api"] = api = percentiles(answered.samples)
        row["meets_p99_goal"] = api["p99_ms"] <= goal
        if sql is not None:
            row["api_x_sql_p99"] = round(api["p99_ms"] / max(row["sql"]["p99_ms"], 1e-3), 2)
            row["meets_api_x_sql_goal"] = row["api_x_sql_p99"] <= GOAL_API_X_SQL
    return row


def print_oee(report: dict[str, Any]) -> None:
    orders = report["orders_per_day"]
    print(
        f"\nOEE through the API and as the same SQL run directly: {report['machines']} machines, "
        f"{report['days']} days, a state change and a count a machine-minute, "
        f"{f'{orders} orders a day' if orders else 'one order'} ({sum(report['seeded_rows'].values()):,} rows "
        f"seeded in {report['seed_seconds']} s, summarised by hour in {report['summary_seconds']} s; "
        f"views ready: {report['ready']})"
    )
    print(
        f"{'query':<24} {'range':<6} {'days':>4} {'bucket':<6} {'n':>3} {'rows':>8} {'SQL p50':>8} {'SQL p99':>8} "
        f"{'API p50':>9} {'API p99':>9} {'API/SQL':>7} {'goal':>5} {'p99 ok':>6} {'x2 ok':>5}"
    )
    for r in report["rows"]:
        api, sql = r.get("api", {}), r.get("sql", {})
        print(
            f"{r['query']:<24} {r['range']:<6} {r['days']:>4} {r['bucket']:<6} {r['requests']:>3} "
            f"{sql.get('rows', '-'):>8} {sql.get('p50_ms', '-'):>8} {sql.get('p99_ms', '-'):>8} "
            f"{api.get('p50_ms', r['status']):>9} {api.get('p99_ms', ''):>9} {r.get('api_x_sql_p99', ''):>7} "
            f"{r['goal_p99_ms']:>5g} {_yes(r['meets_p99_goal']):>6} {_yes(r['meets_api_x_sql_goal']):>5}"
        )
    shown = set()
    for r in report["rows"]:
        where = f"{r['query']} bucket={r['bucket']} over the {r['range']}"
        if r.get("detail"):
            print(f"{where}: {r['status']}: {r['detail']}")
        if "sql" in r and not r["sql"]["recorded_whole"]:
            print(f"{where}: its SQL as recorded in the first {RECORD_S:g} s (no answer by then)")
        parts = ", ".join(
            f"{t['table']} {t['p50_ms']} ms ({t['rows']:,} rows)" for t in r.get("sql_by_table", [])[:SHOWN_TABLES]
        )
        if parts and (r["query"], r["range"], parts) not in shown:
            shown.add((r["query"], r["range"], parts))
            print(f"SQL p50 by table, {r['query']} over the {r['range']}: {parts}")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def main(argv: Sequence[str] | None = None) -> int:
    from bench.suite import scratch_schema  # noqa: PLC0415 - the suite imports this module too

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, help="days of history seeded, ending today (default 365, at most 366)")
    parser.add_argument("--machines", type=int, default=5, help="work cells on the line")
    parser.add_argument("--requests", type=int, help="timed requests a month case, a tenth for a year (default 40)")
    parser.add_argument("--buckets", default=",".join(BUCKETS), help="comma-separated buckets to time")
    parser.add_argument(
        "--subjects", default=",".join(DEFAULT_SUBJECTS), help=f"comma-separated, of: {', '.join(SUBJECTS)}"
    )
    parser.add_argument("--orders-per-day", type=int, default=0, help="orders run a day (default 0: one in all)")
    parser.add_argument("--timeout", type=float, default=REQUEST_TIMEOUT_S, help="seconds an answer may take")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 days, 5 requests a case")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    defaults = default_options(quick=args.quick)
    options = dataclasses.replace(
        defaults,
        days=args.days or defaults.days,
        machines=args.machines,
        requests=args.requests or defaults.requests,
        buckets=tuple(args.buckets.split(",")),
        subjects=tuple(args.subjects.split(",")),
        orders_per_day=args.orders_per_day,
        timeout_s=args.timeout,
    )
    if not 1 <= options.days <= 366:
        parser.error("--days must be between 1 and 366 (the API answers ranges of at most 366 days)")
    if unknown := set(options.subjects) - set(SUBJECTS):
        parser.error(f"--subjects: unknown {', '.join(sorted(unknown))}")
    base = parse_postgres_url(os.environ.get("MES_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    with scratch_schema(base) as settings:
        figures = oee_figures(base, settings, options)
    report = {"benchmark": "oee", "store": "postgresql", "quick": args.quick, **figures}
    print_oee(report)
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
