"""Sessions remember the refresh token their last refresh replaced: its reuse means it was copied,
and ends the session (RFC 9700 §4.14.2).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade(settings: Settings) -> None:
    op.execute("ALTER TABLE sessions ADD COLUMN previous_refresh_hash TEXT")
    op.execute("CREATE INDEX sessions_previous_refresh_idx ON sessions (previous_refresh_hash)")


def downgrade(settings: Settings) -> None:
    op.execute("DROP INDEX sessions_previous_refresh_idx")
    op.execute("ALTER TABLE sessions DROP COLUMN previous_refresh_hash")
