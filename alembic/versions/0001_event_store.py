"""The event store: events, command receipts, immutability and the application role.

Alembic owns every table, the event tables included; the eventsourcing library runs with
CREATE_TABLE=n. On PostgreSQL the two keys that detect a conflict (an event version written twice, a
command id recorded twice) are checked at COMMIT: a violation in the middle of psycopg's pipeline
would skip the statements queued after it and leave the connection believing they were prepared.
The DDL matches what eventsourcing 9.5 expects (events table, notification index and composite type
on PostgreSQL; a rowid table on SQLite).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EVENTS = "chronicle_events"


def upgrade(settings: Settings) -> None:
    if settings.is_postgres:
        _upgrade_postgres(settings)
    else:
        _upgrade_sqlite()


def _upgrade_postgres(settings: Settings) -> None:
    schema = settings.postgres().schema
    role = settings.app_role
    for statement in (
        f"""CREATE TABLE {EVENTS} (
            originator_id uuid NOT NULL,
            originator_version bigint NOT NULL,
            topic text,
            state bytea,
            notification_id bigserial,
            PRIMARY KEY (originator_id, originator_version) DEFERRABLE INITIALLY DEFERRED
        ) WITH (autovacuum_vacuum_threshold = 100000000, autovacuum_vacuum_scale_factor = 0.5,
                autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.01)""",
        f"CREATE UNIQUE INDEX {EVENTS}_notification_id_idx ON {EVENTS} (notification_id ASC)",
        "CREATE TYPE stored_event_uuid AS (originator_id uuid, originator_version bigint, topic text, state bytea)",
        """CREATE TABLE command_receipts (
            command_id text PRIMARY KEY DEFERRABLE INITIALLY DEFERRED,
            command_type text NOT NULL,
            result bytea NOT NULL,
            originator_id uuid,
            originator_version bigint,
            recorded_at timestamptz NOT NULL DEFAULT now()
        )""",
        """CREATE FUNCTION chronicle_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on %.% refused: the record is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
    ):
        op.execute(statement)
    for table in (EVENTS, "command_receipts"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION chronicle_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION chronicle_refuse_change()"
        )
    op.execute(
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" LOGIN;
            END IF;
        END $$"""
    )
    op.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    op.execute(f'GRANT SELECT, INSERT ON {EVENTS}, command_receipts TO "{role}"')
    op.execute(f'GRANT USAGE ON SEQUENCE {EVENTS}_notification_id_seq TO "{role}"')


def _upgrade_sqlite() -> None:
    op.execute(
        """CREATE TABLE stored_events (
            originator_id TEXT,
            originator_version INTEGER,
            topic TEXT,
            state BLOB,
            PRIMARY KEY (originator_id, originator_version)
        )"""
    )
    op.execute(
        """CREATE TABLE command_receipts (
            command_id TEXT PRIMARY KEY,
            command_type TEXT NOT NULL,
            result BLOB NOT NULL,
            originator_id TEXT,
            originator_version INTEGER,
            recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )"""
    )
    for table in ("stored_events", "command_receipts"):
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{action} on {table} refused: the record is append-only'); END"
            )


def downgrade(settings: Settings) -> None:
    msg = "the event store is never dropped by a migration"
    raise NotImplementedError(msg)
