"""Second factors: each person's TOTP secret (encrypted with the credentials key, bound to its row),
the last time step a code was accepted for (a code is never accepted twice), and the hashes of the
one-time recovery codes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ("totp_pending", "totp_secret", "totp_last_step", "recovery_codes")


def upgrade(settings: Settings) -> None:
    blob = "bytea" if settings.is_postgres else "BLOB"
    for column, kind in zip(COLUMNS, (blob, blob, "BIGINT", "TEXT"), strict=True):
        op.execute(f"ALTER TABLE credentials ADD COLUMN {column} {kind}")


def downgrade(settings: Settings) -> None:
    for column in COLUMNS:
        op.execute(f"ALTER TABLE credentials DROP COLUMN {column}")
