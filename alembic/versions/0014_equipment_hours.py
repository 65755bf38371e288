"""Hourly summaries of each equipment's time and counts, and the marks saying where its history
changed since (projections/performance/summary.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("rm_equipment_hours", "rm_equipment_summary", "rm_summary_dirty", "rm_reason_dirty", "rm_count_hours")


def upgrade(settings: Settings) -> None:
    ts = "TIMESTAMPTZ" if settings.is_postgres else "TEXT"
    real = "DOUBLE PRECISION" if settings.is_postgres else "REAL"
    op.execute(
        f"""CREATE TABLE rm_equipment_hours (
            equipment_code TEXT NOT NULL, hour {ts} NOT NULL, pbt_s {real} NOT NULL, aust_s {real} NOT NULL,
            down_s {real} NOT NULL, planned_down_s {real} NOT NULL, minor_s {real} NOT NULL,
            breakdowns INTEGER NOT NULL, PRIMARY KEY (equipment_code, hour))"""
    )
    op.execute(f"CREATE TABLE rm_equipment_summary (equipment_code TEXT PRIMARY KEY, until {ts} NOT NULL)")
    # Where each equipment's history changed, an hour at a time: the earliest change and the last
    # position (the states view marks its changes, the reasons view its reasons and splits).
    for table in ("rm_summary_dirty", "rm_reason_dirty"):
        op.execute(
            f"""CREATE TABLE {table} (
                equipment_code TEXT NOT NULL, hour {ts} NOT NULL, at {ts} NOT NULL, position BIGINT NOT NULL,
                PRIMARY KEY (equipment_code, hour))"""
        )
    op.execute(
        f"""CREATE TABLE rm_count_hours (
            equipment_code TEXT NOT NULL, hour {ts} NOT NULL, order_number TEXT NOT NULL, source TEXT NOT NULL,
            good BIGINT NOT NULL, reject BIGINT NOT NULL, PRIMARY KEY (equipment_code, hour, order_number, source))"""
    )
    if settings.is_postgres:
        for table in TABLES:
            op.execute(f'ALTER TABLE {table} OWNER TO "{settings.app_role}"')


def downgrade(settings: Settings) -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
