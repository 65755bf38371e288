"""The equipment state and mode timelines: each change with its source time, in the read store.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("rm_equipment_states", "rm_equipment_modes")


def upgrade(settings: Settings) -> None:
    ts = "TIMESTAMPTZ" if settings.is_postgres else "TEXT"
    op.execute(
        f"""CREATE TABLE rm_equipment_states (
            equipment_code TEXT NOT NULL, at {ts} NOT NULL, position BIGINT NOT NULL, state TEXT NOT NULL,
            kind TEXT NOT NULL, in_model BOOLEAN NOT NULL, command TEXT, raw_code TEXT, actor_id TEXT NOT NULL,
            PRIMARY KEY (equipment_code, at, position))"""
    )
    op.execute(
        f"""CREATE TABLE rm_equipment_modes (
            equipment_code TEXT NOT NULL, at {ts} NOT NULL, position BIGINT NOT NULL, mode TEXT NOT NULL,
            actor_id TEXT NOT NULL, PRIMARY KEY (equipment_code, at, position))"""
    )
    if settings.is_postgres:
        for table in TABLES:
            op.execute(f'ALTER TABLE {table} OWNER TO "{settings.app_role}"')


def downgrade(settings: Settings) -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
