"""People's sessions (hashes of their bearer and refresh tokens) and the security log.

On PostgreSQL the application role may read, open and update sessions (refresh, touch, revoke),
and may only read and append to the security log: no UPDATE, no DELETE.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade(settings: Settings) -> None:
    ts = "timestamptz" if settings.is_postgres else "TEXT"
    op.execute(
        f"""CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            access_hash TEXT NOT NULL UNIQUE,
            access_expires_at {ts} NOT NULL,
            refresh_hash TEXT NOT NULL UNIQUE,
            refresh_expires_at {ts} NOT NULL,
            created_at {ts} NOT NULL,
            last_seen_at {ts} NOT NULL,
            revoked_at {ts}
        )"""
    )
    op.execute("CREATE INDEX sessions_username_idx ON sessions (username)")
    serial = "BIGSERIAL PRIMARY KEY" if settings.is_postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    op.execute(
        f"""CREATE TABLE security_events (
            id {serial},
            at {ts} NOT NULL,
            kind TEXT NOT NULL,
            principal TEXT,
            client TEXT,
            detail TEXT NOT NULL
        )"""
    )
    op.execute("CREATE INDEX security_events_at_idx ON security_events (at)")
    op.execute("CREATE INDEX security_events_principal_idx ON security_events (principal, id)")
    if settings.is_postgres:
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON sessions TO "{settings.app_role}"')
        op.execute(f'GRANT SELECT, INSERT ON security_events TO "{settings.app_role}"')
        op.execute(f'GRANT USAGE ON SEQUENCE security_events_id_seq TO "{settings.app_role}"')


def downgrade(settings: Settings) -> None:
    op.execute("DROP TABLE security_events")
    op.execute("DROP TABLE sessions")
