"""Counts per equipment, and which order ran on which equipment when (to attribute them).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("rm_equipment_counts", "rm_order_routing", "rm_order_runs")


def upgrade(settings: Settings) -> None:
    ts = "TIMESTAMPTZ" if settings.is_postgres else "TEXT"
    num = "NUMERIC" if settings.is_postgres else "TEXT"
    op.execute(
        f"""CREATE TABLE rm_equipment_counts (
            equipment_code TEXT NOT NULL, at {ts} NOT NULL, position BIGINT NOT NULL, since {ts},
            good BIGINT NOT NULL, reject BIGINT NOT NULL, source TEXT NOT NULL, order_number TEXT,
            PRIMARY KEY (equipment_code, at, position))"""
    )
    op.execute(
        f"""CREATE TABLE rm_order_routing (
            order_number TEXT NOT NULL, order_id TEXT NOT NULL, equipment_code TEXT NOT NULL,
            product_code TEXT NOT NULL, operation INTEGER NOT NULL, ideal_cycle_time_s {num} NOT NULL,
            PRIMARY KEY (order_number, operation))"""
    )
    op.execute(
        f"""CREATE TABLE rm_order_runs (
            equipment_code TEXT NOT NULL, order_number TEXT NOT NULL, started_at {ts} NOT NULL,
            ended_at {ts}, position BIGINT NOT NULL, PRIMARY KEY (equipment_code, order_number))"""
    )
    op.execute("CREATE INDEX rm_order_routing_id_idx ON rm_order_routing (order_id)")
    if settings.is_postgres:
        for table in TABLES:
            op.execute(f'ALTER TABLE {table} OWNER TO "{settings.app_role}"')


def downgrade(settings: Settings) -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
