"""Connections to the read-model tables, on SQLite or PostgreSQL, with one SQL dialect for views.

Views write portable SQL with `?` placeholders; `INSERT ... ON CONFLICT ... DO UPDATE` and
`WITH RECURSIVE` mean the same on both stores. Quantities are exact: NUMERIC on PostgreSQL, TEXT
on SQLite, where `dsum()` adds them as decimals.

On PostgreSQL a connection the server has closed (terminated, restarted) is found out when it is
used, never by a check at every checkout (that would cost every read a round trip): a reader's
statement that fails on a lost connection runs again on a fresh one, and the pool's other idle
connections are tested once. If the server stays away for `store_budget` seconds, or a
transaction's connection is lost, the store raises StoreUnavailableError.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from application.ports import StoreUnavailableError
from application.service import STORE_BUDGET_S, backoff, first_line
from infrastructure.settings import Settings

Row = dict[str, Any]
_PLACEHOLDER = re.compile(r"\?")
POSITIONS = "projection_positions"
STALE_ROWS, STALE_FRACTION = 1000, 0.1  # a table needs new statistics after this many changed rows
log = logging.getLogger("chronicle.store")
RECONNECT_S = 2.0  # a pool gives up reconnecting after this, so the next checkout tries at once


class DecimalSum:
    """SQLite aggregate adding TEXT decimals exactly."""

    def __init__(self) -> None:
        self.total = Decimal(0)

    def step(self, value: object) -> None:
        if value is not None:
            self.total += Decimal(str(value))

    def finalize(self) -> str:
        return str(self.total)


class Tx:
    """One transaction (or, for readers, one connection) on the read store."""

    def __init__(self, execute: Any, executemany: Any, lock_rows: str = "", rows_as_json: str = "") -> None:
        self._execute = execute
        self._executemany = executemany
        self._lock_rows = lock_rows
        self._rows_as_json = rows_as_json  # a FROM clause turning one JSON array into a table's rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._execute(sql, params)  # type: ignore[no-any-return]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._executemany(sql, rows)

    def upsert(self, table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Inserts the rows, or updates those whose `key` exists: one statement per row, or on
        PostgreSQL one statement for them all (the rows go as one JSON array)."""
        if not rows:
            return
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
        conflict = f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
        if self._rows_as_json:
            payload = msgspec.json.encode([dict(zip(columns, row, strict=True)) for row in rows]).decode()
            source = self._rows_as_json.format(table=table)
            self.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {source} {conflict}", (payload,))  # noqa: S608
        else:
            marks = ", ".join("?" * len(columns))
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}", rows)  # noqa: S608

    def position(self, name: str, *, lock: bool = False) -> int | None:
        """A projection's tracking position; `lock` holds it until the transaction ends."""
        suffix = self._lock_rows if lock else ""
        rows = self.execute(f"SELECT position FROM {POSITIONS} WHERE name = ?{suffix}", (name,))  # noqa: S608
        return int(rows[0]["position"]) if rows else None

    def set_position(self, name: str, position: int) -> None:
        self.execute(
            f"INSERT INTO {POSITIONS} (name, position) VALUES (?, ?) "  # noqa: S608
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (name, position),
        )


class ReadStore:
    """Base of the two stores; `dialect` is "sqlite" or "postgresql"."""

    dialect = ""
    byte_order = ""  # appended to an ORDER BY term to sort text by bytes (fast and the same on both stores)

    def decimal_sum(self, column: str) -> str:
        return f"sum({column})"

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def walker(self) -> Iterator[Tx]:
        """A reader for recursive walks along indexed edges (genealogy traces)."""
        with self.reader() as tx:
            yield tx

    def refresh_statistics(self, tables: Iterable[str], *, force: bool = False) -> list[str]:
        """Brings the planner's statistics of these tables up to date; returns the tables analysed."""
        return []

    def table_names(self) -> set[str]:
        raise NotImplementedError

    def copy_table(self, tx: Tx, source: str, target: str) -> None:
        """Creates `target` empty, with the columns, keys and indexes of `source`."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases connections."""


class SQLiteReadStore(ReadStore):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.create_aggregate("dsum", 1, DecimalSum)  # type: ignore[arg-type]
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def decimal_sum(self, column: str) -> str:
        return f"dsum({column})"

    def _tx(self, conn: sqlite3.Connection) -> Tx:
        def execute(sql: str, params: Sequence[Any]) -> list[Row]:
            return [dict(row) for row in conn.execute(sql, params).fetchall()]

        return Tx(execute, conn.executemany)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._tx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        yield self._tx(self._connection())

    def table_names(self) -> set[str]:
        with self.reader() as tx:
            return {r["name"] for r in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def copy_table(self, tx: Tx, source: str, target: str) -> None:
        rows = tx.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", (source,))
        table = re.compile(rf'"?\b{re.escape(source)}\b"?')
        for row in sorted(rows, key=lambda r: r["type"] != "table"):
            if row["type"] == "table":
                tx.execute(table.sub(target, row["sql"], count=1))
                continue
            # Index names are global and survive a table rename, so a copy's indexes take the other
            # name of the pair (`x` / `x__rebuild`) from the one the live table has now.
            name = row["name"]
            other = name.replace("__rebuild", "") if "__rebuild" in name else f"{name}__rebuild"
            statement = row["sql"].replace(name, other, 1)
            tx.execute(re.sub(rf'\bON\s+"?{re.escape(source)}"?', f"ON {target}", statement, count=1))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


class PostgresReadStore(ReadStore):
    dialect = "postgresql"
    byte_order = ' COLLATE "C"'

    def __init__(self, settings: Settings, *, max_size: int = 8, store_budget: float = STORE_BUDGET_S) -> None:
        target = settings.postgres()
        self.schema = target.schema
        self.store_budget = store_budget  # seconds a read waits for an unreachable server: then 503
        # JIT compiling pays off for long analytical queries, never for a view's short ones.
        options = f"-c search_path={target.schema} -c jit=off"
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            target.conninfo(),
            kwargs={"row_factory": dict_row, "autocommit": True, "options": options},
            min_size=1,
            max_size=max_size,
            open=True,
            reconnect_timeout=RECONNECT_S,
        )
        # Walks get connections of their own, set once to follow the indexes: a walk is then one
        # round trip, where SET LOCAL would need a transaction around it (three more).
        self.walks: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            target.conninfo(),
            kwargs={
                "row_factory": dict_row,
                "autocommit": True,
                "options": f"{options} -c enable_hashjoin=off -c enable_mergejoin=off",
            },
            min_size=1,
            max_size=max(2, max_size // 2),
            open=True,
            reconnect_timeout=RECONNECT_S,
        )

    @staticmethod
    def _sql(sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql)

    def _tx(self, conn: psycopg.Connection[Row]) -> Tx:
        def execute(sql: str, params: Sequence[Any]) -> list[Row]:
            cursor = conn.execute(self._sql(sql), params)
            return cursor.fetchall() if cursor.description else []

        def executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
            with conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)

        return Tx(execute, executemany, " FOR UPDATE", "json_populate_recordset(NULL::{table}, ?::json)")

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction cannot be run again from here: a lost connection ends it with
        StoreUnavailableError, and its caller (a projection runner) tries the page again."""
        lost: psycopg.Error | None = None
        try:
            with self.pool.connection(timeout=self.store_budget) as conn:
                try:
                    with conn.transaction():
                        yield self._tx(conn)
                except psycopg.Error as error:
                    if not connection_lost(conn, error):
                        raise
                    lost = error
        except PoolTimeout as error:
            lost = error
        if lost is not None:
            with contextlib.suppress(psycopg.Error):
                self.pool.check()
            msg = f"the read store could not be reached: {first_line(lost)}"
            raise StoreUnavailableError(msg) from lost

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        with _Lease(self.pool, self.store_budget) as lease:
            yield self._lease_tx(lease)

    @contextmanager
    def walker(self) -> Iterator[Tx]:
        """PostgreSQL cannot estimate how many rows a recursive step yields and may pick a hash or
        merge join that reads the whole edge table at every step; a walk follows the indexes."""
        with _Lease(self.walks, self.store_budget) as lease:
            yield self._lease_tx(lease)

    def _lease_tx(self, lease: _Lease) -> Tx:
        """A reader's statements run in autocommit, each on its own: one that fails on a lost
        connection is run again, whole, on a fresh connection."""

        def execute(sql: str, params: Sequence[Any]) -> list[Row]:
            statement = self._sql(sql)
            conn = lease.conn
            while True:
                assert conn is not None  # noqa: S101 - a lease holds a connection until it ends
                try:
                    cursor = conn.execute(statement, params)
                    return cursor.fetchall() if cursor.description else []
                except psycopg.Error as error:
                    if not connection_lost(conn, error):
                        raise
                    conn = lease.renew(error)

        def executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
            assert lease.conn is not None  # noqa: S101
            with lease.conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)

        return Tx(execute, executemany, " FOR UPDATE", "json_populate_recordset(NULL::{table}, ?::json)")

    def refresh_statistics(self, tables: Iterable[str], *, force: bool = False) -> list[str]:
        """ANALYZEs each table changed by more than a tenth since its last ANALYZE (autovacuum's
        rule), so plans stay right where autovacuum is off or behind a bulk catch-up."""
        names = list(tables)
        with self.reader() as tx:
            stats = tx.execute(
                "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
                "WHERE schemaname = ? AND relname = ANY(?)",
                (self.schema, names),
            )
            stale = [
                r["relname"]
                for r in stats
                if force or r["n_mod_since_analyze"] > STALE_ROWS + STALE_FRACTION * r["n_live_tup"]
            ]
            for table in stale:
                tx.execute(f'ANALYZE "{table}"')
        return stale

    def table_names(self) -> set[str]:
        with self.reader() as tx:
            rows = tx.execute("SELECT tablename FROM pg_tables WHERE schemaname = ?", (self.schema,))
            return {r["tablename"] for r in rows}

    def copy_table(self, tx: Tx, source: str, target: str) -> None:
        tx.execute(f'CREATE TABLE "{target}" (LIKE "{source}" INCLUDING ALL)')

    def close(self) -> None:
        self.pool.close()
        self.walks.close()


def connection_lost(conn: psycopg.Connection[Row], error: psycopg.Error) -> bool:
    """Whether an error means the connection is gone (the server terminated it, shut down, or the
    network dropped), not that the statement failed."""
    if conn.closed:
        return True
    state = error.sqlstate
    # No SQLSTATE: the client lost the server ("server closed the connection unexpectedly").
    # 08: connection exception; 57P: the server is shutting down or terminated this backend.
    return isinstance(error, psycopg.OperationalError) and (state is None or state.startswith(("08", "57P")))


class _Lease:
    """A pooled connection held for one reader, swapped for a fresh one if the server closed it."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Row]], budget: float) -> None:
        self.pool = pool
        self.deadline = time.monotonic() + budget
        self.renewals = 0
        self.conn: psycopg.Connection[Row] | None = None
        self.conn = self._checkout(None)

    def __enter__(self) -> _Lease:
        return self

    def __exit__(self, *_: object) -> None:
        if self.conn is not None:
            self.pool.putconn(self.conn)
            self.conn = None

    def _checkout(self, lost: psycopg.Error | None) -> psycopg.Connection[Row]:
        left = self.deadline - time.monotonic()
        try:
            if lost is not None and left <= 0:
                raise lost
            return self.pool.getconn(timeout=max(left, 0.001))
        except psycopg.Error as error:  # PoolTimeout, or the last attempt's failure
            log.warning("read store unreachable: %s", first_line(error))
            msg = "the read store could not be reached; try again shortly"
            raise StoreUnavailableError(msg) from error

    def renew(self, lost: psycopg.Error) -> psycopg.Connection[Row]:
        """Gives the lost connection back (the pool drops it) and takes another: after the first
        loss the idle connections are tested once (they were likely cut off together), after
        later ones the reader pauses, with backoff, until the budget is spent."""
        self.renewals += 1
        if self.conn is not None:
            self.pool.putconn(self.conn)
            self.conn = None
        if self.renewals == 1:
            with contextlib.suppress(psycopg.Error):
                self.pool.check()
        else:
            time.sleep(min(backoff(self.renewals - 1), max(0.0, self.deadline - time.monotonic())))
        self.conn = self._checkout(lost)
        return self.conn


def stored_time(value: Any) -> datetime:
    """A time as a view gives it back: PostgreSQL answers datetimes, SQLite the UTC ISO text written."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def list_rows(
    store: ReadStore, table: str, key: str, filters: dict[str, str | None], after: str | None, limit: int
) -> list[Row]:
    """A page of a view ordered by its business key, after the key `after`, with the given equalities."""
    where, params = [f"{key} > ?"], [after or ""]
    for column, value in filters.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    with store.reader() as tx:
        return tx.execute(
            f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY {key} LIMIT ?",  # noqa: S608
            [*params, limit],
        )


def open_read_store(settings: Settings) -> ReadStore:
    if settings.is_postgres:
        return PostgresReadStore(settings, store_budget=settings.store_budget_s)
    if settings.is_memory:
        msg = "read models need a database: use sqlite:/// or postgresql://, not memory://"
        raise ValueError(msg)
    return SQLiteReadStore(str(settings.sqlite_path))
