"""API keys of machine accounts: the hash of each key, never the key, with its expiry and revocation.

A key is shown once when it is issued; its visible prefix tells keys apart in events, logs and
lists. On PostgreSQL the application role may read, add and update rows (revoke, shorten), never
delete them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade(settings: Settings) -> None:
    ts = "timestamptz" if settings.is_postgres else "TEXT"
    op.execute(
        f"""CREATE TABLE api_keys (
            prefix TEXT PRIMARY KEY,
            principal_id TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            issued_at {ts} NOT NULL,
            expires_at {ts} NOT NULL,
            revoked_at {ts}
        )"""
    )
    op.execute("CREATE INDEX api_keys_principal_idx ON api_keys (principal_id)")
    if settings.is_postgres:
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON api_keys TO "{settings.app_role}"')


def downgrade(settings: Settings) -> None:
    op.execute("DROP TABLE api_keys")
