"""Failed sign-ins: how many in a row, and until when the account is locked for them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade(settings: Settings) -> None:
    ts = "timestamptz" if settings.is_postgres else "TEXT"
    op.execute("ALTER TABLE credentials ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0")
    op.execute(f"ALTER TABLE credentials ADD COLUMN locked_until {ts}")


def downgrade(settings: Settings) -> None:
    op.execute("ALTER TABLE credentials DROP COLUMN locked_until")
    op.execute("ALTER TABLE credentials DROP COLUMN failed_sign_ins")
