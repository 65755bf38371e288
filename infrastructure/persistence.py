"""Event store recorders that also write command receipts in the same transaction.

A receipt row per command makes commands idempotent: a repeated command id violates the receipt's
primary key, the whole transaction rolls back, and the caller is answered from the first receipt.
Because the receipt commits with the events, an acknowledgement lost after COMMIT is also resolved.

On PostgreSQL the library serialises writers with `LOCK TABLE ... IN EXCLUSIVE MODE`, which needs
UPDATE or DELETE privilege on the events table. Chronicle's application role has neither, so the
same serialisation is taken with a transaction-scoped advisory lock instead.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg.pq import TransactionStatus
from psycopg.sql import SQL, Identifier

from application.ports import CommandReceipt, StoredReceipt
from infrastructure.settings import RECEIPTS_TABLE

CHECKOUT_TIMEOUT_S = 1.0
RECONNECT_S = 2.0


class SQLiteChronicleRecorder(SQLiteApplicationRecorder):
    """SQLite recorder writing receipts with the events they acknowledge."""

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        receipts: Sequence[CommandReceipt] = kwargs.get("receipts", ())
        if receipts:
            c.executemany(
                f"INSERT INTO {RECEIPTS_TABLE} "  # noqa: S608 - a constant table name
                "(command_id, command_type, result, originator_id, originator_version, fingerprint) "
                "VALUES (?,?,?,?,?,?)",
                [
                    (
                        r.command_id,
                        r.command_type,
                        r.result,
                        r.originator_id.hex if r.originator_id else None,
                        r.originator_version,
                        r.fingerprint,
                    )
                    for r in receipts
                ],
            )
        return notification_ids

    def select_receipts(self, command_ids: Sequence[str]) -> dict[str, StoredReceipt]:
        if not command_ids:
            return {}
        marks = ",".join("?" * len(command_ids))
        statement = (
            "SELECT r.command_id, r.command_type, r.result, e.rowid AS position, r.fingerprint "  # noqa: S608
            f"FROM {RECEIPTS_TABLE} r LEFT JOIN {self.events_table_name} e "
            "ON e.originator_id = r.originator_id AND e.originator_version = r.originator_version "
            f"WHERE r.command_id IN ({marks})"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, list(command_ids))
            return {
                row["command_id"]: StoredReceipt(
                    row["command_id"], row["command_type"], row["result"], row["position"], row["fingerprint"]
                )
                for row in c.fetchall()
            }


class PostgresChronicleRecorder(PostgresApplicationRecorder):
    """PostgreSQL recorder writing receipts with the events, serialised by an advisory lock.

    A batch is one round trip: BEGIN, the lock (with its timeout) and the notification, the
    receipts, the events and COMMIT go out as one pipeline, answered at one sync (the library's
    path waits three times). The receipts' and events' keys are checked at COMMIT (deferred), so a
    repeated command fails there, after every other statement has run.

    Every psycopg error, the pipeline's included, leaves through the datastore's `get_connection`,
    which turns it into the library's class (a lost or refused connection, a pool timeout: its
    OperationalError; a repeated key: its IntegrityError), so callers tell the kinds apart the same
    way on every path. A connection lost after COMMIT was sent leaves the outcome unknown: the
    receipt tells.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # A checkout waits for a free connection at most this long, not the pool's 30 s: while the
        # server is down it waits for nothing, and the bus's own budget decides when to give up.
        datastore.pool.timeout = min(datastore.pool.timeout, CHECKOUT_TIMEOUT_S)
        # A pool backs off between reconnection attempts (1, 2, 4 ... s): it gives up after a couple of
        # seconds instead, so that the next checkout tries at once once the server is back.
        datastore.pool.reconnect_timeout = RECONNECT_S
        lock_key = zlib.crc32(f"{datastore.schema}.{events_table_name}".encode())
        schema = Identifier(datastore.schema)
        self.lock_statement = (
            SQL("SELECT set_config('lock_timeout', {0}, true), pg_advisory_xact_lock({1}), pg_notify({2}, '')")
            .format(f"{self.datastore.lock_timeout}s", lock_key, self.channel_name)
            .as_string()
        )
        # Rows go as a few binary arrays: the library's array of a composite type is dumped as
        # text with every byte of state escaped, which costs many times more.
        self.insert_receipts_statement = (
            SQL(
                "INSERT INTO {0}.{1} "
                "(command_id, command_type, result, originator_id, originator_version, fingerprint) "
                "SELECT * FROM unnest(%b::text[], %b::text[], %b::bytea[], %b::uuid[], %b::bigint[], %b::bytea[])"
            )
            .format(schema, Identifier(RECEIPTS_TABLE))
            .as_string()
        )
        self.insert_events_statement = (
            SQL(
                "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
                "RETURNING notification_id"
            )
            .format(schema, Identifier(events_table_name))
            .as_string()
        )
        self.select_receipts_statement = SQL(
            "SELECT r.command_id, r.command_type, r.result, e.notification_id AS position, r.fingerprint "
            "FROM {0}.{1} r LEFT JOIN {0}.{2} e "
            "ON e.originator_id = r.originator_id AND e.originator_version = r.originator_version "
            "WHERE r.command_id = ANY(%s)"
        ).format(schema, Identifier(RECEIPTS_TABLE), Identifier(events_table_name))

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        receipts: Sequence[CommandReceipt] = kwargs.get("receipts", ())
        failure: psycopg.Error | None = None
        ids: list[int] = []
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.cursor() as curs, conn.cursor() as inserted:
                try:
                    curs.execute(b"BEGIN")
                    curs.execute(self.lock_statement, prepare=True)
                    if receipts:
                        columns = [list(column) for column in zip(*receipts, strict=True)]
                        curs.execute(self.insert_receipts_statement, columns, prepare=True)
                    if stored_events:
                        columns = [
                            [e.originator_id for e in stored_events],
                            [e.originator_version for e in stored_events],
                            [e.topic for e in stored_events],
                            [e.state for e in stored_events],
                        ]
                        inserted.execute(self.insert_events_statement, columns, prepare=True)
                    curs.execute(b"COMMIT")
                    pipeline.sync()
                    if stored_events:
                        ids = [row["notification_id"] for row in inserted.fetchall()]
                except psycopg.Error as error:
                    failure = error  # raised once the pipeline is closed, as the library does
            if failure is not None:
                if conn.info.transaction_status == TransactionStatus.INERROR:
                    # It failed before COMMIT, so the statements after the failure were skipped:
                    # psycopg may think some of them prepared. A new connection knows no such thing.
                    conn.rollback()
                    conn.close()
                raise failure
        return ids

    # The library retries these ten times, 0.2 s apart, whatever the failure: the bus and the
    # application retry connection failures themselves, within their budget, so they run once here.
    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        return PostgresApplicationRecorder.select_events.__wrapped__(self, *args, **kwargs)  # type: ignore[attr-defined]

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        return PostgresApplicationRecorder.select_notifications.__wrapped__(self, *args, **kwargs)  # type: ignore[attr-defined]

    def max_notification_id(self) -> int | None:
        return PostgresApplicationRecorder.max_notification_id.__wrapped__(self)  # type: ignore[attr-defined,no-any-return]

    def discard_broken_connections(self) -> None:
        """Tests the idle pooled connections and replaces those the server has closed (terminated,
        restarted): called after a connection failure, never on the hot path."""
        with contextlib.suppress(psycopg.Error):
            self.datastore.pool.check()

    def select_receipts(self, command_ids: Sequence[str]) -> dict[str, StoredReceipt]:
        if not command_ids:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_receipts_statement, (list(command_ids),), prepare=True)
            return {
                row["command_id"]: StoredReceipt(
                    row["command_id"],
                    row["command_type"],
                    bytes(row["result"]),
                    row["position"],
                    None if row["fingerprint"] is None else bytes(row["fingerprint"]),
                )
                for row in curs.fetchall()
            }


class MemoryChronicleRecorder(POPOApplicationRecorder):
    """The library's in-memory recorder with receipts, for unit tests (`MES_DATABASE_URL=memory://`)."""

    def __init__(self) -> None:
        super().__init__()
        self._receipts: dict[str, tuple[CommandReceipt, int | None]] = {}

    def _insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        receipts: Sequence[CommandReceipt] = kwargs.get("receipts", ())
        with self._database_lock:
            for receipt in receipts:
                if receipt.command_id in self._receipts:
                    msg = f"command {receipt.command_id} already recorded"
                    raise IntegrityError(msg)
            notification_ids = super()._insert_events(stored_events, **kwargs) or []
            position_of = {
                (s.originator_id, s.originator_version): n for s, n in zip(stored_events, notification_ids, strict=True)
            }
            for receipt in receipts:
                position = position_of.get((receipt.originator_id, receipt.originator_version))
                self._receipts[receipt.command_id] = (receipt, position)
            return notification_ids

    def select_receipts(self, command_ids: Sequence[str]) -> dict[str, StoredReceipt]:
        with self._database_lock:
            found = (self._receipts.get(command_id) for command_id in command_ids)
            return {
                r.command_id: StoredReceipt(r.command_id, r.command_type, r.result, position, r.fingerprint)
                for r, position in filter(None, found)
            }


class MemoryFactory(POPOFactory):
    def application_recorder(self) -> ApplicationRecorder:
        return MemoryChronicleRecorder()
