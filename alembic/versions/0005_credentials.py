"""Credentials: the secrets authentication checks, kept out of the event log.

Password hashes (argon2id), later TOTP secrets and API key hashes: one row per principal. Only the
authentication service reads the table; events say that a secret changed, never its value. On
PostgreSQL the application role may read, add and update rows (a rehash on sign-in when the
hashing parameters change), never delete them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade(settings: Settings) -> None:
    ts = "timestamptz" if settings.is_postgres else "TEXT"
    op.execute(
        f"""CREATE TABLE credentials (
            principal_id TEXT PRIMARY KEY,
            password_hash TEXT,
            password_set_at {ts}
        )"""
    )
    if settings.is_postgres:
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON credentials TO "{settings.app_role}"')


def downgrade(settings: Settings) -> None:
    op.execute("DROP TABLE credentials")
