"""Receipts keep a fingerprint of their command's payload.

A repeat under a used Idempotency-Key was answered from the first receipt whatever it asked for, so
an integrator who reused a key for another payload lost that command and was told it succeeded. The
fingerprint (SHA-256 of the command's type and fields, less its id) lets a repeat be answered only
when it asks the same; receipts recorded before have none, and are answered as before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade(settings: Settings) -> None:
    kind = "bytea" if settings.is_postgres else "BLOB"
    op.execute(f"ALTER TABLE command_receipts ADD COLUMN fingerprint {kind}")


def downgrade(settings: Settings) -> None:
    op.execute("ALTER TABLE command_receipts DROP COLUMN fingerprint")
